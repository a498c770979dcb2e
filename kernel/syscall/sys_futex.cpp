// futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET,
// WAKE_BITSET, private and shared, with timeouts. PI futexes are not
// implemented (ENOSYS). A futex is keyed by (address space, address):
// Keel has no shared file mappings yet, so "shared" futexes are keyed the
// same way (correct for every mapping that exists today).
#include <linux/futex.h>

#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/syscall.h"
#include "kernel/time.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

struct Waiter {
    ListNode node;
    const void* space = nullptr;
    uptr addr = 0;
    u32 bitset = 0;
    sched::Thread* thread = nullptr;
    bool woken = false;
};

// Buckets hold a sleeping lock: the user value is read under it, and that
// read may fault a page in.
struct Bucket {
    sched::Mutex lock;
    IntrusiveList<Waiter, &Waiter::node> waiters;
};

constexpr usize NBUCKETS = 256;
Bucket buckets[NBUCKETS];

const void* space_of_current() { return proc::current_process()->mm; }

Bucket& bucket_for(const void* space, uptr addr) {
    u64 h = reinterpret_cast<u64>(space) ^ (addr * 0x9e3779b97f4a7c15ull);
    return buckets[(h >> 32) % NBUCKETS];
}

Result<u32> read_word(uptr addr) {
    if (addr & 3) return Error(EINVAL);
    return UserIn<u32>(addr).read();
}

// Wakes up to n waiters on (space, addr) matching bitset; lock held.
int wake_locked(Bucket& b, const void* space, uptr addr, u32 bitset, int n) {
    int woken = 0;
    b.waiters.for_each([&](Waiter& w) {
        if (woken >= n || w.space != space || w.addr != addr || !(w.bitset & bitset)) return;
        b.waiters.remove(w);
        __atomic_store_n(&w.woken, true, __ATOMIC_SEQ_CST);
        sched::wake(w.thread);
        ++woken;
    });
    return woken;
}

Result<u64> futex_wait(uptr addr, u32 val, u64 deadline_ns, u32 bitset) {
    if (!bitset) return Error(EINVAL);
    const void* space = space_of_current();
    Bucket& b = bucket_for(space, addr);
    Waiter w;
    w.space = space;
    w.addr = addr;
    w.bitset = bitset;
    w.thread = sched::current();
    {
        sched::MutexGuard g(b.lock);
        u32 cur = TRY(read_word(addr));
        if (cur != val) return Error(EAGAIN);
        b.waiters.push_back(w);
    }
    sched::Thread* self = sched::current();
    self->sleep_timer.fn = [](Timer* tm) { sched::wake(static_cast<sched::Thread*>(tm->data)); };
    self->sleep_timer.data = self;
    for (;;) {
        // Blocked first, then the checks: a waker either sees us blocked or
        // we see its `woken` (both sides use sequentially consistent order).
        __atomic_store_n(&self->interruptible, true, __ATOMIC_SEQ_CST);
        sched::set_current_blocked();
        bool expired = deadline_ns && time::monotonic_ns() >= deadline_ns;
        if (__atomic_load_n(&w.woken, __ATOMIC_SEQ_CST) || expired || sig::interrupt_pending()) {
            sched::wake(self);
        } else {
            if (deadline_ns) timer_arm(self->sleep_timer, deadline_ns);
            sched::schedule();
            timer_cancel(self->sleep_timer);
        }
        __atomic_store_n(&self->interruptible, false, __ATOMIC_SEQ_CST);
        sched::MutexGuard g(b.lock);
        if (w.woken) return 0;
        expired = deadline_ns && time::monotonic_ns() >= deadline_ns;
        if (expired || sig::interrupt_pending()) {
            b.waiters.remove(w);
            return expired ? Result<u64>(Error(ETIMEDOUT)) : Result<u64>(Error(sig::ERESTARTSYS));
        }
    }
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

Result<u64> futex_requeue(uptr addr, uptr addr2, int nwake, int nrequeue, const u32* expect) {
    if (nwake < 0 || nrequeue < 0) return Error(EINVAL);
    const void* space = space_of_current();
    Bucket& b1 = bucket_for(space, addr);
    Bucket& b2 = bucket_for(space, addr2);
    BucketPair locked(b1, b2);
    if (expect) {
        auto cur = read_word(addr);
        if (cur.is_error()) return cur.error();
        if (cur.value() != *expect) return Error(EAGAIN);
    }
    int done = wake_locked(b1, space, addr, FUTEX_BITSET_MATCH_ANY, nwake);
    int moved = 0;
    b1.waiters.for_each([&](Waiter& w) {
        if (moved >= nrequeue || w.space != space || w.addr != addr) return;
        b1.waiters.remove(w);
        w.addr = addr2;
        b2.waiters.push_back(w);
        ++moved;
    });
    return static_cast<u64>(done + (expect ? moved : 0));
}

// FUTEX_WAKE_OP: *addr2 = op(*addr2, oparg); wake on addr; if the old value
// of *addr2 satisfies cmp, wake on addr2 too.
Result<u64> futex_wake_op(uptr addr, uptr addr2, int nwake, int nwake2, u32 encoded) {
    u32 op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
    u32 oparg = (encoded >> 12) & 0xfff, cmparg = encoded & 0xfff;
    if ((encoded >> 31) & 1) oparg = oparg >= 32 ? 0 : 1u << oparg;  // FUTEX_OP_OPARG_SHIFT
    const void* space = space_of_current();
    Bucket& b1 = bucket_for(space, addr);
    Bucket& b2 = bucket_for(space, addr2);
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
    int woken = wake_locked(b1, space, addr, FUTEX_BITSET_MATCH_ANY, nwake);
    if (c) woken += wake_locked(b2, space, addr2, FUTEX_BITSET_MATCH_ANY, nwake2);
    return static_cast<u64>(woken);
}

}  // namespace

// Wakes one waiter on *addr in the current address space (exit's
// CLONE_CHILD_CLEARTID).
void futex_wake_address(uptr addr) {
    const void* space = space_of_current();
    Bucket& b = bucket_for(space, addr);
    sched::MutexGuard g(b.lock);
    wake_locked(b, space, addr, FUTEX_BITSET_MATCH_ANY, 1);
}

SYSCALL(futex) {
    uptr addr = args.a0;
    int op = static_cast<int>(args.a1);
    u32 val = static_cast<u32>(args.a2);
    int cmd = op & FUTEX_CMD_MASK;
    if (addr & 3) return Error(EINVAL);
    bool realtime = op & FUTEX_CLOCK_REALTIME;
    if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI &&
        cmd != FUTEX_LOCK_PI2)
        return Error(ENOSYS);
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        u64 deadline = 0;
        if (args.a3) {
            struct {
                i64 sec, nsec;
            } ts;
            TRY(copy_from_user(&ts, args.a3, sizeof(ts)));
            if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000) return Error(EINVAL);
            u64 t = static_cast<u64>(ts.sec) * 1000000000 + static_cast<u64>(ts.nsec);
            u64 now = time::monotonic_ns();
            if (cmd == FUTEX_WAIT) {
                deadline = now + t;  // relative
            } else {
                u64 clock_now = realtime ? time::realtime_ns() : now;  // absolute on the chosen clock
                deadline = t > clock_now ? now + (t - clock_now) : now;
            }
            if (!deadline) deadline = 1;
        }
        u32 bitset = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : static_cast<u32>(args.a5);
        return futex_wait(addr, val, deadline, bitset);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        u32 bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : static_cast<u32>(args.a5);
        if (!bitset) return Error(EINVAL);
        const void* space = space_of_current();
        Bucket& b = bucket_for(space, addr);
        sched::MutexGuard g(b.lock);
        int n = static_cast<int>(min<u64>(val, 0x7fffffff));
        return static_cast<u64>(wake_locked(b, space, addr, bitset, n));
    }
    case FUTEX_REQUEUE:
        return futex_requeue(addr, args.a4, static_cast<int>(val), static_cast<int>(args.a3), nullptr);
    case FUTEX_CMP_REQUEUE: {
        u32 expect = static_cast<u32>(args.a5);
        return futex_requeue(addr, args.a4, static_cast<int>(val), static_cast<int>(args.a3), &expect);
    }
    case FUTEX_WAKE_OP:
        return futex_wake_op(addr, args.a4, static_cast<int>(val), static_cast<int>(args.a3),
                             static_cast<u32>(args.a5));
    default:
        return Error(ENOSYS);  // PI futexes and FUTEX_FD
    }
}

}  // namespace keel
