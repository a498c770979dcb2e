// futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET,
// WAKE_BITSET, private and shared, with timeouts; futex_waitv(2); the
// robust-list registration. PI futexes are not implemented (ENOSYS).
//
// A futex is keyed as Linux keys it: a private one (FUTEX_PRIVATE_FLAG)
// by (address space, address); a shared one in a MAP_SHARED file mapping
// (shared anonymous memory and memfds are tmpfs files too) by (inode, file
// offset), so that processes mapping the same page at any address meet;
// a shared one anywhere else by (address space, address) again.
#include <linux/futex.h>
#include <linux/time.h>

#include "fs/core/file.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/syscall.h"
#include "kernel/time.h"
#include "kernel/uaccess.h"
#include "lib/alloc.h"
#include "mm/address_space.h"
#include "mm/slab.h"

namespace keel {

namespace {

struct Key {
    const void* object = nullptr;  // address space or inode
    u64 offset = 0;                // address or file offset
    bool operator==(const Key&) const = default;
};

// What a sleeping thread waits for. futex_waitv queues one Waiter per
// futex, all sharing one Wakeup: the first wake records its index.
struct Wakeup {
    int index = -1;
};

struct Waiter {
    ListNode node;
    Key key;
    u32 bitset = 0;
    sched::Thread* thread = nullptr;
    Wakeup* wakeup = nullptr;
    int index = 0;
};

// Buckets hold a sleeping lock: the user value is read under it, and that
// read may fault a page in.
struct Bucket {
    sched::Mutex lock;
    IntrusiveList<Waiter, &Waiter::node> waiters;
};

constexpr usize NBUCKETS = 256;
Bucket buckets[NBUCKETS];

Bucket& bucket_for(const Key& k) {
    u64 h = reinterpret_cast<u64>(k.object) ^ (k.offset * 0x9e3779b97f4a7c15ull);
    return buckets[(h >> 32) % NBUCKETS];
}

Key key_for(uptr addr, bool shared) {
    mm::AddressSpace* as = proc::current_process()->mm;
    Key k{as, addr};
    if (!shared) return k;
    as->with_vma(addr, [&](const mm::Vma* v) {
        if (v && v->shared() && v->file) k = Key{&v->file->inode(), v->offset + (addr - v->start)};
    });
    return k;
}

Result<u32> read_word(uptr addr) {
    if (addr & 3) return Error(EINVAL);
    return UserIn<u32>(addr).read();
}

bool woken(const Waiter& w) { return __atomic_load_n(&w.wakeup->index, __ATOMIC_SEQ_CST) >= 0; }

// Wakes up to n waiters on key matching bitset; lock held. Every waiter
// taken off the queue counts, as in Linux, even one of a futex_waitv that
// another futex woke first.
int wake_locked(Bucket& b, const Key& key, u32 bitset, int n) {
    int count = 0;
    b.waiters.for_each([&](Waiter& w) {
        if (count >= n || !(w.key == key) || !(w.bitset & bitset)) return;
        b.waiters.remove(w);
        sched::Thread* t = w.thread;  // w may vanish once the index is seen
        int expect = -1;
        __atomic_compare_exchange_n(&w.wakeup->index, &expect, w.index, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        sched::wake(t);
        ++count;
    });
    return count;
}

// One futex of a wait: its address, key and expected value.
struct WaitSpec {
    uptr addr;
    Key key;
    u32 val;
    u32 bitset;
};

// Takes w off its bucket if no wake did already. A requeue may move it
// meanwhile (under both buckets' locks): once the bucket its key names is
// locked, the key stays.
void dequeue(Waiter& w) {
    for (;;) {
        Bucket& b = bucket_for(w.key);
        sched::MutexGuard g(b.lock);
        if (&bucket_for(w.key) != &b) continue;
        if (w.node.linked()) b.waiters.remove(w);
        return;
    }
}

// Sleeps on every futex of specs (queued one after the other, each after
// checking its value) until one is woken, the deadline (monotonic ns, 0 =
// none) passes or a signal or a cgroup freeze interrupts it. Returns the
// index of the futex woken. Interrupted, an untimed wait restarts; a timed
// one says ERESTARTNOHAND: it ends with EINTR when a handler runs, SA_RESTART
// or not, and otherwise goes on towards the same deadline (futex_waitv's
// is absolute; futex_wait makes that a restart block).
Result<u64> wait_on(const WaitSpec* specs, Waiter* ws, usize n, u64 deadline_ns) {
    Wakeup wk;
    sched::Thread* self = sched::current();
    usize queued = 0;
    Status setup;
    for (; queued < n; ++queued) {
        Waiter& w = ws[queued];
        w.key = specs[queued].key;
        w.bitset = specs[queued].bitset;
        w.thread = self;
        w.wakeup = &wk;
        w.index = static_cast<int>(queued);
        Bucket& b = bucket_for(w.key);
        sched::MutexGuard g(b.lock);
        auto cur = read_word(specs[queued].addr);
        if (cur.is_error()) {
            setup = cur.error();
            break;
        }
        if (cur.value() != specs[queued].val) {
            setup = Error(EAGAIN);
            break;
        }
        b.waiters.push_back(w);
    }
    auto finish = [&](Result<u64> r) -> Result<u64> {
        for (usize i = 0; i < queued; ++i) dequeue(ws[i]);
        // A wake that came in meanwhile wins over a timeout or a signal.
        int idx = __atomic_load_n(&wk.index, __ATOMIC_SEQ_CST);
        if (idx >= 0) return static_cast<u64>(idx);
        return r;
    };
    if (setup.is_error()) return finish(setup.error());

    // The timer only for a timeout: the common untimed wait arms nothing.
    if (deadline_ns) {
        self->sleep_timer.fn = [](Timer* tm) { sched::wake(static_cast<sched::Thread*>(tm->data)); };
        self->sleep_timer.data = self;
    }
    for (;;) {
        // Blocked first, then the checks: a waker either sees us blocked or
        // we see its index (set_current_blocked and the waker's side are
        // sequentially consistent; a weaker store here once lost wake-ups).
        __atomic_store_n(&self->interruptible, true, __ATOMIC_SEQ_CST);
        sched::set_current_blocked();
        bool expired = deadline_ns && time::monotonic_ns() >= deadline_ns;
        bool interrupted = sig::interrupt_pending();
        if (woken(ws[0]) || expired || interrupted) {
            sched::wake(self);
        } else {
            if (deadline_ns) timer_arm(self->sleep_timer, deadline_ns);
            sched::schedule();
            if (deadline_ns) timer_cancel(self->sleep_timer);
        }
        __atomic_store_n(&self->interruptible, false, __ATOMIC_SEQ_CST);
        if (woken(ws[0])) return finish(0);
        expired = deadline_ns && time::monotonic_ns() >= deadline_ns;
        if (expired) return finish(Error(ETIMEDOUT));
        if (!sig::interrupt_pending()) continue;
        return finish(Error(deadline_ns ? sig::ERESTARTNOHAND : sig::ERESTARTSYS));
    }
}

Result<u64> futex_wait(uptr addr, u32 val, u64 deadline_ns, u32 bitset, bool shared) {
    if (!bitset) return Error(EINVAL);
    WaitSpec spec{addr, key_for(addr, shared), val, bitset};
    Waiter w;
    Result<u64> r = wait_on(&spec, &w, 1, deadline_ns);
    if (r.is_ok()) return 0;
    if (r.error().code() != sig::ERESTARTNOHAND) return r.error();
    // A relative timeout must not start again (Linux: futex_wait_restart).
    auto resume = [](const sig::RestartBlock& rb) {
        return futex_wait(rb.a[0], static_cast<u32>(rb.a[1]), rb.a[2], static_cast<u32>(rb.a[3]), rb.a[4] != 0);
    };
    return sig::restart_with({resume, {addr, val, deadline_ns, bitset, shared}});
}

// Two buckets locked together (requeue, wake_op), in address order so
// that two CPUs locking the same pair cannot deadlock.
class BucketPair {
public:
    BucketPair(Bucket& a, Bucket& b) : first_(&a < &b ? &a : &b), second_(&a < &b ? &b : &a) {
        first_->lock.lock();
        if (second_ != first_) second_->lock.lock();
    }
    ~BucketPair() {
        if (second_ != first_) second_->lock.unlock();
        first_->lock.unlock();
    }
    BucketPair(const BucketPair&) = delete;
    BucketPair& operator=(const BucketPair&) = delete;

private:
    Bucket* first_;
    Bucket* second_;
};

Result<u64> futex_requeue(uptr addr, uptr addr2, int nwake, int nrequeue, const u32* expect, bool shared) {
    if (nwake < 0 || nrequeue < 0) return Error(EINVAL);
    Key k1 = key_for(addr, shared), k2 = key_for(addr2, shared);
    Bucket& b1 = bucket_for(k1);
    Bucket& b2 = bucket_for(k2);
    BucketPair locked(b1, b2);
    if (expect) {
        auto cur = read_word(addr);
        if (cur.is_error()) return cur.error();
        if (cur.value() != *expect) return Error(EAGAIN);
    }
    int done = wake_locked(b1, k1, FUTEX_BITSET_MATCH_ANY, nwake);
    int moved = 0;
    b1.waiters.for_each([&](Waiter& w) {
        if (moved >= nrequeue || !(w.key == k1)) return;
        b1.waiters.remove(w);
        w.key = k2;
        b2.waiters.push_back(w);
        ++moved;
    });
    return static_cast<u64>(done + (expect ? moved : 0));
}

// FUTEX_WAKE_OP: *addr2 = op(*addr2, oparg); wake on addr; if the old value
// of *addr2 satisfies cmp, wake on addr2 too.
Result<u64> futex_wake_op(uptr addr, uptr addr2, int nwake, int nwake2, u32 encoded, bool shared) {
    u32 op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
    u32 oparg = (encoded >> 12) & 0xfff, cmparg = encoded & 0xfff;
    if ((encoded >> 31) & 1) oparg = oparg >= 32 ? 0 : 1u << oparg;  // FUTEX_OP_OPARG_SHIFT
    Key k1 = key_for(addr, shared), k2 = key_for(addr2, shared);
    Bucket& b1 = bucket_for(k1);
    Bucket& b2 = bucket_for(k2);
    BucketPair locked(b1, b2);
    u32 old = TRY(read_word(addr2));
    u32 nv;
    switch (op) {
    case FUTEX_OP_SET: nv = oparg; break;
    case FUTEX_OP_ADD: nv = old + oparg; break;
    case FUTEX_OP_OR: nv = old | oparg; break;
    case FUTEX_OP_ANDN: nv = old & ~oparg; break;
    case FUTEX_OP_XOR: nv = old ^ oparg; break;
    default: return Error(ENOSYS);
    }
    TRY(UserOut<u32>(addr2).write(nv));
    bool c;
    i32 o = static_cast<i32>(old), a = static_cast<i32>(cmparg);
    switch (cmp) {
    case FUTEX_OP_CMP_EQ: c = o == a; break;
    case FUTEX_OP_CMP_NE: c = o != a; break;
    case FUTEX_OP_CMP_LT: c = o < a; break;
    case FUTEX_OP_CMP_LE: c = o <= a; break;
    case FUTEX_OP_CMP_GT: c = o > a; break;
    case FUTEX_OP_CMP_GE: c = o >= a; break;
    default: return Error(ENOSYS);
    }
    int count = wake_locked(b1, k1, FUTEX_BITSET_MATCH_ANY, nwake);
    if (c) count += wake_locked(b2, k2, FUTEX_BITSET_MATCH_ANY, nwake2);
    return static_cast<u64>(count);
}

Result<u64> futex_wake(uptr addr, u32 bitset, int n, bool shared) {
    Key k = key_for(addr, shared);
    Bucket& b = bucket_for(k);
    sched::MutexGuard g(b.lock);
    return static_cast<u64>(wake_locked(b, k, bitset, n));
}

struct Timespec64 {
    i64 sec, nsec;
};

Result<u64> timespec_ns(uptr user) {
    Timespec64 ts = TRY(UserIn<Timespec64>(user).read());
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000) return Error(EINVAL);
    return static_cast<u64>(ts.sec) * 1000000000 + static_cast<u64>(ts.nsec);
}

// An absolute time on CLOCK_REALTIME or CLOCK_MONOTONIC as a monotonic
// deadline (never 0, which means "none").
u64 deadline_from_absolute(u64 t, bool realtime) {
    u64 now = time::monotonic_ns();
    u64 clock_now = realtime ? time::realtime_ns() : now;
    u64 d = t > clock_now ? now + (t - clock_now) : now;
    return d ? d : 1;
}

// A robust futex of a dying thread: if the thread still owns it, mark it
// FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and wake one waiter. The word is
// read and written under the bucket lock, not atomically against user
// space (as FUTEX_WAKE_OP here). `pending`: the list_op_pending entry,
// whose unlock may have been half done (a zero word still wakes).
void owner_died(uptr uaddr, int tid, bool pi, bool pending) {
    if (uaddr & 3) return;
    Key k = key_for(uaddr, true);
    Bucket& b = bucket_for(k);
    sched::MutexGuard g(b.lock);
    auto v = UserIn<u32>(uaddr).read();
    if (v.is_error()) return;
    u32 uval = v.value();
    if (pending && !pi && !uval) {
        wake_locked(b, k, FUTEX_BITSET_MATCH_ANY, 1);
        return;
    }
    if ((uval & FUTEX_TID_MASK) != static_cast<u32>(tid)) return;
    if (UserOut<u32>(uaddr).write((uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED).is_error()) return;
    if (!pi && (uval & FUTEX_WAITERS)) wake_locked(b, k, FUTEX_BITSET_MATCH_ANY, 1);
}

}  // namespace

// Wakes one waiter on *addr (exit's CLONE_CHILD_CLEARTID, a shared wake as
// in Linux).
void futex_wake_address(uptr addr) { (void)futex_wake(addr, FUTEX_BITSET_MATCH_ANY, 1, true); }

// The robust list of a thread that is exiting (set_robust_list): every lock
// it still holds is handed to a waiter as "owner died" (EOWNERDEAD for
// robust pthread mutexes). Bit 0 of a link marks a PI futex; at most 2048
// entries, as Linux, so a looping list cannot hold the exit up.
void futex_exit_robust_list(uptr head, int tid) {
    robust_list_head h;
    if (copy_from_user(&h, head, sizeof(h)).is_error()) return;
    uptr pending = reinterpret_cast<uptr>(h.list_op_pending);
    uptr entry = reinterpret_cast<uptr>(h.list.next);
    for (int left = ROBUST_LIST_LIMIT; (entry & ~1ull) != head && left > 0; --left) {
        uptr next;
        if (copy_from_user(&next, entry & ~1ull, sizeof(next)).is_error()) return;
        if ((entry & ~1ull) != (pending & ~1ull))
            owner_died((entry & ~1ull) + static_cast<uptr>(h.futex_offset), tid, entry & 1, false);
        entry = next;
    }
    if (pending & ~1ull) owner_died((pending & ~1ull) + static_cast<uptr>(h.futex_offset), tid, pending & 1, true);
}

SYSCALL(futex) {
    uptr addr = args.a0;
    int op = static_cast<int>(args.a1);
    u32 val = static_cast<u32>(args.a2);
    int cmd = op & FUTEX_CMD_MASK;
    bool shared = !(op & FUTEX_PRIVATE_FLAG);
    // Only the waits with an absolute timeout may pick the realtime clock.
    bool realtime = op & FUTEX_CLOCK_REALTIME;
    if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2)
        return Error(ENOSYS);
    if (addr & 3) return Error(EINVAL);
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        u64 deadline = 0;
        if (args.a3) {
            u64 t = TRY(timespec_ns(args.a3));
            if (cmd == FUTEX_WAIT) {
                deadline = time::monotonic_ns() + t;  // relative
                if (!deadline) deadline = 1;
            } else {
                deadline = deadline_from_absolute(t, realtime);
            }
        }
        u32 bitset = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : static_cast<u32>(args.a5);
        return futex_wait(addr, val, deadline, bitset, shared);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        u32 bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : static_cast<u32>(args.a5);
        if (!bitset) return Error(EINVAL);
        return futex_wake(addr, bitset, static_cast<int>(min<u64>(val, 0x7fffffff)), shared);
    }
    case FUTEX_REQUEUE:
        return futex_requeue(addr, args.a4, static_cast<int>(val), static_cast<int>(args.a3), nullptr, shared);
    case FUTEX_CMP_REQUEUE: {
        u32 expect = static_cast<u32>(args.a5);
        return futex_requeue(addr, args.a4, static_cast<int>(val), static_cast<int>(args.a3), &expect, shared);
    }
    case FUTEX_WAKE_OP:
        return futex_wake_op(addr, args.a4, static_cast<int>(val), static_cast<int>(args.a3),
                             static_cast<u32>(args.a5), shared);
    default:
        return Error(ENOSYS);  // PI futexes and FUTEX_FD
    }
}

// futex_waitv(waiters, nr, flags, timeout, clockid): sleeps on up to 128
// 32-bit futexes at once; returns the index of the one woken. The timeout
// is absolute on CLOCK_MONOTONIC or CLOCK_REALTIME.
SYSCALL(futex_waitv) {
    constexpr u32 FUTEX2_SIZE_MASK = 3;
    uptr uwaiters = args.a0;
    u32 nr = static_cast<u32>(args.a1);
    if (static_cast<u32>(args.a2)) return Error(EINVAL);
    if (!nr || nr > FUTEX_WAITV_MAX || !uwaiters) return Error(EINVAL);
    u64 deadline = 0;
    if (args.a3) {
        int clock = static_cast<int>(args.a4);
        if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return Error(EINVAL);
        deadline = deadline_from_absolute(TRY(timespec_ns(args.a3)), clock == CLOCK_REALTIME);
    }
    auto mem = mm::kmalloc(nr * (sizeof(WaitSpec) + sizeof(Waiter)));
    if (mem.is_error()) return mem.error();
    auto* specs = static_cast<WaitSpec*>(mem.value());
    auto* ws = reinterpret_cast<Waiter*>(specs + nr);
    for (u32 i = 0; i < nr; ++i) new (&ws[i]) Waiter();
    auto run = [&]() -> Result<u64> {
        for (u32 i = 0; i < nr; ++i) {
            futex_waitv fw = TRY(UserIn<futex_waitv>(uwaiters + i * sizeof(futex_waitv)).read());
            if ((fw.flags & ~(FUTEX2_SIZE_MASK | FUTEX_PRIVATE_FLAG)) || fw.__reserved) return Error(EINVAL);
            if ((fw.flags & FUTEX2_SIZE_MASK) != FUTEX_32) return Error(EINVAL);  // only 32-bit words
            if (fw.val > 0xffffffffull) return Error(EINVAL);
            if (fw.uaddr & 3) return Error(EINVAL);
            specs[i] = WaitSpec{fw.uaddr, key_for(fw.uaddr, !(fw.flags & FUTEX_PRIVATE_FLAG)),
                                static_cast<u32>(fw.val), FUTEX_BITSET_MATCH_ANY};
        }
        return wait_on(specs, ws, nr, deadline);
    };
    Result<u64> r = run();
    mm::kfree(mem.value());
    return r;
}

SYSCALL(set_robust_list) {
    if (args.a1 != sizeof(robust_list_head)) return Error(EINVAL);
    sched::current()->robust_list = args.a0;
    return 0;
}

// get_robust_list(tid, &head, &len): the calling thread's (tid 0) or, with
// the right to signal it, another thread's registration.
SYSCALL(get_robust_list) {
    int tid = static_cast<int>(args.a0);
    uptr head;
    if (tid == 0) {
        head = sched::current()->robust_list;
    } else {
        proc::lock_tree();
        sched::Thread* t = proc::find_thread(tid);
        proc::Process* p = t ? t->process : nullptr;
        bool allowed = p && (p == proc::current_process() || caps::capable(CAP_SYS_PTRACE) ||
                             (p->cred.ruid == proc::current_process()->cred.ruid &&
                              p->cred.euid == proc::current_process()->cred.ruid &&
                              p->cred.suid == proc::current_process()->cred.ruid));
        head = t ? t->robust_list : 0;
        proc::unlock_tree();
        if (!t || !p) return Error(ESRCH);
        if (!allowed) return Error(EPERM);
    }
    TRY(UserOut<u64>(args.a2).write(sizeof(robust_list_head)));
    TRY(UserOut<u64>(args.a1).write(head));
    return 0;
}

}  // namespace keel
