#include "kernel/sched/bandwidth.h"

#include "arch/x86_64/cpu.h"

#include "kernel/cgroup/cgroup.h"
#include "kernel/psi/psi.h"
#include "kernel/sched/runqueue.h"
#include "kernel/time.h"

namespace keel::sched::bandwidth {

namespace {

bool any_quota = false;  // set once the first cpu.max quota is written

// The cgroups of t that enforce a quota, innermost first.
template <typename F>
void for_each_limited(const Thread& t, F&& f) {
    for (cgroup::Cgroup* c = __atomic_load_n(&t.cgroup, __ATOMIC_ACQUIRE); c && !c->is_root(); c = c->parent) {
        if (c->cpu.quota_us == ~0ull || !(c->controllers() & (1u << cgroup::CPU))) continue;
        if (!f(*c)) return;
    }
}

// Starts a new period if the old one is over; true if it did. bw.lock held.
bool roll(GroupBandwidth& bw, u64 period, u64 now) {
    // Signed: another CPU may have rolled with a slightly later clock.
    if (static_cast<i64>(now - bw.period_start) < static_cast<i64>(period)) return false;
    bw.period_start = now - now % period;
    bw.used = 0;
    ++bw.nr_periods;
    return true;
}

void refill_fired(Timer* tm) {
    auto* bw = static_cast<GroupBandwidth*>(tm->data);
    IntrusiveList<Thread, &Thread::throttle_node> parked;
    {
        SpinlockGuard g(bw->lock);
        u64 now = time::monotonic_ns();
        bw->timer_armed = false;
        bw->throttled = false;
        bw->used = 0;
        bw->throttled_ns += now - bw->throttled_since;
        while (Thread* t = bw->parked.pop_front()) parked.push_back(*t);
    }
    while (Thread* t = parked.pop_front()) {
        __atomic_store_n(&t->throttled, false, __ATOMIC_RELEASE);
        bool irq;
        CpuRunQueue& rq = lock_task_rq(t, &irq);
        // Its PSI state was left counted where it was parked (throttle_out).
        if (t->psi_flags & psi::TSK_RUNNING) psi::task_change(*t, rq.cpu, psi::TSK_RUNNING, 0, time::monotonic_ns());
        // Restore falls back to a wake-up's placement for one parked as it woke.
        requeue_elsewhere(rq, t, irq, Enqueue::Restore);
    }
}

}  // namespace

bool active() { return __atomic_load_n(&any_quota, __ATOMIC_RELAXED); }

// A quota was set: every CPU re-arms its slice timer with the budget in
// mind (a lone spinner on a tickless CPU would never be charged else).
void quota_changed() {
    __atomic_store_n(&any_quota, true, __ATOMIC_RELEASE);
    for (u32 c = 0; c < online_cpus(); ++c) resched_cpu(c);
}

bool charge(Thread& t, u64 delta, u64 now) {
    bool ran_out = false;
    for_each_limited(t, [&](cgroup::Cgroup& c) {
        GroupBandwidth& bw = c.bw;
        u64 period = c.cpu.period_ns(), quota = c.cpu.quota_ns() + c.cpu.burst_ns();
        SpinlockGuard g(bw.lock);
        // Run time from before this period began was the old period's
        // (each cgroup has its own periods).
        u64 d = delta;
        if (roll(bw, period, now)) d = min(d, now - bw.period_start);
        bw.used += d;
        if (bw.used >= quota && !bw.throttled) {
            bw.throttled = true;
            bw.throttled_since = now;
            ++bw.nr_throttled;
            if (!bw.timer_armed) {
                bw.refill.fn = refill_fired;
                bw.refill.data = &bw;
                bw.timer_armed = true;
                timer_arm(bw.refill, bw.period_start + period);
            }
        }
        if (bw.throttled) ran_out = true;
        return true;
    });
    return ran_out;
}

bool held_back(const Thread& t) {
    bool held = false;
    for_each_limited(t, [&](cgroup::Cgroup& c) {
        held = __atomic_load_n(&c.bw.throttled, __ATOMIC_ACQUIRE);
        return !held;
    });
    return held;
}

bool park(Thread& t) {
    bool parked = false;
    for_each_limited(t, [&](cgroup::Cgroup& c) {
        SpinlockGuard g(c.bw.lock);
        if (!c.bw.throttled) return true;
        c.bw.parked.push_back(t);
        __atomic_store_n(&t.throttled, true, __ATOMIC_RELEASE);
        parked = true;
        return false;
    });
    return parked;
}

u64 runtime_left(const Thread& t, u64 now) {
    u64 left = ~0ull;
    for_each_limited(t, [&](cgroup::Cgroup& c) {
        GroupBandwidth& bw = c.bw;
        u64 period = c.cpu.period_ns(), quota = c.cpu.quota_ns() + c.cpu.burst_ns();
        SpinlockGuard g(bw.lock);
        roll(bw, period, now);
        u64 l = bw.used >= quota ? 0 : quota - bw.used;
        // Charge again at the period's end, so that a thread that never
        // leaves the CPU is charged period by period.
        left = min(left, min(l, bw.period_start + period - now));
        return true;
    });
    return left;
}

// The cgroup goes away: a thread that moved out while parked here still
// needs its refill.
void release(GroupBandwidth& bw) {
    if (timer_cancel(bw.refill)) {
        {
            arch::InterruptGuard ig;  // as in the timer interrupt
            refill_fired(&bw.refill);
        }
        send_kicks();  // the guard's end turns interrupts on without them
    }
}

BandwidthStats stats(GroupBandwidth& bw) {
    SpinlockGuard g(bw.lock);
    u64 thr = bw.throttled_ns;
    if (bw.throttled) thr += time::monotonic_ns() - bw.throttled_since;
    return {bw.nr_periods, bw.nr_throttled, thr / 1000};
}

}  // namespace keel::sched::bandwidth
