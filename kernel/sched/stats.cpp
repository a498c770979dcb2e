// What the scheduler counts for /proc: CPU time, context switches, the
// load averages and schedstat.
#include "kernel/sched/runqueue.h"
#include "kernel/sched/scheduler.h"
#include "kernel/time.h"

namespace keel::sched {

namespace {

// Load averages: every 5 s, avg = avg * e + active * (1 - e) in 11-bit fixed
// point, with e = exp(-5 s / 1, 5 and 15 min) (the classic Unix figures
// that Linux keeps): 1884, 2014 and 2037 out of 2048.
constexpr u64 FSHIFT = 11;
constexpr u64 FIXED_1 = 1ull << FSHIFT;
constexpr u64 LOAD_EXP[3] = {1884, 2014, 2037};
constexpr u64 LOAD_FREQ_NS = 5000000000ull + 1000000;  // Linux: 5 s and one tick

u64 avenrun[3];
Timer load_timer;

u64 decay_load(u64 load, u64 exp, u64 active) {
    u64 next = load * exp + active * (FIXED_1 - exp);
    if (active >= load) next += FIXED_1 - 1;  // round up while rising
    return next / FIXED_1;
}

void load_timer_fired(Timer* t) {
    u64 active = 0;
    for (u32 c = 0; c < online_cpus(); ++c) active += nr_running(c);
    active *= FIXED_1;
    for (int i = 0; i < 3; ++i)
        __atomic_store_n(&avenrun[i], decay_load(__atomic_load_n(&avenrun[i], __ATOMIC_RELAXED), LOAD_EXP[i], active),
                         __ATOMIC_RELAXED);
    timer_arm(*t, t->deadline_ns + LOAD_FREQ_NS);
}

}  // namespace

void start_load_tracking() {
    load_timer.fn = load_timer_fired;
    timer_arm(load_timer, time::monotonic_ns() + LOAD_FREQ_NS);
}

void load_averages(u64 out[3]) {
    for (int i = 0; i < 3; ++i) out[i] = __atomic_load_n(&avenrun[i], __ATOMIC_RELAXED);
}

u32 nr_running(u32 cpu) { return __atomic_load_n(&runqueue(cpu).nr, __ATOMIC_RELAXED); }
u64 context_switches(u32 cpu) { return __atomic_load_n(&runqueue(cpu).switches, __ATOMIC_RELAXED); }

u64 runtime_ns(const Thread& t) {
    bool irq;
    CpuRunQueue& rq = lock_task_rq(const_cast<Thread*>(&t), &irq);
    u64 sum = t.se.sum_exec_runtime;
    // The running thread's time since its last charge is not in the sum yet.
    if (rq.curr == &t && rq.curr != rq.idle) {
        u64 now = time::monotonic_ns();
        if (now > rq.clock) sum += now - rq.clock;
    }
    rq.lock.unlock(irq);
    return sum;
}

void cpu_schedstat(u32 cpu, u64 out[9]) {
    CpuRunQueue& rq = runqueue(cpu);
    SpinlockGuard g(rq.lock);
    u64 busy = 0;
    if (cpus[cpu]) {
        u64 idle = __atomic_load_n(&cpus[cpu]->idle_ns, __ATOMIC_RELAXED);
        u64 up = time::monotonic_ns();
        busy = up > idle ? up - idle : 0;
    }
    u64 v[9] = {rq.yld_count, 0, rq.sched_count, rq.sched_goidle, rq.ttwu_count, rq.ttwu_local, busy,
                rq.run_delay_ns, rq.pcount};
    for (int i = 0; i < 9; ++i) out[i] = v[i];
}

void thread_sched_info(const Thread& t, ThreadSchedInfo& out) {
    bool irq;
    CpuRunQueue& rq = lock_task_rq(const_cast<Thread*>(&t), &irq);
    out.exec_start_ns = t.exec_start_ns;
    out.vruntime = t.se.vruntime;
    out.deadline = t.se.deadline;
    out.sum_exec_runtime = t.se.sum_exec_runtime;
    out.slice_ns = effective_slice_ns(t);
    out.weight = t.se.weight;
    out.nr_migrations = t.nr_migrations;
    out.nvcsw = t.nvcsw;
    out.nivcsw = t.nivcsw;
    out.nr_switches = t.nvcsw + t.nivcsw;
    out.run_delay_ns = t.run_delay_ns;
    out.pcount = t.pcount;
    out.policy = t.policy;
    out.prio = t.is_rt() ? 99 - t.rt_priority : 120 + t.nice;
    rq.lock.unlock(irq);
    out.sum_exec_runtime = runtime_ns(t);
}

}  // namespace keel::sched
