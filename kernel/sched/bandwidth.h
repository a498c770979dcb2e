// cpu.max: CPU bandwidth control for cgroups. A cgroup whose fair threads
// used its quota within the current period is throttled: its threads leave
// the run queues (parked on the group, runnable) until the period ends and
// a timer puts them back. Periods are aligned to multiples of the period
// since boot, and the budget is the group's, shared by all CPUs (Linux
// hands out per-CPU slices of 5 ms from a global pool; the sum is the same).
#pragma once

#include "kernel/sched/thread.h"
#include "kernel/spinlock.h"
#include "kernel/timer.h"

namespace keel::sched {

struct GroupBandwidth {
    Spinlock lock{LockRank::Bandwidth};
    u64 period_start = 0;
    u64 used = 0;
    bool throttled = false;
    bool timer_armed = false;
    IntrusiveList<Thread, &Thread::throttle_node> parked;
    Timer refill;
    // cpu.stat
    u64 nr_periods = 0, nr_throttled = 0, throttled_ns = 0, throttled_since = 0;
};

struct BandwidthStats {
    u64 nr_periods, nr_throttled, throttled_usec;
};

namespace bandwidth {

// Whether any cgroup has a quota: the checks below cost nothing otherwise.
bool active();
// Charges run time to t's cgroups with a quota; true if one of them ran
// out (the CPU should reschedule). Run-queue lock held.
bool charge(Thread& t, u64 delta, u64 now);
// Whether one of t's cgroups is throttled.
bool held_back(const Thread& t);
// Parks t (runnable, on no run queue) on its throttled cgroup; false if
// that cgroup was refilled meanwhile. Run-queue lock held.
bool park(Thread& t);
// Run time t may use before a quota of its runs out (~0: no limit).
u64 runtime_left(const Thread& t, u64 now);
// A cgroup's quota changed or it is going away.
void quota_changed();
void release(GroupBandwidth& bw);
BandwidthStats stats(GroupBandwidth& bw);

}  // namespace bandwidth
}  // namespace keel::sched
