// Group scheduling inside EEVDF (cgroup v2's cpu controller): each cgroup
// with the cpu controller has, on every CPU, its own EEVDF queue and one
// entity that stands for that queue in its parent's queue (the parent
// group's, or the CPU's root queue). Picking descends from the root queue
// through group entities to a thread; run time is charged to every level,
// so cgroups share a CPU by their weights first and their threads share the
// group's part by theirs.
//
// A group entity's weight is the cgroup's cpu.weight (1024 for 100) split
// over CPUs by where its threads' weight is queued, as Linux does (with the
// instantaneous queued weight where Linux uses its load averages), at least
// 2; cpu.idle groups weigh 3 and are treated as SCHED_IDLE entities.
//
// Where a thread or group entity is queued is recorded when it is enqueued
// (Thread::fair_q, GroupQueue::parent) and followed when it leaves, so a
// change of the cgroup tree (a move, cpu disabled in subtree_control)
// takes effect at the next enqueue and never strands an entity.
//
// Group entities leave their parent's queue as soon as their own queue is
// empty, without delayed dequeue (they keep their lag while off the queue,
// as fair tasks did before Linux 6.12); threads inside groups are delayed
// as everywhere else.
#pragma once

#include "kernel/sched/eevdf.h"
#include "lib/result.h"

namespace keel::cgroup {
struct Cgroup;
}

namespace keel::sched {

struct CpuRunQueue;
struct Thread;
struct FairGroup;

struct GroupQueue {
    EevdfRunQueue q;
    SchedEntity se;              // in parent's queue (or the root) while q is not empty
    GroupQueue* parent = nullptr;  // where se is queued; null: the CPU's root queue
    FairGroup* group = nullptr;
    u64 published_weight = 0;    // q's weight as counted in group->total_weight
};

// Per cgroup: one GroupQueue per CPU.
struct FairGroup {
    cgroup::Cgroup* cgroup = nullptr;
    u64 total_weight = 0;        // Σ published_weight over CPUs (atomic)
    u32 ncpus = 0;
    GroupQueue* queues = nullptr;
};

Result<FairGroup*> fair_group_create(cgroup::Cgroup* c);
// Every queue must be empty (no thread is left in the cgroup).
void fair_group_destroy(FairGroup* g);

namespace fair {

// The operations of the fair class on one CPU; rq.lock held. They take
// threads and work on the chain of queues the thread is (to be) in.
void enqueue(CpuRunQueue& rq, Thread* t, Enqueue how);
// False when a sleeper was delayed (see eevdf.h): it stays queued.
bool dequeue(CpuRunQueue& rq, Thread* t, Dequeue how);
// Charges the running chain; true to reschedule.
bool update_curr(CpuRunQueue& rq, u64 delta);
Thread* pick_next(CpuRunQueue& rq);
// The running chain goes back into its queues (the CPU leaves the class).
void put_prev(CpuRunQueue& rq);
// t (queued, not running) becomes the running chain: after put_prev.
void set_next(CpuRunQueue& rq, Thread* t);
bool is_curr(const CpuRunQueue& rq, const Thread* t);
bool wakeup_preempt(CpuRunQueue& rq, Thread* t);
void yield(CpuRunQueue& rq);
// Run time until some level of the running chain should switch (0: none).
u64 runtime_until_deadline(const CpuRunQueue& rq);
// The queue t is in (reweight, set_slice).
EevdfRunQueue& queue_of(CpuRunQueue& rq, const Thread* t);
// Every queued thread that is not running, root queue first.
void for_each_queued(CpuRunQueue& rq, void (*fn)(Thread*, void*), void* arg);
template <typename F>
void for_each_queued(CpuRunQueue& rq, F& f) {
    for_each_queued(rq, [](Thread* t, void* fp) { (*static_cast<F*>(fp))(t); }, &f);
}

}  // namespace fair
}  // namespace keel::sched
