// Sleeping synchronisation built on the scheduler: wait queues, mutexes and
// completions. None of them allocates: waiters link through WaitEntry
// objects on their own stacks.
#pragma once

#include "kernel/sched/scheduler.h"
#include "kernel/spinlock.h"

namespace keel::sched {

// One thread waiting on one queue. A thread may wait on several queues at
// once (poll), with one entry each; entries live on the waiter's stack.
struct WaitEntry {
    ListNode node;
    Thread* thread = nullptr;
    bool woken = false;  // set by the waker before it wakes the thread
    // Callback entries (epoll): a wake-up calls func(entry, key) under the
    // queue's lock instead of waking `thread`, and the entry stays queued.
    // `key` holds the POLL* events the waker announced (0: unknown). func
    // returns true if it woke a waiter of its own; an `exclusive` entry
    // that did so stops the wake-up for the exclusive entries after it
    // (EPOLLEXCLUSIVE).
    bool (*func)(WaitEntry& e, u32 key) = nullptr;
    bool exclusive = false;
};

class WaitQueue {
public:
    WaitQueue() : lock_(LockRank::WaitQueue) {}
    // Queues woken under another wait queue's lock (an epoll file's own
    // queues, woken from its callbacks) need a different rank.
    explicit WaitQueue(LockRank rank) : lock_(rank) {}

    // Sleeps until cond() holds. cond is evaluated under the queue's lock,
    // and wakers change the state it reads before calling wake_*.
    template <typename F>
    void wait_until(F&& cond) {
        (void)wait(cond, Sleep::Uninterruptible);
    }
    // The same, but a signal for the thread ends the wait: false then
    // (unless cond() holds after all).
    template <typename F>
    bool wait_until_interruptible(F&& cond) {
        return wait(cond, Sleep::Interruptible);
    }
    // The same, but only a fatal signal ends the wait (Linux's
    // TASK_KILLABLE): other signals stay pending for later.
    template <typename F>
    bool wait_until_killable(F&& cond) {
        return wait(cond, Sleep::Killable);
    }

    // Runs f() under the queue's lock (to change what waiters test), then
    // wakes one or all waiters.
    template <typename F>
    void update_and_wake(F&& f, bool all, u32 key = 0) {
        SpinlockGuard g(lock_);
        f();
        wake_locked(all, key);
    }
    void wake_one() { update_and_wake([] {}, false); }
    void wake_all() { update_and_wake([] {}, true); }
    // wake_all announcing which POLL* events happened, for callback
    // entries that filter on them.
    void wake_all(u32 key) { update_and_wake([] {}, true, key); }
    usize waiters() {
        SpinlockGuard g(lock_);
        return waiters_.size();
    }

    // For waits on several queues (poll): the entry stays queued until the
    // queue wakes it (woken set, entry removed) or remove() takes it off.
    void add(WaitEntry& e) {
        SpinlockGuard g(lock_);
        e.woken = false;
        waiters_.push_back(e);
    }
    void remove(WaitEntry& e) {
        SpinlockGuard g(lock_);
        if (e.node.linked()) waiters_.remove(e);
    }

private:
    enum class Sleep { Uninterruptible, Interruptible, Killable };
    static bool ends_sleep(Sleep how) {
        if (how == Sleep::Interruptible) return sig::interrupt_pending();
        return how == Sleep::Killable && sig::fatal_signal_pending() != 0;
    }

    template <typename F>
    bool wait(F&& cond, Sleep how) {
        bool interruptible = how != Sleep::Uninterruptible;
        Thread* self = current();
        WaitEntry e;
        e.thread = self;
        for (;;) {
            {
                SpinlockGuard g(lock_);
                if (cond()) return true;
                if (interruptible) __atomic_store_n(&self->interruptible, true, __ATOMIC_SEQ_CST);
                set_current_blocked();
                e.woken = false;
                if (!e.node.linked()) waiters_.push_back(e);
            }
            // After Blocked is visible: a sender that set the signal before
            // is seen here, one that sets it later sees us interruptible.
            bool interrupted = ends_sleep(how);
            if (!interrupted) schedule();
            else wake(self);
            __atomic_store_n(&self->interruptible, false, __ATOMIC_SEQ_CST);
            SpinlockGuard g(lock_);
            if (e.node.linked()) waiters_.remove(e);
            if (interruptible && (interrupted || ends_sleep(how))) return cond();
        }
    }

    void wake_locked(bool all, u32 key = 0) {
        bool exclusive_done = false;
        for (WaitEntry* e = waiters_.front(); e;) {
            WaitEntry* next = waiters_.next(*e);
            if (e->func) {
                if (!(e->exclusive && exclusive_done) && e->func(*e, key) && e->exclusive) exclusive_done = true;
                e = next;
                continue;
            }
            waiters_.remove(*e);
            // The entry may vanish once `woken` is seen (its owner holds
            // our lock to remove it, but read the thread first anyway).
            Thread* t = e->thread;
            __atomic_store_n(&e->woken, true, __ATOMIC_SEQ_CST);
            wake(t);
            if (!all) break;
            e = next;
        }
    }

    Spinlock lock_;
    IntrusiveList<WaitEntry, &WaitEntry::node> waiters_;
};

// A sleeping lock. Uncontended, taking and releasing it is one atomic
// instruction each; only a release with sleepers waiting goes through the
// wait queue.
class Mutex {
public:
    void lock() {
        u32 expected = FREE;
        if (!__atomic_compare_exchange_n(&state_, &expected, LOCKED, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            // Marked contended before sleeping (the queue's lock orders the
            // mark against the holder's release), so the release wakes us.
            wq_.wait_until([&] { return __atomic_exchange_n(&state_, CONTENDED, __ATOMIC_ACQUIRE) == FREE; });
        }
        owner_ = current();
    }
    bool try_lock() {
        u32 expected = FREE;
        if (!__atomic_compare_exchange_n(&state_, &expected, LOCKED, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return false;
        owner_ = current();
        return true;
    }
    void unlock() {
        KASSERT(owner_ == current());
        owner_ = nullptr;
        if (__atomic_exchange_n(&state_, FREE, __ATOMIC_RELEASE) == CONTENDED) wq_.wake_one();
    }
    bool is_locked() const { return __atomic_load_n(&state_, __ATOMIC_RELAXED) != FREE; }

private:
    enum : u32 { FREE, LOCKED, CONTENDED };
    u32 state_ = FREE;
    Thread* owner_ = nullptr;  // for the holder's own checks
    WaitQueue wq_;
};

class MutexGuard {
public:
    explicit MutexGuard(Mutex& m) : m_(m) { m_.lock(); }
    ~MutexGuard() { m_.unlock(); }
    MutexGuard(const MutexGuard&) = delete;
    MutexGuard& operator=(const MutexGuard&) = delete;

private:
    Mutex& m_;
};

class Completion {
public:
    void wait() {
        wq_.wait_until([&] {
            if (done_ == 0) return false;
            if (done_ != ALL) --done_;
            return true;
        });
    }
    void complete() { wq_.update_and_wake([&] { if (done_ != ALL) ++done_; }, false); }
    void complete_all() { wq_.update_and_wake([&] { done_ = ALL; }, true); }
    bool done() const { return __atomic_load_n(&done_, __ATOMIC_RELAXED) != 0; }

private:
    static constexpr u32 ALL = ~0u;
    u32 done_ = 0;
    WaitQueue wq_;
};

}  // namespace keel::sched
