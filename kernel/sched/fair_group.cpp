#include "kernel/sched/fair_group.h"

#include "kernel/cgroup/cgroup.h"
#include "kernel/sched/runqueue.h"
#include "kernel/sched/scheduler.h"
#include "lib/alloc.h"
#include "mm/slab.h"

namespace keel::sched {

Result<FairGroup*> fair_group_create(cgroup::Cgroup* c) {
    FairGroup* g = TRY(make<FairGroup>());
    u32 n = online_cpus();
    auto mem = mm::kzalloc(sizeof(GroupQueue) * n);
    if (mem.is_error()) {
        destroy(g);
        return mem.error();
    }
    g->cgroup = c;
    g->ncpus = n;
    g->queues = static_cast<GroupQueue*>(mem.value());
    for (u32 i = 0; i < n; ++i) {
        GroupQueue* q = new (&g->queues[i]) GroupQueue();
        q->group = g;
        q->se.group_q = q;
        q->q.config() = runqueue(i).fair.config();
    }
    return g;
}

void fair_group_destroy(FairGroup* g) {
    if (!g) return;
    for (u32 i = 0; i < g->ncpus; ++i) {
        KASSERT(g->queues[i].q.nr_queued() == 0 && !g->queues[i].se.on_rq);
        g->queues[i].~GroupQueue();
    }
    mm::kfree(g->queues);
    destroy(g);
}

namespace fair {

namespace {

Thread* thread_of(SchedEntity* se) {
    return reinterpret_cast<Thread*>(reinterpret_cast<char*>(se) - __builtin_offsetof(Thread, se));
}

GroupQueue* group_of(const SchedEntity* se) { return static_cast<GroupQueue*>(se->group_q); }

EevdfRunQueue& q_of(CpuRunQueue& rq, GroupQueue* g) { return g ? g->q : rq.fair; }

// The queue of the nearest cgroup from `c` up that schedules as a group
// (the cpu controller is enabled in it); null: the CPU's root queue.
GroupQueue* group_queue_from(cgroup::Cgroup* c, u32 cpu) {
    for (; c && !c->is_root(); c = c->parent) {
        if (!(c->controllers() & (1u << cgroup::CPU)) || !c->fair) continue;
        if (cpu < c->fair->ncpus) return &c->fair->queues[cpu];
    }
    return nullptr;
}

u32 depth(const GroupQueue* g) {
    u32 d = 0;
    for (; g; g = g->parent) ++d;
    return d;
}

// Recomputes g's entity weight from the weight queued in g on this CPU
// against the group's total (cpu.weight split over the CPUs it runs on).
void refresh(CpuRunQueue& rq, GroupQueue* g) {
    u64 local = g->q.total_weight();
    u64 total;
    if (local != g->published_weight) {
        i64 diff = static_cast<i64>(local - g->published_weight);
        g->published_weight = local;
        total = __atomic_add_fetch(&g->group->total_weight, static_cast<u64>(diff), __ATOMIC_RELAXED);
    } else {
        total = __atomic_load_n(&g->group->total_weight, __ATOMIC_RELAXED);
    }
    const cgroup::CpuSettings& cs = g->group->cgroup->cpu;
    bool idle = __atomic_load_n(&cs.idle, __ATOMIC_RELAXED);
    u64 shares = idle ? WEIGHT_IDLEPRIO : __atomic_load_n(&cs.shares, __ATOMIC_RELAXED);
    u64 w = shares;
    if (!idle && local && total > local) w = max<u64>(shares * local / total, 2);
    g->se.policy = idle ? SchedPolicy::Idle : SchedPolicy::Normal;
    if (w == g->se.weight) return;
    if (g->se.on_rq) q_of(rq, g->parent).reweight(g->se, w);
    else reweight_detached(g->se, w);
}

// After a thread left g's queue: empty groups leave their parents' queues,
// the others' weights follow the change, up to the root.
void settle(CpuRunQueue& rq, GroupQueue* g) {
    while (g) {
        GroupQueue* up = g->parent;
        if (g->q.nr_queued() == 0 && g->se.on_rq) q_of(rq, up).dequeue(g->se, Dequeue::SleepSpecial);
        refresh(rq, g);
        g = up;
    }
}

// The group queues below `se` (a group entity of the running chain) give
// their running entities back.
void put_prev_below(SchedEntity* se) {
    while (se && se->group_q) {
        GroupQueue* g = group_of(se);
        se = g->q.curr();
        g->q.put_prev();
    }
}

void visit(EevdfRunQueue& q, void (*fn)(Thread*, void*), void* arg, u32 level) {
    auto one = [&](SchedEntity& se) {
        if (!se.group_q) fn(thread_of(&se), arg);
        // Bounded: a kernel stack frame per level.
        else if (level < 16) visit(group_of(&se)->q, fn, arg, level + 1);
    };
    q.for_each_queued(one);
    if (q.curr() && q.curr()->group_q && level < 16) visit(group_of(q.curr())->q, fn, arg, level + 1);
}

}  // namespace

void enqueue(CpuRunQueue& rq, Thread* t, Enqueue how) {
    // A delayed sleeper is woken where it waits: its queues are all still
    // queued.
    if (!t->se.sched_delayed) t->fair_q = group_queue_from(t->cgroup, rq.cpu);
    GroupQueue* g = t->fair_q;
    q_of(rq, g).enqueue(t->se, how);
    // Groups join their parents' queues up to the first that is queued
    // already; every weight on the way changes.
    while (g) {
        bool join = !g->se.on_rq;
        if (join) g->parent = group_queue_from(g->group->cgroup->parent, rq.cpu);
        refresh(rq, g);
        if (join) q_of(rq, g->parent).enqueue(g->se, Enqueue::Wakeup);
        g = g->parent;
    }
}

bool dequeue(CpuRunQueue& rq, Thread* t, Dequeue how) {
    GroupQueue* g = t->fair_q;
    if (!q_of(rq, g).dequeue(t->se, how)) return false;
    settle(rq, g);
    return true;
}

bool update_curr(CpuRunQueue& rq, u64 delta) {
    bool resched = false;
    EevdfRunQueue* q = &rq.fair;
    while (SchedEntity* se = q->curr()) {
        if (q->update_curr(delta)) resched = true;
        if (!se->group_q) break;
        GroupQueue* g = group_of(se);
        refresh(rq, g);  // picks up cpu.weight writes for a group that never sleeps
        q = &g->q;
    }
    return resched;
}

// Each level picks with its running entity still in place (RUN_TO_PARITY
// protects it there as at the root); a group the pick leaves puts its own
// running chain back.
Thread* pick_next(CpuRunQueue& rq) {
    for (;;) {
        EevdfRunQueue* q = &rq.fair;
        GroupQueue* g = nullptr;
        SchedEntity* se;
        for (;;) {
            SchedEntity* old = q->curr();
            se = q->pick_next();
            if (old && old != se) put_prev_below(old);
            if (!se || !se->group_q) break;
            g = group_of(se);
            q = &g->q;
        }
        if (se) return thread_of(se);
        if (!g) return nullptr;
        // g held only delayed sleepers, which picking let go: it leaves its
        // parent's queue (where it is curr now), and the pick starts over.
        settle(rq, g);
    }
}

void put_prev(CpuRunQueue& rq) {
    put_prev_below(rq.fair.curr());
    rq.fair.put_prev();
}

void set_next(CpuRunQueue& rq, Thread* t) {
    SchedEntity* se = &t->se;
    GroupQueue* g = t->fair_q;
    for (;;) {
        EevdfRunQueue& q = q_of(rq, g);
        if (q.curr() != se) {
            q.put_prev();
            q.set_next(*se);
        }
        if (!g) return;
        se = &g->se;
        g = g->parent;
    }
}

bool is_curr(const CpuRunQueue& rq, const Thread* t) {
    if (!t->se.on_rq) return false;
    const EevdfRunQueue& q = t->fair_q ? t->fair_q->q : rq.fair;
    return q.curr() == &t->se;
}

// Compares the woken thread with the running one where their chains meet:
// in the queue that holds an ancestor entity of each.
bool wakeup_preempt(CpuRunQueue& rq, Thread* t) {
    SchedEntity* a = &t->se;
    GroupQueue* ga = t->fair_q;
    SchedEntity* c = rq.fair.curr();
    if (!c) return rq.fair.wakeup_preempt(*a);
    // The threads' own policies first, as Linux: an idle thread gives way to
    // any other, batch and idle wakers wait for the running request to end.
    if (rq.curr->se.policy == SchedPolicy::Idle && t->se.policy != SchedPolicy::Idle) return true;
    if (t->se.policy != SchedPolicy::Normal) return false;
    // The running thread's queue: the bottom of the running chain.
    GroupQueue* gc = nullptr;
    while (c->group_q) {
        GroupQueue* g = group_of(c);
        if (!g->q.curr()) break;
        gc = g;
        c = g->q.curr();
    }
    u32 da = depth(ga), dc = depth(gc);
    for (; da > dc; --da) {
        a = &ga->se;
        ga = ga->parent;
    }
    for (; dc > da; --dc) gc = gc->parent;
    while (ga != gc) {
        a = &ga->se;
        ga = ga->parent;
        gc = gc->parent;
    }
    // Where the chains meet, cpu.idle groups: an idle side gives way to a
    // non-idle one and is never preferred to it.
    EevdfRunQueue& q = q_of(rq, ga);
    bool a_idle = a->policy == SchedPolicy::Idle, c_idle = q.curr() && q.curr()->policy == SchedPolicy::Idle;
    if (c_idle != a_idle) return c_idle;
    return q.wakeup_preempt(*a);
}

void yield(CpuRunQueue& rq) {
    EevdfRunQueue* q = &rq.fair;
    SchedEntity* se = q->curr();
    if (!se) return;
    while (se->group_q && group_of(se)->q.curr()) {
        q = &group_of(se)->q;
        se = q->curr();
    }
    q->yield();
}

u64 runtime_until_deadline(const CpuRunQueue& rq) {
    u64 run = ~0ull;
    const EevdfRunQueue* q = &rq.fair;
    while (const SchedEntity* se = q->curr()) {
        if (q->nr_running() > 1) run = min(run, q->runtime_until_deadline());
        if (!se->group_q) break;
        q = &group_of(se)->q;
    }
    return run;
}

EevdfRunQueue& queue_of(CpuRunQueue& rq, const Thread* t) { return q_of(rq, t->fair_q); }

void for_each_queued(CpuRunQueue& rq, void (*fn)(Thread*, void*), void* arg) { visit(rq.fair, fn, arg, 0); }

}  // namespace fair
}  // namespace keel::sched
