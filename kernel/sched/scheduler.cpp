#include "kernel/sched/scheduler.h"

#include "kernel/psi/psi.h"

#include <linux/sched.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/bandwidth.h"
#include "kernel/sched/runqueue.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/slab.h"
#include "mm/vmalloc.h"

extern "C" void context_switch(keel::u64* save_rsp, keel::u64 new_rsp);
extern "C" void thread_start_trampoline();
extern "C" [[noreturn]] void thread_first_run(void (*entry)(void*), void* arg);

namespace keel::sched {

namespace {

CpuRunQueue runqueues[MAX_CPUS];
u32 ncpus_online = 0;
u32 next_tid = 1;

struct Zombies {
    IntrusiveList<Thread, &Thread::all_node> list;
};
SpinlockProtected<Zombies> zombies(LockRank::Zombie);

ThreadState load_state(Thread* t) { return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE); }
void store_state(Thread* t, ThreadState s) { __atomic_store_n(&t->state, s, __ATOMIC_RELEASE); }

u32 self_id() { return current_cpu_raw()->id; }

u32 nr_fair(const CpuRunQueue& rq) { return rq.nr - rq.rt.size(); }

// RT threads have used their share of this period while fair ones wait.
bool rt_throttled(CpuRunQueue& rq, u64 now) { return nr_fair(rq) > 0 && rq.rt_bw.exhausted(now); }

// The timer that preempts a busy CPU without a tick: at the fair thread's
// deadline, at the end of an RR slice, when RT threads exhaust their share,
// or when a throttled period ends. Local CPU, lock held.
void arm_slice_timer(CpuRunQueue& rq, u64 now) {
    Thread* c = rq.curr;
    u64 run = ~0ull;
    if (c->on_rt) {
        if (c->policy == SCHED_RR && rq.rt.count_at(c->rt_priority) > 1) run = c->rr_left_ns;
        if (nr_fair(rq)) run = min(run, rq.rt_bw.next_check(now));
    } else if (c != rq.idle && rq.fair.curr()) {
        if (nr_fair(rq) > 1) run = fair::runtime_until_deadline(rq);
        if (bandwidth::active()) run = min(run, bandwidth::runtime_left(*c, now));
        if (!rq.rt.empty()) run = min(run, rq.rt_bw.period_end() > now ? rq.rt_bw.period_end() - now : 0);
    }
    if (run == ~0ull) timer_cancel(rq.slice_timer);
    else timer_arm(rq.slice_timer, now + max<u64>(run, 10000));
}

void push_one_thread(u32 me);

// How often a busy CPU looks for a lighter one (Linux balances its
// smallest domains every few milliseconds).
constexpr u64 BALANCE_INTERVAL_NS = 4'000'000;

void slice_timer_fired(Timer* t) {
    auto& rq = *static_cast<CpuRunQueue*>(t->data);
    bool irq = rq.lock.lock();
    u64 now = time::monotonic_ns();
    update_curr(rq, now);
    // A throttled RT thread may run again.
    if (!rq.curr->on_rt && !rq.rt.empty() && !rt_throttled(rq, now)) cpus[rq.cpu]->need_resched = true;
    if (!cpus[rq.cpu]->need_resched) arm_slice_timer(rq, now);
    // Only CPUs with threads waiting have this timer: they are the ones
    // that may have one too many.
    bool balance = now >= rq.next_balance;
    if (balance) rq.next_balance = now + BALANCE_INTERVAL_NS;
    rq.lock.unlock(irq);
    if (balance) push_one_thread(rq.cpu);
}

bool rq_idle(const CpuRunQueue& rq) { return __atomic_load_n(&rq.nr, __ATOMIC_RELAXED) == 0; }

bool curr_is_rt(u32 c) {
    Thread* t = __atomic_load_n(&runqueues[c].curr, __ATOMIC_RELAXED);
    return t && __atomic_load_n(&t->on_rt, __ATOMIC_RELAXED);
}

// Completes a context switch in the thread that was switched to: the
// previous thread's context is no longer live, so it may now run elsewhere
// or be freed.
void finish_switch() {
    IrqsOffProof proof;
    CpuRunQueue& rq = *this_cpu(proof).rq;
    Thread* last = rq.last;
    rq.last = nullptr;
    bool migrate = false;
    if (last) {
        __atomic_store_n(&last->on_cpu, false, __ATOMIC_RELEASE);
        migrate = last->migrating;
        last->migrating = false;
    }
    rq.lock.unlock(false);
    if (last && load_state(last) == ThreadState::Dead) {
        zombies.with([&](Zombies& z) { z.list.push_back(*last); });
    } else if (last && migrate) {
        enqueue_on(last, select_cpu(last, last->cpu), Enqueue::Restore);
    }
    // Interrupts stay off until the switched-to thread's own code turns
    // them on, without a lock: what this switch owes goes out now.
    if (this_cpu(proof).kick_mask) send_kicks();
}

void reap_zombies() {
    for (;;) {
        Thread* t = zombies.with([](Zombies& z) { return z.list.pop_front(); });
        if (!t) return;
        mm::free_kernel_stack({t->stack_bottom, t->stack_top});
        t->~Thread();
        mm::kfree(t);
    }
}

// What a thread weighs for balancing: its nice weight; a real-time thread
// as a nice-0 one.
u64 balance_weight(const Thread& t) { return t.on_rt ? NICE_0_LOAD : t.se.weight; }

// A queued thread that is not running, may run on `me` and weighs less
// than `below`; real-time threads first.
Thread* find_victim(CpuRunQueue& src, u32 me, u64 below) {
    Thread* victim = nullptr;
    auto consider = [&](Thread* t) {
        if (!victim && !t->se.sched_delayed && !t->on_cpu && t->may_run_on(me) &&
            load_state(t) == ThreadState::Runnable && balance_weight(*t) < below)
            victim = t;
    };
    src.rt.for_each([&](Thread& t) { consider(&t); });
    fair::for_each_queued(src, consider);
    return victim;
}

// Takes a queued thread that may run on `to` off `from`'s queue, marked in
// flight (the caller queues it on `to`); null if there is none.
Thread* detach_victim(u32 from, u32 to, u64 below = ~0ull) {
    CpuRunQueue& src = runqueues[from];
    (void)src.lock.lock();
    Thread* victim = find_victim(src, to, below);
    if (victim) {
        update_curr(src, time::monotonic_ns());
        __atomic_store_n(&victim->in_flight, true, __ATOMIC_RELEASE);
        if (victim->on_rt) rq_dequeue(src, victim, Dequeue::Save);
        else fair::dequeue(src, victim, Dequeue::Save);
        psi::task_change(*victim, from, psi::TSK_QUEUED, 0, time::monotonic_ns());
        --src.nr;
    }
    src.lock.unlock(false);
    return victim;
}

// Idle CPU: take one queued thread from the busiest CPU. Interrupts off.
bool pull_one_thread(u32 me) {
    u32 busiest = me;
    u32 most = 1;
    for (u32 c = 0; c < ncpus_online; ++c) {
        u32 n = __atomic_load_n(&runqueues[c].nr, __ATOMIC_RELAXED);
        if (c != me && n > most) {
            busiest = c;
            most = n;
        }
    }
    if (busiest == me) return false;
    Thread* victim = detach_victim(busiest, me);
    if (!victim) return false;
    CpuRunQueue& dst = runqueues[me];
    (void)dst.lock.lock();
    victim->cpu = me;
    ++victim->nr_migrations;
    update_curr(dst, time::monotonic_ns());
    if (victim->is_rt()) rq_enqueue(dst, victim, Enqueue::Restore);
    else fair::enqueue(dst, victim, Enqueue::Restore);
    __atomic_store_n(&victim->in_flight, false, __ATOMIC_RELEASE);
    psi::task_enqueue(*victim, me, time::monotonic_ns());
    ++dst.nr;
    dst.lock.unlock(false);
    return true;
}

// The weight of the threads runnable on `cpu` (curr included, delayed
// sleepers not). Interrupts off.
u64 rq_load(u32 cpu) {
    CpuRunQueue& rq = runqueues[cpu];
    (void)rq.lock.lock();
    u64 load = rq.curr && rq.curr != rq.idle ? balance_weight(*rq.curr) : 0;
    auto add = [&](Thread* t) {
        if (!t->se.sched_delayed && t != rq.curr) load += balance_weight(*t);
    };
    rq.rt.for_each([&](Thread& t) { add(&t); });
    fair::for_each_queued(rq, add);
    rq.lock.unlock(false);
    return load;
}

// Busy CPUs: the CPU with the least runnable weight gets a queued thread
// that may run there and weighs less than the difference, so that the move
// leaves both CPUs below this one's load (idle CPUs pull for themselves,
// pull_one_thread). As Linux's periodic balancing: between nice-0 threads
// that evens out their number (five CPU-bound threads forked on one CPU of
// two end up 3:2, not 4:1, tests/user/balance_busy); a nice -10 thread and
// two nice-0 ones on two CPUs end with the heavy one alone, not sharing its
// CPU with a light one while the other light one has a CPU to itself
// (tests/user/balance_weight). Interrupts off.
void push_one_thread(u32 me) {
    if (ncpus_online < 2 || __atomic_load_n(&runqueues[me].nr, __ATOMIC_RELAXED) < 2) return;  // none to give
    u64 mine = rq_load(me);
    u32 target = me;
    u64 least = mine;
    for (u32 c = 0; c < ncpus_online; ++c) {
        if (c == me) continue;
        u64 l = rq_load(c);
        if (l < least) {
            target = c;
            least = l;
        }
    }
    if (target == me) return;
    u64 below = mine - least;
    // Every 8th look (32 ms), also a move that only mirrors the imbalance,
    // onto a CPU already that loaded: three equal spinners on two CPUs take
    // turns at the CPU of their own and get about 2/3 of one each, as on
    // Linux, instead of 1 : 0.5 : 0.5 for as long as they run
    // (tests/user/balance_rotate). Never a heavy thread onto a lighter one.
    if (++runqueues[me].balances % 8 == 0 && least >= below) below += 1;
    Thread* victim = detach_victim(me, target, below);
    // Queued there as a migration, with the preemption check a wake-up gets.
    if (victim) enqueue_on(victim, target, Enqueue::Restore);
}

}  // namespace

CpuRunQueue& runqueue(u32 cpu) { return runqueues[cpu]; }

u32 select_cpu(Thread* t, u32 prev) {
    if (t->may_run_on(prev) && rq_idle(runqueues[prev])) return prev;
    for (u32 i = 1; i <= ncpus_online; ++i) {
        u32 c = (prev + i) % ncpus_online;
        if (t->may_run_on(c) && rq_idle(runqueues[c])) return c;
    }
    // A real-time thread goes where it preempts no other real-time thread.
    if (t->is_rt() && !(t->may_run_on(prev) && prev < ncpus_online && !curr_is_rt(prev))) {
        for (u32 c = 0; c < ncpus_online; ++c)
            if (t->may_run_on(c) && !curr_is_rt(c)) return c;
    }
    if (t->may_run_on(prev) && prev < ncpus_online) return prev;
    u32 best = prev;
    u32 best_nr = ~0u;
    for (u32 c = 0; c < ncpus_online; ++c) {
        u32 n = __atomic_load_n(&runqueues[c].nr, __ATOMIC_RELAXED);
        if (t->may_run_on(c) && n < best_nr) {
            best = c;
            best_nr = n;
        }
    }
    return best;
}

// Puts a runnable thread that is on no run queue onto cpu's queue.
void enqueue_on(Thread* t, u32 cpu, Enqueue how) {
    CpuRunQueue& rq = runqueues[cpu];
    bool irq = rq.lock.lock();
    if (t->cpu != cpu) ++t->nr_migrations;
    t->cpu = cpu;
    u64 now = time::monotonic_ns();
    update_curr(rq, now);
    if (!t->is_rt() && bandwidth::active() && bandwidth::held_back(*t) && bandwidth::park(*t)) {
        // Parked, it waits for the CPU: pressure, as on Linux (see throttle_out).
        psi::task_enqueue(*t, cpu, now);
        __atomic_store_n(&t->in_flight, false, __ATOMIC_RELEASE);
        rq.lock.unlock(irq);
        return;
    }
    rq_enqueue(rq, t, how);
    __atomic_store_n(&t->in_flight, false, __ATOMIC_RELEASE);
    psi::task_enqueue(*t, cpu, now);
    ++rq.nr;
    check_preempt(rq, t);
    rq.lock.unlock(irq);
}


CpuRunQueue& lock_task_rq(Thread* t, bool* irq) {
    for (;;) {
        u32 c = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
        CpuRunQueue& rq = runqueues[c];
        *irq = rq.lock.lock();
        if (t->cpu == c && !__atomic_load_n(&t->in_flight, __ATOMIC_ACQUIRE)) return rq;
        rq.lock.unlock(*irq);
        arch::cpu_relax();
    }
}

void requeue_elsewhere(CpuRunQueue& rq, Thread* t, bool irq, Enqueue how) {
    __atomic_store_n(&t->in_flight, true, __ATOMIC_RELEASE);
    u32 from = rq.cpu;
    rq.lock.unlock(false);
    enqueue_on(t, select_cpu(t, from), how);
    irq_restore(irq);
}

void resched_cpu(u32 c) {
    __atomic_store_n(&cpus[c]->need_resched, true, __ATOMIC_SEQ_CST);
    if (c == self_id()) return;
    // A polling idle CPU sees the flag by itself. Ordered against
    // idle_loop's clearing of `polling` and re-reading of need_resched:
    // either it sees the request or we see it has stopped polling.
    if (__atomic_load_n(&runqueues[c].polling, __ATOMIC_SEQ_CST)) return;
    // Under a run-queue lock (interrupts off) the IPI waits for the
    // unlock (send_kicks): the target's first act is to take that lock, and
    // on QEMU's TCG the APIC write needs QEMU's global lock, which the
    // target's vCPU thread takes at every spin-loop pause. Sent under the
    // lock, one cross-CPU wake-up took 4 to 12 ms on a busy host.
    if (!arch::irqs_enabled()) {
        current_cpu_raw()->kick_mask |= 1ull << c;
        return;
    }
    smp_send_reschedule(c);
}

void kick_cpu(u32 c) { resched_cpu(c); }

void send_kicks() {
    arch::InterruptGuard ig;
    Cpu* me = current_cpu_raw();
    if (!me) return;
    u64 m = me->kick_mask;
    me->kick_mask = 0;
    for (; m; m &= m - 1) smp_send_reschedule(static_cast<u32>(__builtin_ctzll(m)));
}

// Charges the running thread for the time since the last charge.
void update_curr(CpuRunQueue& rq, u64 now) {
    u64 delta = now > rq.clock ? now - rq.clock : 0;
    rq.clock = now;
    Thread* c = rq.curr;
    if (c == rq.idle) return;
    if (!c->on_rt) {
        if (rq.fair.curr() && fair::update_curr(rq, delta)) cpus[rq.cpu]->need_resched = true;
        if (bandwidth::active() && rq.fair.curr() && bandwidth::charge(*c, delta, now)) cpus[rq.cpu]->need_resched = true;
        return;
    }
    c->se.sum_exec_runtime += delta;
    rq.rt_bw.charge(delta, now);
    bool resched = rt_throttled(rq, now);
    if (c->policy == SCHED_RR) {
        if (c->rr_left_ns > delta) {
            c->rr_left_ns -= delta;
        } else {
            // The slice is used up: behind its peers, with a fresh one.
            c->rr_left_ns = RR_TIMESLICE_NS;
            if (rq.rt.count_at(c->rt_priority) > 1) {
                rq.rt.requeue_tail(*c, c->rt_priority);
                resched = true;
            }
        }
    }
    if (resched) cpus[rq.cpu]->need_resched = true;
}

void rq_enqueue(CpuRunQueue& rq, Thread* t, Enqueue how) {
    if (t != rq.curr) t->queued_since_ns = rq.clock;
    // Restore re-bases a deadline a fair Save kept relative; a thread that
    // comes from the RT class or a sleep has none and is placed as a wake-up.
    if (how == Enqueue::Restore && !t->se.rel_deadline) how = Enqueue::Wakeup;
    if (t->is_rt()) {
        rq.rt.push_back(*t, t->rt_priority);
        t->on_rt = true;
    } else {
        fair::enqueue(rq, t, how);
    }
}

bool rq_dequeue(CpuRunQueue& rq, Thread* t, Dequeue how) {
    if (t->on_rt) {
        rq.rt.remove(*t, t->rt_priority);
        t->on_rt = false;
        return true;
    }
    return fair::dequeue(rq, t, how);
}

void check_preempt(CpuRunQueue& rq, Thread* t) {
    Thread* c = rq.curr;
    bool preempt;
    if (c == rq.idle) preempt = true;
    else if (t->on_rt) preempt = !c->on_rt || t->rt_priority > c->rt_priority;
    else preempt = !c->on_rt && fair::wakeup_preempt(rq, t);
    // A remote CPU that gains work re-arms its slice timer when kicked.
    if (preempt || (rq.cpu != self_id() && (nr_fair(rq) == 2 || !rq.rt.empty()))) resched_cpu(rq.cpu);
    else if (rq.cpu == self_id()) arm_slice_timer(rq, rq.clock);
}

namespace {

// What user space sees of a CPU: the FPU registers, the FS/GS bases and the
// page tables. Kernel threads run on the kernel's page tables so that an
// address space can be freed while no user thread of it runs.
void switch_user_state(Thread* prev, Thread* next) {
    if (prev->fpu) arch::fpu_save(prev->fpu);
    if (next->fpu) arch::fpu_restore(next->fpu);
    if (next->process) {
        arch::wrmsr(arch::msr::FS_BASE, next->fs_base);
        arch::wrmsr(arch::msr::KERNEL_GS_BASE, next->gs_base);
    }
    // The idle thread borrows whatever tables are loaded (Linux's lazy TLB
    // mode): a CPU that idles between two runs of one process then loads
    // no tables at all, where it used to switch to the kernel's and back,
    // each write of CR3 flushing the TLB (on TCG the emulator's too). An
    // address space that goes away takes itself off idle CPUs first
    // (AddressSpace::~AddressSpace), and its TLB shootdowns reach every CPU
    // that has its tables loaded, idle or not (tlb_shootdown_tables).
    if (next == current_cpu_raw()->idle_thread) return;
    u64 want = proc::page_table_of(*next);
    if ((arch::read_cr3() & arch::pte::ADDR_MASK) != want) load_page_tables(want);
}

// Takes a fair thread of a throttled cgroup off the queue and parks it
// there (cpu.max). A running one keeps its context until finish_switch;
// the refill that requeues it waits for that as a wake-up does. A parked
// thread stays runnable for PSI on this CPU (Linux counts throttled time as
// cpu pressure: "full" in the cgroup); the refill moves that count.
void throttle_out(CpuRunQueue& rq, Thread* t) {
    rq_dequeue(rq, t, Dequeue::Save);
    --rq.nr;
    if (!bandwidth::park(*t)) {
        // Refilled meanwhile: straight back.
        rq_enqueue(rq, t, Enqueue::Restore);
        ++rq.nr;
    }
}

// Real-time threads first, unless throttled; then EEVDF's pick; then idle.
// Lock held.
Thread* pick_next_thread(CpuRunQueue& rq, u64 now) {
    if (!rq.rt.empty() && !rt_throttled(rq, now)) {
        if (rq.fair.curr()) fair::put_prev(rq);
        return rq.rt.top();
    }
    if (Thread* t = fair::pick_next(rq)) return t;
    if (!rq.rt.empty()) return rq.rt.top();
    return rq.idle;
}

void init_runqueue(u32 cpu, Thread* idle) {
    CpuRunQueue& rq = runqueues[cpu];
    rq.cpu = cpu;
    rq.idle = idle;
    rq.curr = idle;
    rq.clock = time::monotonic_ns();
    rq.fair.config().base_slice = base_slice_for_cpus(1);
    rq.slice_timer.fn = slice_timer_fired;
    rq.slice_timer.data = &rq;
    idle->cpu = cpu;
    idle->on_cpu = true;
    Cpu& c = *cpus[cpu];
    c.rq = &rq;
    c.current = idle;
    c.idle_thread = idle;
}

Thread idle_threads[MAX_CPUS];

}  // namespace

void init_bsp() {
    Thread& idle = idle_threads[0];
    str_lcpy(idle.name, "swapper/0", sizeof(idle.name));
    init_runqueue(0, &idle);
    mark_cpu_online(0);
    start_load_tracking();
}

void init_ap(u32 cpu) {
    Thread& idle = idle_threads[cpu];
    format(idle.name, sizeof(idle.name), "swapper/%u", cpu);
    init_runqueue(cpu, &idle);
}

void mark_cpu_online(u32 cpu) {
    __atomic_fetch_add(&ncpus_online, 1, __ATOMIC_RELEASE);
    // The base slice scales with the CPU count as in Linux.
    for (u32 c = 0; c <= cpu; ++c) runqueues[c].fair.config().base_slice = base_slice_for_cpus(ncpus_online);
}

u32 online_cpus() { return __atomic_load_n(&ncpus_online, __ATOMIC_ACQUIRE); }


namespace {

// preempt: the CPU is taken from prev by an interrupt. A thread preempted
// while it was getting ready to sleep (state already Blocked, its wake-up
// source not yet armed: sleep_until arms its timer after that) stays
// queued, as in Linux; it sleeps when it calls schedule() itself.
void schedule_impl(bool preempt) {
    arch::InterruptGuard ig;
    IrqsOffProof proof;
    Cpu& cpu = this_cpu(proof);
    CpuRunQueue& rq = *cpu.rq;
    KASSERT(cpu.preempt_count == 0);
    (void)rq.lock.lock();
    Thread* prev = rq.curr;
    u64 now = time::monotonic_ns();
    update_curr(rq, now);
    ++rq.sched_count;
    bool still_queued = false;
    bool prev_sleeps = false;
    if (prev != rq.idle) {
        ThreadState st = load_state(prev);
        if ((st == ThreadState::Blocked && !preempt) || st == ThreadState::Dead) {
            rq_dequeue(rq, prev, st == ThreadState::Dead ? Dequeue::SleepSpecial : Dequeue::Sleep);
            --rq.nr;
            ++prev->nvcsw;
            prev_sleeps = true;
        } else if (!prev->may_run_on(cpu.id) && st == ThreadState::Runnable) {
            // finish_switch moves it (a preempted sleeper moves when woken).
            __atomic_store_n(&prev->in_flight, true, __ATOMIC_RELEASE);
            rq_dequeue(rq, prev, Dequeue::Save);
            psi::task_change(*prev, cpu.id, psi::TSK_QUEUED, 0, now);
            --rq.nr;
            prev->migrating = true;
        } else if (!prev->on_rt && bandwidth::active() && bandwidth::held_back(*prev)) {
            throttle_out(rq, prev);
        } else {
            still_queued = true;
        }
    }
    Thread* next = pick_next_thread(rq, now);
    // A queued thread of a cgroup that ran out of cpu.max waits for its
    // next period off the queue.
    while (next != rq.idle && next != prev && !next->on_rt && bandwidth::active() && bandwidth::held_back(*next)) {
        throttle_out(rq, next);
        next = pick_next_thread(rq, now);
    }
    // Cleared after the pick, as Linux does: a request that charging prev
    // raised above (its request ran out, it stopped being eligible) is
    // answered by this pick. Cleared before, it outlived the switch and
    // sent next straight back here: after sched_yield, the thread switched
    // to paid for the switch, lost its small lead and gave the CPU back
    // before reaching user mode (yields handed over on 56% of calls).
    cpu.need_resched = false;
    if (next == prev) {
        arm_slice_timer(rq, now);
        rq.lock.unlock(false);
        send_kicks();
        return;
    }
    if (still_queued) {
        ++prev->nivcsw;
        prev->queued_since_ns = now;
    }
    if (next == rq.idle) {
        ++rq.sched_goidle;
    } else {
        u64 waited = now > next->queued_since_ns ? now - next->queued_since_ns : 0;
        next->run_delay_ns += waited;
        rq.run_delay_ns += waited;
        ++next->pcount;
        ++rq.pcount;
    }
    // rseq: a thread switched out must abort a critical section it was in
    // and learn its CPU again before it returns to user mode.
    if (prev->rseq_area) prev->rseq_event = prev->rseq_resume = true;
    // A thread still switching out elsewhere cannot be resumed yet.
    while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE)) arch::cpu_relax();
    next->on_cpu = true;
    next->cpu = cpu.id;
    next->exec_start_ns = now;
    psi::task_switch(prev, next, cpu.id, prev_sleeps, now);
    rq.curr = next;
    rq.last = prev;
    ++rq.switches;
    arm_slice_timer(rq, now);
    cpu.current = next;
    cpu.kernel_rsp = next->stack_top;
    cpu.tables.tss.rsp[0] = next->stack_top;
    switch_user_state(prev, next);
    context_switch(&prev->saved_rsp, next->saved_rsp);
    finish_switch();
}

}  // namespace

void schedule() { schedule_impl(false); }

void preempt_from_irq() { schedule_impl(true); }

void yield() {
    {
        arch::InterruptGuard ig;
        IrqsOffProof proof;
        CpuRunQueue& rq = *this_cpu(proof).rq;
        SpinlockGuard g(rq.lock);
        update_curr(rq, time::monotonic_ns());
        ++rq.yld_count;
        Thread* self = rq.curr;
        if (self->on_rt) rq.rt.requeue_tail(*self, self->rt_priority);
        else if (rq.fair.curr()) fair::yield(rq);
    }
    schedule();
}

// Sequentially consistent: every sleeper checks its wake-up condition after
// this store, and a waker sets the condition before it looks at the state.
// A plain (release) store lets x86 move the sleeper's loads above it, and
// both sides then miss each other (4f84939 fixed one such site by a fence).
void set_current_blocked() { __atomic_store_n(&current()->state, ThreadState::Blocked, __ATOMIC_SEQ_CST); }

// The state changes under the thread's run-queue lock, together with the
// look at its queue, as schedule() reads the state and dequeues a sleeper
// under that lock. Changed before the lock (it used to be), a waker that
// then waited for the lock could find the thread already in a later sleep,
// dequeued, and requeue it with that sleep's Blocked state: it returned
// from schedule() Blocked, went on (its wait saw its condition met) and was
// lost at its next plain schedule(). A thread that schedule() returns to is
// now always Runnable; a wake-up that lands in a later sleep is only
// spurious, and every sleeper re-checks its condition.
bool wake(Thread* t) {
    // Not asleep: nothing to do. The fence orders the caller's store of the
    // wake-up condition before this load, as each sleeper orders its
    // Blocked before its check of the condition.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (load_state(t) != ThreadState::Blocked) return false;
    bool irq;
    CpuRunQueue* rq = &lock_task_rq(t, &irq);
    ThreadState expected = ThreadState::Blocked;
    if (!__atomic_compare_exchange_n(&t->state, &expected, ThreadState::Runnable, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        rq->lock.unlock(irq);
        return false;
    }
    ++rq->ttwu_count;
    if (rq->cpu == self_id()) ++rq->ttwu_local;
    if (t->se.on_rq || t->on_rt) {
        // It never left its queue: still running towards schedule(), or
        // delayed (kept queued to pay off negative lag).
        if (t->se.sched_delayed) {
            // As Linux 6.12 (enqueue_task_fair's ENQUEUE_DELAYED path), the
            // requeue comes before curr is charged: DELAY_ZERO's zero-lag
            // point is V as curr's last charge left it, so the woken thread
            // is ahead of curr by what curr has run since. Charged first,
            // the two tie, curr keeps the CPU under RUN_TO_PARITY, and a
            // message thread woken by its worker waits for the worker to
            // sleep instead of preempting it as it does on Linux.
            u64 now = time::monotonic_ns();
            rq_enqueue(*rq, t, Enqueue::Wakeup);
            update_curr(*rq, now);
            if (t != rq->curr) t->queued_since_ns = now;
            psi::task_enqueue(*t, rq->cpu, now);
            ++rq->nr;
            check_preempt(*rq, t);
        }
        rq->lock.unlock(irq);
        return true;
    }
    // Off every queue, and its switch-out finished under this lock. What it
    // was counted in while asleep (a memory stall) leaves this CPU with it.
    if (t->psi_flags & psi::TSK_QUEUED) psi::task_change(*t, rq->cpu, psi::TSK_QUEUED, 0, time::monotonic_ns());
    requeue_elsewhere(*rq, t, irq, Enqueue::Wakeup);
    return true;
}

void psi_memstall(bool enter) {
    Thread* self = current();
    bool irq;
    CpuRunQueue& rq = lock_task_rq(self, &irq);
    if (enter) psi::memstall_enter_locked(*self, rq.cpu, time::monotonic_ns());
    else psi::memstall_leave_locked(*self, rq.cpu, time::monotonic_ns());
    rq.lock.unlock(irq);
}

namespace {

// Sleeps until `deadline`; returns early (false) only for a signal when
// `interruptible`.
bool sleep_until(u64 deadline, bool interruptible) {
    Thread* self = current();
    self->sleep_timer.fn = [](Timer* tm) { wake(static_cast<Thread*>(tm->data)); };
    self->sleep_timer.data = self;
    bool completed = true;
    while (time::monotonic_ns() < deadline) {
        if (interruptible) __atomic_store_n(&self->interruptible, true, __ATOMIC_SEQ_CST);
        set_current_blocked();
        if (interruptible && sig::interrupt_pending()) {
            wake(self);
            completed = false;
        } else {
            timer_arm(self->sleep_timer, deadline);
            schedule();
            timer_cancel(self->sleep_timer);
        }
        __atomic_store_n(&self->interruptible, false, __ATOMIC_SEQ_CST);
        if (!completed || (interruptible && sig::interrupt_pending())) {
            completed = time::monotonic_ns() >= deadline;
            break;
        }
    }
    return completed;
}

}  // namespace

void sleep_ns(u64 ns) { sleep_until(time::monotonic_ns() + ns, false); }

bool sleep_ns_interruptible(u64 ns, u64* remaining) {
    u64 deadline = time::monotonic_ns() + ns;
    bool done = sleep_until(deadline, true);
    if (remaining) {
        u64 now = time::monotonic_ns();
        *remaining = now < deadline ? deadline - now : 0;
    }
    return done;
}

Result<Thread*> create_kthread(const char* name, void (*fn)(void*), void* arg, int nice, int cpu) {
    reap_zombies();
    // Charged, as Linux's task_struct, to the caller's memory cgroup: a
    // user thread's parent (kernel threads' creators are not charged).
    void* mem = TRY(mm::kzalloc_account(sizeof(Thread)));
    Thread* t = new (mem) Thread();
    auto stack = mm::alloc_kernel_stack();
    if (stack.is_error()) {
        mm::kfree(mem);
        return stack.error();
    }
    t->stack_bottom = stack.value().bottom;
    t->stack_top = stack.value().top;
    str_lcpy(t->name, name, sizeof(t->name));
    t->entry = fn;
    t->arg = arg;
    t->nice = nice;
    t->se.set_nice(nice);
    t->tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
    if (cpu >= 0) t->affinity = 1ull << cpu;

    // The frame context_switch pops: r15 r14 r13 r12 rbx rbp, then returns
    // to the trampoline with r12 = entry and r13 = argument. Nine words keep
    // the stack 16-byte aligned at the trampoline's call.
    u64* frame = reinterpret_cast<u64*>(t->stack_top) - 9;
    frame[0] = 0;
    frame[1] = 0;
    frame[2] = reinterpret_cast<u64>(arg);
    frame[3] = reinterpret_cast<u64>(fn);
    frame[4] = 0;
    frame[5] = 0;
    frame[6] = reinterpret_cast<u64>(thread_start_trampoline);
    frame[7] = 0;
    frame[8] = 0;
    t->saved_rsp = reinterpret_cast<u64>(frame);
    return t;
}

void start_thread(Thread* t) {
    u32 self = self_id();
    u32 target = t->affinity != ~0ull && !t->may_run_on(self) ? static_cast<u32>(__builtin_ctzll(t->affinity))
                                                                 : select_cpu(t, self % max(online_cpus(), 1u));
    enqueue_on(t, target, Enqueue::Initial);
}

Result<Thread*> spawn_kthread(const char* name, void (*fn)(void*), void* arg, int nice, int cpu) {
    Thread* t = TRY(create_kthread(name, fn, arg, nice, cpu));
    start_thread(t);
    return t;
}

void exit_current() {
    arch::irq_disable();
    store_state(current(), ThreadState::Dead);
    schedule();
    panic("a dead thread was scheduled again");
}

namespace {

// Halting by default, as Linux on a VM without the host's promise of
// dedicated CPUs (KVM_HINTS_REALTIME, which enables cpuidle-haltpoll):
// a polling vCPU takes host CPU time from the vCPUs that have work, and on
// QEMU's TCG each pause takes QEMU's global lock. Measured on a loaded
// 2-core host, cross-CPU futex round trip p50: 76-143 us halting, 33-459
// us polling adaptively (Linux 6.12: 31-34 us).
IdleMode idle_mode_now = IdleMode::Halt;

bool work_here(Cpu& cpu, u32 me) {
    return __atomic_load_n(&cpu.need_resched, __ATOMIC_SEQ_CST) || nr_running(me) > 0;
}

// Polls for work for up to `limit_ns` with interrupts on; true if some came.
bool poll_for_work(Cpu& cpu, CpuRunQueue& rq, u64 t0, u64 limit_ns) {
    __atomic_store_n(&rq.polling, true, __ATOMIC_SEQ_CST);
    arch::irq_enable();
    bool found = false;
    for (;;) {
        if (work_here(cpu, rq.cpu)) {
            found = true;
            break;
        }
        if (limit_ns != ~0ull && time::monotonic_ns() - t0 >= limit_ns) break;
        arch::cpu_relax();
    }
    arch::irq_disable();
    __atomic_store_n(&rq.polling, false, __ATOMIC_SEQ_CST);
    return found || work_here(cpu, rq.cpu);
}

}  // namespace

void set_idle_mode(StringView arg) {
    if (arg == "halt") set_idle_mode(IdleMode::Halt);
    else if (arg == "poll") set_idle_mode(IdleMode::Poll);
}

void set_idle_mode(IdleMode m) { __atomic_store_n(&idle_mode_now, m, __ATOMIC_RELAXED); }
IdleMode idle_mode() { return __atomic_load_n(&idle_mode_now, __ATOMIC_RELAXED); }

void idle_loop() {
    u32 me = self_id();
    for (;;) {
        reap_zombies();
        send_kicks();  // none should be left; a stray one must not wait for our next wake-up
        arch::irq_disable();
        IrqsOffProof proof;
        Cpu& cpu = this_cpu(proof);
        if (cpu.need_resched || nr_running(me) > 0 || pull_one_thread(me)) {
            schedule();
            arch::irq_enable();
            continue;
        }
        CpuRunQueue& rq = runqueues[me];
        u64 t0 = time::monotonic_ns();
        // With one CPU nothing but an interrupt brings work, and that ends
        // a halt as quickly: polling would only burn the host's time.
        IdleMode mode = idle_mode();
        u64 limit = mode == IdleMode::Poll ? ~0ull
                    : mode == IdleMode::Halt || online_cpus() < 2 ? 0
                                                                 : rq.idle_poll.limit_ns();
        // An interrupt during the poll or the halt must come back here,
        // not switch away from inside it (it would leave `polling` set for
        // wakers to trust, and count the next thread's run as idle): this
        // loop schedules itself.
        ++cpu.preempt_count;
        if (limit == 0 || !poll_for_work(cpu, rq, t0, limit)) arch::irq_enable_and_halt();  // an interrupt ends it
        arch::irq_disable();
        --cpu.preempt_count;
        u64 idle = time::monotonic_ns() - t0;
        // A stale timer count that fired into an empty queue is no wake-up
        // that polling would have caught.
        if (work_here(cpu, me) || idle > IdlePoll::MAX_NS) rq.idle_poll.adjust(idle);
        cpu.idle_ns += idle;
        arch::irq_enable();
    }
}

}  // namespace keel::sched

extern "C" void thread_first_run(void (*entry)(void*), void* arg) {
    keel::sched::finish_switch();
    keel::arch::irq_enable();
    entry(arg);
    keel::sched::exit_current();
}
