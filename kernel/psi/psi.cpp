#include "kernel/psi/psi.h"

#include "kernel/psi/psi_internal.h"

#include "arch/x86_64/cpu.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/wait.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "lib/alloc.h"

namespace keel::psi {

namespace {

IntrusiveList<PsiGroup, &PsiGroup::node> groups;  // psi_lock
CpuState system_cpus[MAX_CPUS];
PsiGroup system_psi;
u32 system_state = 0;  // 0 not set up, 1 being set up, 2 ready
bool system_listed = false;  // psi_lock
PsiGroup* (*group_fn)(const sched::Thread&) = nullptr;

// The counted thread on each CPU (run-queue lock of that CPU), for the
// "current task reclaims" rule of memory FULL.
sched::Thread* oncpu[MAX_CPUS];

sched::Thread* psimon_thread = nullptr;
sched::WaitQueue psimon_wq;
bool psimon_kicked = false;
Timer psimon_timer;
Timer kick_timers[MAX_CPUS];
bool underflow_reported = false;

void kick_fn(Timer*) {
    psimon_wq.update_and_wake([] { __atomic_store_n(&psimon_kicked, true, __ATOMIC_RELEASE); }, true);
}

// Wakes psimon soon, from any context with interrupts off: through a
// timer of this CPU, since a wake-up here could take a run-queue lock
// under another.
void kick() {
    if (!__atomic_load_n(&psimon_thread, __ATOMIC_ACQUIRE)) return;
    Timer& k = kick_timers[this_cpu_id_unstable()];
    if (k.armed) return;
    k.fn = kick_fn;
    timer_arm(k, 0);
}

[[gnu::noinline]] void schedule_slow(u64& due, u64 when) {
    u64 expected = 0;
    if (__atomic_compare_exchange_n(&due, &expected, when, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) kick();
}

// Sets a due time unless one is set already (the common case: a plain
// load answers it).
[[gnu::always_inline]] inline void schedule(u64& due, u64 when) {
    if (!__atomic_load_n(&due, __ATOMIC_RELAXED)) schedule_slow(due, when);
}

[[gnu::always_inline]] inline bool counted(const sched::Thread* t, u32 cpu) {
    if (!t || cpu >= static_cast<u32>(MAX_CPUS)) return false;
    if (t == psimon_thread) return false;
    Cpu* c = cpus[cpu];
    return !(c && c->idle_thread == t);
}

// Whether the counted task on `cpu` is itself stalled on memory (memory
// FULL there). The same for every group of one task change.
[[gnu::always_inline]] inline bool curr_memstall(u32 cpu) {
    sched::Thread* c = oncpu[cpu];
    return c && (c->psi_flags & PF_IN_MEMSTALL);
}

[[gnu::noinline, gnu::cold]] void report_underflow(u32 cpu, u8 clear, u8 set) {
    if (underflow_reported) return;
    underflow_reported = true;
    pr_err("psi: task underflow! cpu=%u clear=%x set=%x", cpu, clear, set);
}

// Inline: every wake-up and switch comes here once per group that changes.
[[gnu::always_inline]] inline void group_change(PsiGroup& g, u32 cpu, u8 clear, u8 set, u64 now, bool memstall) {
    if (cpu >= g.core.ncpus) return;
    bool underflow = false;
    bool enabled = __atomic_load_n(&g.enabled, __ATOMIC_RELAXED);
    u32 mask = cpu_change(g.cpus[cpu], clear, set, now, memstall, &underflow, enabled);
    if (underflow) [[unlikely]] report_underflow(cpu, clear, set);
    if (!enabled) return;
    // Any change restarts the averaging clock; it stops again once a whole
    // period passed idle (avgs_work).
    schedule(g.avgs_due, now + PERIOD_NS);
    if (mask & __atomic_load_n(&g.core.poll_states, __ATOMIC_RELAXED)) schedule(g.poll_due, now + NSEC_PER_TICK);
}

// Applies a flag change to t, dropping what would double-count (a clear of
// a flag not set, a set of one already set).
void apply_flags(sched::Thread& t, u8& clear, u8& set) {
    u8 flags = t.psi_flags & TSK_ALL;
    clear &= flags;
    set &= static_cast<u8>(~(flags & ~clear));
    t.psi_flags = static_cast<u8>((t.psi_flags & ~clear) | set);
}

void run_due(PsiGroup& g, u64 now, u64& next) {
    u64 d = __atomic_load_n(&g.avgs_due, __ATOMIC_ACQUIRE);
    if (d && now >= d) {
        // Cleared first: task changes during the work schedule it anew.
        __atomic_store_n(&g.avgs_due, 0, __ATOMIC_RELEASE);
        u64 again = avgs_work(g.core, now);
        u64 expected = 0;
        if (again) __atomic_compare_exchange_n(&g.avgs_due, &expected, again, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    }
    d = __atomic_load_n(&g.poll_due, __ATOMIC_ACQUIRE);
    if (d && now >= d) {
        __atomic_store_n(&g.poll_due, 0, __ATOMIC_RELEASE);
        u64 again = poll_work(g.core, now);
        if (again) __atomic_store_n(&g.poll_due, again, __ATOMIC_RELEASE);
    }
    for (u64 due : {__atomic_load_n(&g.avgs_due, __ATOMIC_ACQUIRE), __atomic_load_n(&g.poll_due, __ATOMIC_ACQUIRE)})
        if (due && due < next) next = due;
}

void psimon(void*) {
    for (;;) {
        psimon_wq.wait_until([] { return __atomic_exchange_n(&psimon_kicked, false, __ATOMIC_ACQ_REL); });
        u64 now = time::monotonic_ns();
        u64 next = ~0ull;
        {
            SpinlockGuard guard(psi_lock);
            groups.for_each([&](PsiGroup& g) { run_due(g, now, next); });
        }
        if (next == ~0ull) {
            timer_cancel(psimon_timer);
        } else {
            psimon_timer.fn = kick_fn;
            timer_arm(psimon_timer, next);
        }
    }
}

// Lock-free: the scheduler's first task change (under a run-queue lock)
// may be what sets the system group up. psimon lists it (init()).
void ensure_system() {
    u32 state = __atomic_load_n(&system_state, __ATOMIC_ACQUIRE);
    if (state == 2) return;
    u32 expected = 0;
    if (__atomic_compare_exchange_n(&system_state, &expected, 1u, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        system_psi.cpus = system_cpus;
        system_psi.system = true;
        system_psi.core.init(system_cpus, MAX_CPUS, time::monotonic_ns());
        __atomic_store_n(&system_state, 2u, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&system_state, __ATOMIC_ACQUIRE) != 2) arch::cpu_relax();
}

// The thread's innermost group: its cgroup's, else the system's.
[[gnu::always_inline]] inline PsiGroup* first_group(const sched::Thread& t) {
    auto fn = __atomic_load_n(&group_fn, __ATOMIC_ACQUIRE);
    PsiGroup* g = fn ? fn(t) : nullptr;
    if (g) return g;
    if (__atomic_load_n(&system_state, __ATOMIC_ACQUIRE) != 2) ensure_system();
    return &system_psi;
}

// Applies one change to g and its ancestors up to `stop` (excluded; null:
// to the top). Returns where it stopped: `stop`, or null if `stop` is not
// above g. Out of line, so that a switch that changes nothing stays short.
// The commonest changes (a wake-up; a sleep above the groups that only
// lose ONCPU) get a copy compiled for their constant flags.
[[gnu::noinline]] PsiGroup* change_chain(PsiGroup* g, PsiGroup* stop, u32 cpu, u8 clear, u8 set, u64 now) {
    bool memstall = curr_memstall(cpu);
    if (clear == TSK_RUNNING && set == 0) {
        for (; g && g != stop; g = g->parent) group_change(*g, cpu, TSK_RUNNING, 0, now, memstall);
    } else {
        for (; g && g != stop; g = g->parent) group_change(*g, cpu, clear, set, now, memstall);
    }
    return g;
}

}  // namespace

Spinlock psi_lock(LockRank::Psi);

void group_get(PsiGroup* g) {
    if (!g->system) __atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
}

void group_put(PsiGroup* g) {
    if (g->system || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL)) return;
    heap_free(g->cpus);
    destroy(g);
}

PsiGroup* system_group() {
    ensure_system();
    return &system_psi;
}

Result<PsiGroup*> group_create(PsiGroup* parent) {
    ensure_system();
    // CPUs come up at boot only, before any cgroup exists: the online ones
    // are all there will be.
    u32 ncpus = sched::online_cpus();
    if (ncpus == 0 || ncpus > static_cast<u32>(MAX_CPUS)) ncpus = MAX_CPUS;
    void* cpus_mem = heap_alloc(sizeof(CpuState) * ncpus);
    if (!cpus_mem) return Error(ENOMEM);
    auto made = make<PsiGroup>();
    if (made.is_error()) {
        heap_free(cpus_mem);
        return made.error();
    }
    PsiGroup* g = made.value();
    g->cpus = new (cpus_mem) CpuState[ncpus];
    g->parent = parent;
    g->core.init(g->cpus, ncpus, time::monotonic_ns());
    SpinlockGuard guard(psi_lock);
    groups.push_back(*g);
    return g;
}

void group_destroy(PsiGroup* g) {
    if (!g || g->system) return;
    {
        SpinlockGuard guard(psi_lock);
        g->dead = true;
        groups.remove(*g);
        // Open trigger files keep their descriptions, now without a group.
        for (TriggerList* list : {&g->core.avg_triggers, &g->core.poll_triggers}) {
            while (Trigger* t = list->pop_front()) {
                if (t->notify) t->notify(*t);
            }
        }
    }
    group_put(g);
}

void set_enabled(PsiGroup* g, bool on) {
    if (g && !g->system) __atomic_store_n(&g->enabled, on, __ATOMIC_RELAXED);
}

bool enabled(const PsiGroup* g) { return g && __atomic_load_n(&g->enabled, __ATOMIC_RELAXED); }

void set_group_of(PsiGroup* (*fn)(const sched::Thread& t)) { __atomic_store_n(&group_fn, fn, __ATOMIC_RELEASE); }

PsiGroup* group_of(const sched::Thread& t) { return first_group(t); }

void task_change(sched::Thread& t, u32 cpu, u8 clear, u8 set, u64 now_ns) {
    if (!counted(&t, cpu)) return;
    apply_flags(t, clear, set);
    if (!clear && !set) return;
    bool memstall = curr_memstall(cpu);
    PsiGroup* g = first_group(t);
    if (clear == 0 && set == TSK_RUNNING) {
        for (; g; g = g->parent) group_change(*g, cpu, 0, TSK_RUNNING, now_ns, memstall);
    } else {
        for (; g; g = g->parent) group_change(*g, cpu, clear, set, now_ns, memstall);
    }
}

void task_enqueue(sched::Thread& t, u32 cpu, u64 now_ns) {
    if (t.psi_flags & TSK_RUNNING) return;
    u8 set = TSK_RUNNING;
    if (t.psi_flags & PF_IN_MEMSTALL) set |= TSK_MEMSTALL | TSK_MEMSTALL_RUNNING;
    task_change(t, cpu, 0, set, now_ns);
}

void task_switch(sched::Thread* prev, sched::Thread* next, u32 cpu, bool prev_sleeps, u64 now_ns) {
    if (cpu >= static_cast<u32>(MAX_CPUS)) return;
    bool next_counted = counted(next, cpu);
    bool prev_counted = prev != next && counted(prev, cpu);
    oncpu[cpu] = next_counted ? next : nullptr;
    PsiGroup* common = nullptr;
    if (next_counted && !(next->psi_flags & TSK_ONCPU)) {
        next->psi_flags |= TSK_ONCPU;
        // Groups shared with prev already have a task on this CPU: next's
        // ONCPU changes only the groups below the first such one.
        PsiGroup* first = first_group(*next);
        common = first;
        while (common && !(cpu < common->core.ncpus && (common->cpus[cpu].state_mask & STATE_ONCPU)))
            common = common->parent;
        if (common != first) change_chain(first, common, cpu, 0, TSK_ONCPU, now_ns);
    }
    if (!prev_counted) return;
    u8 clear = TSK_ONCPU, set = 0;
    if (prev_sleeps) {
        clear |= TSK_RUNNING;
        if (prev->psi_flags & PF_IN_MEMSTALL) clear |= TSK_MEMSTALL_RUNNING;
        if (prev->psi_flags & PF_IN_IOWAIT) set |= TSK_IOWAIT;
    }
    apply_flags(*prev, clear, set);
    PsiGroup* g = first_group(*prev);
    if (g != common) g = change_chain(g, common, cpu, clear, set, now_ns);
    // Above the common ancestor ONCPU stays; other differences (prev went
    // to sleep, only one of them reclaims) still change the states there.
    // A switch between two runnable tasks of one group changes nothing.
    u8 next_flags = next_counted ? next->psi_flags : 0;
    if (g && ((prev->psi_flags ^ next_flags) & TSK_ALL & ~TSK_ONCPU))
        change_chain(g, nullptr, cpu, static_cast<u8>(clear & ~TSK_ONCPU), set, now_ns);
}

void task_move(sched::Thread& t, u32 cpu, PsiGroup* from, PsiGroup* to, u64 now_ns) {
    u8 flags = t.psi_flags & TSK_ALL;
    if (!flags || !counted(&t, cpu)) return;
    bool memstall = curr_memstall(cpu);
    for (PsiGroup* g = from; g; g = g->parent) group_change(*g, cpu, flags, 0, now_ns, memstall);
    for (PsiGroup* g = to; g; g = g->parent) group_change(*g, cpu, 0, flags, now_ns, memstall);
}

void memstall_enter_locked(sched::Thread& current, u32 cpu, u64 now_ns) {
    if (current.psi_flags & PF_IN_MEMSTALL) return;
    current.psi_flags |= PF_IN_MEMSTALL;
    task_change(current, cpu, 0, TSK_MEMSTALL | TSK_MEMSTALL_RUNNING, now_ns);
}

void memstall_leave_locked(sched::Thread& current, u32 cpu, u64 now_ns) {
    if (!(current.psi_flags & PF_IN_MEMSTALL)) return;
    current.psi_flags &= static_cast<u8>(~PF_IN_MEMSTALL);
    task_change(current, cpu, TSK_MEMSTALL | TSK_MEMSTALL_RUNNING, 0, now_ns);
}

void iowait_mark(sched::Thread& current, bool waiting) {
    if (waiting) __atomic_or_fetch(&current.psi_flags, PF_IN_IOWAIT, __ATOMIC_RELAXED);
    else __atomic_and_fetch(&current.psi_flags, static_cast<u8>(~PF_IN_IOWAIT), __ATOMIC_RELAXED);
}

void init() {
    ensure_system();
    {
        SpinlockGuard guard(psi_lock);
        if (!system_listed) groups.push_back(system_psi);
        system_listed = true;
    }
    // Known as psimon before it is first queued, so that it is never counted.
    auto t = sched::create_kthread("psimon", psimon, nullptr, -20);
    if (t.is_error()) {
        pr_err("psi: cannot start psimon (%d): averages and triggers stay idle", t.error().code());
        return;
    }
    __atomic_store_n(&psimon_thread, t.value(), __ATOMIC_RELEASE);
    sched::start_thread(t.value());
}

void show(PsiGroup& g, Resource res, fs::SeqBuf& out) {
    Snapshot s;
    {
        SpinlockGuard guard(psi_lock);
        u64 now = time::monotonic_ns();
        collect(g.core, AGG_AVGS, now);
        if (now >= g.core.avg_next_update) g.core.avg_next_update = update_averages(g.core, now);
        s = snapshot(g.core, res, g.system);
    }
    format(s, out);
}

void group_change_for_test(PsiGroup& g, u32 cpu, u8 clear, u8 set, u64 now_ns) {
    arch::InterruptGuard ig;  // as under a run-queue lock (kick() uses this CPU's timer)
    group_change(g, cpu, clear, set, now_ns, curr_memstall(cpu));
}

GroupCore& core_of(PsiGroup& g) { return g.core; }

}  // namespace keel::psi
