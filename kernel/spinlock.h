// Spinlocks that disable interrupts while held and restore the previous
// interrupt state on release, plus SpinlockProtected<T>, which keeps data
// inside its lock. Debug builds check lock ranks: a CPU may only take a lock
// of higher rank than every lock it already holds, which rules out ABBA
// deadlocks by construction.
#pragma once

#include "arch/x86_64/cpu.h"
#include "kernel/percpu.h"
#include "lib/utility.h"

namespace keel {

enum class LockRank : u8 {
    None = 0,        // unranked: not checked
    Psi = 7,         // PSI groups' aggregation and triggers: trigger events wake pollers under it
    Cgroup = 8,      // cgroup membership and pids counts: wakes cgroup.events pollers under it
    PosixTimer = 9,  // a process's POSIX and CPU timers: firing sends signals under it
    WaitQueue = 10,  // wake-ups take the run-queue lock inside it
    Epoll = 11,      // an epoll's ready list, taken by its callbacks under a file's wait queue
    EpollWait = 12,  // an epoll's epoll_wait sleepers, woken under its ready-list lock
    Signal = 15,     // a process's signal state; sending wakes the target
    Scheduler = 20,  // a CPU's run queue
    Bandwidth = 22,  // a cgroup's cpu.max budget, charged under the run-queue lock
    Zombie = 25,     // dead threads waiting to be freed
    Timer = 30,      // a CPU's timer queue (armed under the run-queue lock)
    Slab = 40,       // a slab cache calls into the page allocator
    PageAlloc = 50,
    Vmem = 60,
    SmpCall = 70,
    FdTable = 170,   // a descriptor table: only file references are taken under it
    FsState = 171,   // a process's cwd and root: only path references are taken under it
    Device = 180,    // a device's buffers, also taken in its interrupt handler
    Console = 200,   // innermost: printk may be called under any lock
};

void lock_rank_acquire(LockRank r, const void* lock);
// Turns interrupts back on if `irq`, first sending the reschedule IPIs this
// CPU deferred meanwhile (sched::resched_cpu): they never go out while a
// spinlock is held, so the woken CPU does not spin on our lock while the
// IPI is on its way.
namespace sched {
void send_kicks();
}
inline void irq_restore(bool irq) {
    if (!irq) return;
    Cpu* c = current_cpu_raw();
    if (__builtin_expect(c && c->kick_mask, 0)) sched::send_kicks();
    arch::irq_enable();
}
void lock_rank_release(LockRank r, const void* lock);

class Spinlock {
public:
    constexpr explicit Spinlock(LockRank rank = LockRank::None) : rank_(rank) {}
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    // Returns the interrupt state to hand back to unlock().
    [[nodiscard]] bool lock() {
        bool irq = arch::irqs_enabled();
        arch::irq_disable();
#ifdef KEEL_DEBUG
        lock_rank_acquire(rank_, this);
#endif
        while (__atomic_exchange_n(&locked_, 1, __ATOMIC_ACQUIRE)) {
            while (__atomic_load_n(&locked_, __ATOMIC_RELAXED)) arch::cpu_relax();
        }
        return irq;
    }
    void unlock(bool irq) {
        __atomic_store_n(&locked_, 0, __ATOMIC_RELEASE);
#ifdef KEEL_DEBUG
        lock_rank_release(rank_, this);
#endif
        irq_restore(irq);
    }
    bool is_locked() const { return __atomic_load_n(&locked_, __ATOMIC_RELAXED); }
    // For the panic path only: take the lock over from a CPU that died.
    void force_unlock() { __atomic_store_n(&locked_, 0, __ATOMIC_RELEASE); }

private:
    u32 locked_ = 0;
    LockRank rank_;
};

class SpinlockGuard {
public:
    explicit SpinlockGuard(Spinlock& l) : lock_(l), irq_(l.lock()) {}
    ~SpinlockGuard() { lock_.unlock(irq_); }
    SpinlockGuard(const SpinlockGuard&) = delete;
    SpinlockGuard& operator=(const SpinlockGuard&) = delete;

private:
    Spinlock& lock_;
    bool irq_;
};

template <typename T>
class SpinlockProtected {
public:
    template <typename... Args>
    constexpr explicit SpinlockProtected(LockRank rank, Args&&... args)
        : lock_(rank), value_(forward<Args>(args)...) {}

    template <typename F>
    decltype(auto) with(F&& f) {
        SpinlockGuard g(lock_);
        return f(value_);
    }

    // Direct access for code that provably runs alone (early boot).
    T& unsafe_get() { return value_; }
    Spinlock& lock() { return lock_; }

private:
    Spinlock lock_;
    T value_;
};

}  // namespace keel
