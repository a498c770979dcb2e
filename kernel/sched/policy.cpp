// Scheduling attributes: policy and priority, nice, the fair slice request,
// affinity and the cpuset limit, and what fork passes on. A change to a
// queued thread takes it off its queue and puts it back, so both classes
// see a consistent entity (eevdf.h's Save/Restore keep its lag and relative
// deadline across the move).
#include <linux/sched.h>

#include "kernel/psi/psi.h"
#include "kernel/sched/bandwidth.h"
#include "kernel/sched/runqueue.h"
#include "kernel/sched/scheduler.h"
#include "kernel/time.h"

namespace keel::sched {

namespace {

u64 fair_weight(const SchedParams& p) {
    return p.policy == SCHED_IDLE ? WEIGHT_IDLEPRIO : nice_to_weight(p.nice);
}

SchedPolicy fair_policy(int policy) {
    if (policy == SCHED_BATCH) return SchedPolicy::Batch;
    if (policy == SCHED_IDLE) return SchedPolicy::Idle;
    return SchedPolicy::Normal;
}

// Writes the attributes into a thread that is on no queue.
void apply(Thread* t, const SchedParams& p) {
    t->policy = static_cast<u8>(p.policy);
    t->rt_priority = static_cast<u8>(t->is_rt() ? p.rt_priority : 0);
    if (t->is_rt() && !t->rr_left_ns) t->rr_left_ns = RR_TIMESLICE_NS;
    t->nice = clamp(p.nice, -20, 19);
    t->reset_on_fork = p.reset_on_fork;
    SchedEntity& se = t->se;
    se.policy = fair_policy(p.policy);
    u64 w = fair_weight(p);
    if (w != se.weight) reweight_detached(se, w);
    u64 slice = clamp_custom_slice(p.slice_ns);
    se.custom_slice = slice != 0;
    if (slice) se.slice = slice;
}

}  // namespace

SchedParams get_params(const Thread& t) {
    SchedParams p;
    p.policy = t.policy;
    p.rt_priority = t.rt_priority;
    p.nice = t.nice;
    p.slice_ns = t.se.custom_slice ? t.se.slice : 0;
    p.reset_on_fork = t.reset_on_fork;
    return p;
}

u64 effective_slice_ns(const Thread& t) {
    if (t.se.custom_slice) return t.se.slice;
    return base_slice_for_cpus(online_cpus());
}

void set_params(Thread* t, const SchedParams& want, u32 fields) {
    bool irq;
    CpuRunQueue& rq = lock_task_rq(t, &irq);
    SchedParams p = get_params(*t);
    if (fields & PARAM_POLICY) {
        p.policy = want.policy;
        p.rt_priority = want.rt_priority;
    }
    if (fields & PARAM_NICE) p.nice = want.nice;
    if (fields & PARAM_SLICE) p.slice_ns = want.slice_ns;
    if (fields & PARAM_RESET_ON_FORK) p.reset_on_fork = want.reset_on_fork;
    u64 now = time::monotonic_ns();
    update_curr(rq, now);
    bool running = rq.curr == t;
    // A delayed sleeper finishes leaving before it changes class.
    if (t->se.sched_delayed) fair::dequeue(rq, t, Dequeue::Delayed);
    bool queued = t->on_rt || t->se.on_rq;
    bool was_rt = t->on_rt;
    u32 old_prio = t->rt_priority;
    bool stays_in_place = was_rt && (p.policy == SCHED_FIFO || p.policy == SCHED_RR) &&
                          static_cast<u32>(p.rt_priority) == old_prio;
    if (queued && !stays_in_place) {
        if (!was_rt && running && fair::is_curr(rq, t)) fair::put_prev(rq);
        rq_dequeue(rq, t, Dequeue::Save);
    }
    apply(t, p);
    if (queued && !stays_in_place) {
        if (t->is_rt()) {
            // A lowered priority goes to the front of its new list, a
            // raised one to the back (sched(7)).
            t->on_rt = true;
            if (was_rt && t->rt_priority < old_prio) rq.rt.push_front(*t, t->rt_priority);
            else rq.rt.push_back(*t, t->rt_priority);
        } else {
            fair::enqueue(rq, t, t->se.rel_deadline ? Enqueue::Restore : Enqueue::Wakeup);
            if (running) fair::set_next(rq, t);
        }
    }
    if (running) resched_cpu(rq.cpu);
    else if (queued) check_preempt(rq, t);
    rq.lock.unlock(irq);
}

void set_nice(Thread* t, int nice) {
    SchedParams p;
    p.nice = nice;
    set_params(t, p, PARAM_NICE);
}

void fork_params(Thread* child, const Thread& parent) {
    SchedParams p = get_params(parent);
    if (p.reset_on_fork) {
        if (p.policy == SCHED_FIFO || p.policy == SCHED_RR) {
            p.policy = SCHED_NORMAL;
            p.rt_priority = 0;
            p.nice = 0;
        } else if (p.nice < 0) {
            p.nice = 0;
        }
        p.slice_ns = 0;
        p.reset_on_fork = false;
    }
    apply(child, p);
    child->affinity = parent.affinity;
    child->cpuset_mask = parent.cpuset_mask;
}

// Moves t off a CPU it may no longer use: a running thread at its next
// switch (schedule() sees it), a queued one now, a sleeper when it wakes.
static void migrate_if_disallowed(Thread* t) {
    bool irq;
    CpuRunQueue& rq = lock_task_rq(t, &irq);
    if (t->may_run_on(rq.cpu)) {
        rq.lock.unlock(irq);
        return;
    }
    if (rq.curr == t || t->on_cpu) {
        resched_cpu(rq.cpu);
        rq.lock.unlock(irq);
        if (t == current()) schedule();
        return;
    }
    // Charge the running thread before any queue changes (eevdf.h).
    update_curr(rq, time::monotonic_ns());
    if (t->se.sched_delayed) fair::dequeue(rq, t, Dequeue::Delayed);
    if (!t->on_rt && !t->se.on_rq) {
        rq.lock.unlock(irq);
        return;
    }
    rq_dequeue(rq, t, Dequeue::Save);
    psi::task_change(*t, rq.cpu, psi::TSK_QUEUED, 0, time::monotonic_ns());
    --rq.nr;
    requeue_elsewhere(rq, t, irq, Enqueue::Restore);
}

void set_cgroup(Thread* t, cgroup::Cgroup* to) {
    bool irq;
    CpuRunQueue& rq = lock_task_rq(t, &irq);
    psi::PsiGroup* from = psi::group_of(*t);
    // A queued fair thread changes group queues (fair_group.h); a delayed
    // sleeper finishes leaving its old one first.
    update_curr(rq, time::monotonic_ns());
    if (t->se.sched_delayed) fair::dequeue(rq, t, Dequeue::Delayed);
    bool requeue = !t->on_rt && t->se.on_rq;
    bool running = requeue && fair::is_curr(rq, t);
    if (requeue) {
        if (running) fair::put_prev(rq);
        fair::dequeue(rq, t, Dequeue::Save);
    }
    __atomic_store_n(&t->cgroup, to, __ATOMIC_RELEASE);
    if (requeue) {
        fair::enqueue(rq, t, Enqueue::Restore);
        if (running) fair::set_next(rq, t);
        else check_preempt(rq, t);
    }
    psi::PsiGroup* dst = psi::group_of(*t);
    if (from != dst) psi::task_move(*t, rq.cpu, from, dst, time::monotonic_ns());
    // A running thread's CPU re-arms its slice timer for the new cgroup's
    // cpu.max budget.
    if (rq.curr == t && bandwidth::active()) resched_cpu(rq.cpu);
    rq.lock.unlock(irq);
}

Status set_affinity(Thread* t, u64 mask) {
    u64 online = online_mask();
    if (!(mask & online & t->cpuset_mask)) return Error(EINVAL);
    __atomic_store_n(&t->affinity, mask & online, __ATOMIC_RELEASE);
    migrate_if_disallowed(t);
    return {};
}

void set_cpuset_mask(Thread* t, u64 mask) {
    __atomic_store_n(&t->cpuset_mask, mask ? mask : ~0ull, __ATOMIC_RELEASE);
    migrate_if_disallowed(t);
}

namespace {
SpinlockProtected<RtLimits> rt_settings(LockRank::None);
}

RtLimits rt_limits() {
    return rt_settings.with([](RtLimits& l) { return l; });
}

Status set_rt_limits(const RtLimits& l) {
    if (l.period_us <= 0 || l.period_us > 0x7fffffff) return Error(EINVAL);
    if (l.runtime_us < -1 || l.runtime_us > l.period_us) return Error(EINVAL);
    rt_settings.with([&](RtLimits& s) { s = l; });
    for (u32 c = 0; c < online_cpus(); ++c) {
        CpuRunQueue& rq = runqueue(c);
        SpinlockGuard g(rq.lock);
        rq.rt_bw.period_ns = static_cast<u64>(l.period_us) * 1000;
        rq.rt_bw.runtime_ns = l.runtime_us < 0 ? ~0ull : static_cast<u64>(l.runtime_us) * 1000;
        rq.rt_bw.period_start = 0;
        rq.rt_bw.used = 0;
    }
    return {};
}

u64 online_mask() {
    u32 n = online_cpus();
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

}  // namespace keel::sched
