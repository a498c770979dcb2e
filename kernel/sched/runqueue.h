// Internal to kernel/sched: the per-CPU run queue, shared by the core
// (scheduler.cpp), policy changes (policy.cpp) and the statistics files
// (stats.cpp). Everything here is called with rq.lock held, interrupts off.
#pragma once

#include "kernel/sched/fair_group.h"
#include "kernel/sched/idle_poll.h"
#include "kernel/sched/rt_queue.h"
#include "kernel/sched/thread.h"
#include "kernel/spinlock.h"
#include "kernel/timer.h"

namespace keel::sched {

using RtQueue = RtPrioQueue<Thread, &Thread::rt_node>;

// One per CPU. The lock guards everything here and the scheduling state of
// the threads queued on it. A context switch holds it from schedule() in the
// outgoing thread until finish_switch() in the incoming one.
struct CpuRunQueue {
    Spinlock lock{LockRank::Scheduler};
    EevdfRunQueue fair;
    RtQueue rt;
    RtBandwidth rt_bw;
    Thread* curr = nullptr;
    Thread* idle = nullptr;
    Thread* last = nullptr;  // the thread being switched away from
    u64 clock = 0;           // when curr's runtime was last charged
    Timer slice_timer;
    u32 cpu = 0;
    u32 nr = 0;              // runnable threads here (fair + RT), curr included
    u64 next_balance = 0;    // when this busy CPU next looks for a lighter one (push_one_thread)
    u32 balances = 0;        // how many times it has looked (every 8th may rotate threads)
    u64 switches = 0;
    // The idle thread's polling window (its own; see idle_poll.h), and
    // whether it polls now: a waker that sees it set needs no IPI.
    IdlePoll idle_poll;
    bool polling = false;
    // /proc/schedstat
    u64 yld_count = 0, sched_count = 0, sched_goidle = 0, ttwu_count = 0, ttwu_local = 0;
    u64 run_delay_ns = 0, pcount = 0;
};

CpuRunQueue& runqueue(u32 cpu);
// Locks the run queue t belongs to (t may move between CPUs meanwhile).
CpuRunQueue& lock_task_rq(Thread* t, bool* irq);

void update_curr(CpuRunQueue& rq, u64 now);
void resched_cpu(u32 cpu);
// Queue operations that pick the class from t->policy.
void rq_enqueue(CpuRunQueue& rq, Thread* t, Enqueue how);
// False when a fair sleeper was delayed (see eevdf.h): it stays queued.
bool rq_dequeue(CpuRunQueue& rq, Thread* t, Dequeue how);
// After an enqueue: preempt the running thread if t must run first.
void check_preempt(CpuRunQueue& rq, Thread* t);

u32 select_cpu(Thread* t, u32 prev);
// t is on no queue of rq (locked, with `irq` the state lock() returned):
// moves it to the queue of a CPU it may use, marked in flight meanwhile.
// Unlocks rq.
void requeue_elsewhere(CpuRunQueue& rq, Thread* t, bool irq, Enqueue how);
// Puts a runnable thread that is on no run queue onto cpu's queue (takes
// that queue's lock).
void enqueue_on(Thread* t, u32 cpu, Enqueue how);


}  // namespace keel::sched
