#include "kernel/sched/scheduler.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
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

// One per CPU. The lock guards everything here and the scheduling state of
// the threads queued on it. A context switch holds it from schedule() in the
// outgoing thread until finish_switch() in the incoming one.
struct CpuRunQueue {
    Spinlock lock{LockRank::Scheduler};
    EevdfRunQueue fair;
    Thread* curr = nullptr;
    Thread* idle = nullptr;
    Thread* last = nullptr;  // the thread being switched away from
    u64 clock = 0;           // when curr's runtime was last charged
    Timer slice_timer;
    u32 cpu = 0;
    u32 nr = 0;              // fair threads runnable here, curr included
    u64 switches = 0;
};

namespace {

CpuRunQueue runqueues[MAX_CPUS];
u32 ncpus_online = 0;
u32 next_tid = 1;

struct Zombies {
    IntrusiveList<Thread, &Thread::all_node> list;
};
SpinlockProtected<Zombies> zombies(LockRank::Zombie);

Thread* thread_of(SchedEntity* se) {
    return reinterpret_cast<Thread*>(reinterpret_cast<char*>(se) - __builtin_offsetof(Thread, se));
}

ThreadState load_state(Thread* t) { return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE); }
void store_state(Thread* t, ThreadState s) { __atomic_store_n(&t->state, s, __ATOMIC_RELEASE); }

u32 self_id() { return current_cpu_raw()->id; }

void resched_cpu(u32 c) {
    cpus[c]->need_resched = true;
    if (c != self_id()) smp_send_reschedule(c);
}

// Charges the running thread for the time since the last charge. Lock held.
void update_curr(CpuRunQueue& rq, u64 now) {
    u64 delta = now > rq.clock ? now - rq.clock : 0;
    rq.clock = now;
    if (rq.curr != rq.idle && rq.fair.curr() && rq.fair.update_curr(delta)) cpus[rq.cpu]->need_resched = true;
}

// The slice timer makes a busy CPU preempt at the deadline without a tick.
// Local CPU, lock held.
void arm_slice_timer(CpuRunQueue& rq, u64 now) {
    if (rq.nr > 1 && rq.fair.curr()) {
        u64 run = max<u64>(rq.fair.runtime_until_deadline(), 10000);
        timer_arm(rq.slice_timer, now + run);
    } else {
        timer_cancel(rq.slice_timer);
    }
}

void slice_timer_fired(Timer* t) {
    auto& rq = *static_cast<CpuRunQueue*>(t->data);
    bool irq = rq.lock.lock();
    u64 now = time::monotonic_ns();
    update_curr(rq, now);
    if (!cpus[rq.cpu]->need_resched) arm_slice_timer(rq, now);
    rq.lock.unlock(irq);
}

// After an enqueue on rq (lock held): preempt its current thread if the
// new one should run first; a remote CPU also needs a kick to re-arm its
// slice timer.
void check_preempt(CpuRunQueue& rq, Thread* t) {
    bool preempt = rq.curr == rq.idle || rq.fair.wakeup_preempt(t->se);
    if (preempt || (rq.cpu != self_id() && rq.nr == 2)) resched_cpu(rq.cpu);
    else if (rq.cpu == self_id()) arm_slice_timer(rq, rq.clock);
}

bool rq_idle(const CpuRunQueue& rq) { return __atomic_load_n(&rq.nr, __ATOMIC_RELAXED) == 0; }

u32 select_cpu(Thread* t, u32 prev) {
    if (t->may_run_on(prev) && rq_idle(runqueues[prev])) return prev;
    for (u32 i = 1; i <= ncpus_online; ++i) {
        u32 c = (prev + i) % ncpus_online;
        if (t->may_run_on(c) && rq_idle(runqueues[c])) return c;
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
    t->cpu = cpu;
    update_curr(rq, time::monotonic_ns());
    rq.fair.enqueue(t->se, how);
    ++rq.nr;
    check_preempt(rq, t);
    rq.lock.unlock(irq);
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
    if (!last) return;
    if (load_state(last) == ThreadState::Dead) {
        zombies.with([&](Zombies& z) { z.list.push_back(*last); });
    } else if (migrate) {
        enqueue_on(last, select_cpu(last, last->cpu), Enqueue::Restore);
    }
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
    CpuRunQueue& src = runqueues[busiest];
    Thread* victim = nullptr;
    (void)src.lock.lock();
    src.fair.for_each_queued([&](SchedEntity& se) {
        Thread* t = thread_of(&se);
        if (!victim && !se.sched_delayed && !t->on_cpu && t->may_run_on(me) &&
            load_state(t) == ThreadState::Runnable)
            victim = t;
    });
    if (victim) {
        update_curr(src, time::monotonic_ns());
        src.fair.detach(victim->se);
        --src.nr;
    }
    src.lock.unlock(false);
    if (!victim) return false;
    CpuRunQueue& dst = runqueues[me];
    (void)dst.lock.lock();
    victim->cpu = me;
    update_curr(dst, time::monotonic_ns());
    dst.fair.attach(victim->se);
    ++dst.nr;
    dst.lock.unlock(false);
    return true;
}

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
    u64 want = proc::page_table_of(*next);
    if ((arch::read_cr3() & arch::pte::ADDR_MASK) != want) arch::write_cr3(want);
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


void schedule() {
    arch::InterruptGuard ig;
    IrqsOffProof proof;
    Cpu& cpu = this_cpu(proof);
    CpuRunQueue& rq = *cpu.rq;
    KASSERT(cpu.preempt_count == 0);
    (void)rq.lock.lock();
    Thread* prev = rq.curr;
    cpu.need_resched = false;
    u64 now = time::monotonic_ns();
    update_curr(rq, now);
    if (prev != rq.idle) {
        ThreadState st = load_state(prev);
        if (st == ThreadState::Blocked || st == ThreadState::Dead) {
            rq.fair.dequeue(prev->se, st == ThreadState::Dead ? Dequeue::SleepSpecial : Dequeue::Sleep);
            --rq.nr;
            ++prev->nvcsw;
        } else if (!prev->may_run_on(cpu.id)) {
            rq.fair.dequeue(prev->se, Dequeue::Save);  // finish_switch moves it
            --rq.nr;
            prev->migrating = true;
        }
    }
    SchedEntity* se = rq.fair.pick_next();
    Thread* next = se ? thread_of(se) : rq.idle;
    arm_slice_timer(rq, now);
    if (next == prev) {
        rq.lock.unlock(false);
        return;
    }
    if (prev != rq.idle && load_state(prev) == ThreadState::Runnable && prev->se.on_rq) ++prev->nivcsw;
    // rseq: a thread switched out must abort a critical section it was in
    // and learn its CPU again before it returns to user mode.
    if (prev->rseq_area) prev->rseq_event = prev->rseq_resume = true;
    // A thread still switching out elsewhere cannot be resumed yet.
    while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE)) arch::cpu_relax();
    next->on_cpu = true;
    next->cpu = cpu.id;
    next->exec_start_ns = now;
    rq.curr = next;
    rq.last = prev;
    ++rq.switches;
    cpu.current = next;
    cpu.kernel_rsp = next->stack_top;
    cpu.tables.tss.rsp[0] = next->stack_top;
    switch_user_state(prev, next);
    context_switch(&prev->saved_rsp, next->saved_rsp);
    finish_switch();
}

void preempt_from_irq() { schedule(); }

void yield() {
    {
        arch::InterruptGuard ig;
        IrqsOffProof proof;
        CpuRunQueue& rq = *this_cpu(proof).rq;
        SpinlockGuard g(rq.lock);
        update_curr(rq, time::monotonic_ns());
        if (rq.fair.curr()) rq.fair.yield();
    }
    schedule();
}

void set_current_blocked() { store_state(current(), ThreadState::Blocked); }

bool wake(Thread* t) {
    ThreadState expected = ThreadState::Blocked;
    if (!__atomic_compare_exchange_n(&t->state, &expected, ThreadState::Runnable, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return false;
    bool irq;
    CpuRunQueue* rq;
    for (;;) {
        u32 c = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
        rq = &runqueues[c];
        irq = rq->lock.lock();
        if (t->cpu == c) break;
        rq->lock.unlock(irq);
    }
    if (t->se.on_rq) {
        // It never left its queue: still running towards schedule(), or
        // delayed (kept queued to pay off negative lag).
        if (t->se.sched_delayed) {
            update_curr(*rq, time::monotonic_ns());
            rq->fair.enqueue(t->se, Enqueue::Wakeup);
            ++rq->nr;
            check_preempt(*rq, t);
        }
        rq->lock.unlock(irq);
        return true;
    }
    // Off every queue, and its switch-out finished under this lock.
    u32 from = rq->cpu;
    rq->lock.unlock(irq);
    enqueue_on(t, select_cpu(t, from), Enqueue::Wakeup);
    Cpu* me = current_cpu_raw();
    if (me->need_resched && me->preempt_count == 0 && arch::irqs_enabled()) schedule();
    return true;
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
    void* mem = TRY(mm::kzalloc(sizeof(Thread)));
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

void set_nice(Thread* t, int nice) {
    nice = clamp(nice, -20, 19);
    CpuRunQueue& rq = runqueues[t->cpu];
    SpinlockGuard g(rq.lock);
    t->nice = nice;
    if (t->se.on_rq) {
        update_curr(rq, time::monotonic_ns());
        rq.fair.reweight(t->se, nice_to_weight(nice));
    } else {
        reweight_detached(t->se, nice_to_weight(nice));
    }
}

Status set_affinity(Thread* t, u64 mask) {
    u64 online = online_cpus() >= 64 ? ~0ull : (1ull << online_cpus()) - 1;
    if (!(mask & online)) return Error(EINVAL);
    __atomic_store_n(&t->affinity, mask & online, __ATOMIC_RELEASE);
    if (t == current() && !t->may_run_on(self_id())) schedule();  // moves itself
    return {};
}

void set_cpuset_mask(Thread* t, u64 mask) {
    __atomic_store_n(&t->cpuset_mask, mask ? mask : ~0ull, __ATOMIC_RELEASE);
    if (t == current() && !t->may_run_on(self_id())) schedule();
    else if (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE)) resched_cpu(t->cpu);
}

u64 runtime_ns(const Thread& t) {
    for (;;) {
        u32 c = __atomic_load_n(&t.cpu, __ATOMIC_ACQUIRE);
        CpuRunQueue& rq = runqueues[c];
        SpinlockGuard g(rq.lock);
        if (t.cpu != c) continue;
        u64 sum = t.se.sum_exec_runtime;
        // The running thread's time since its last charge is not in the sum yet.
        if (rq.curr == &t && rq.curr != rq.idle) {
            u64 now = time::monotonic_ns();
            if (now > rq.clock) sum += now - rq.clock;
        }
        return sum;
    }
}

u32 nr_running(u32 cpu) { return __atomic_load_n(&runqueues[cpu].nr, __ATOMIC_RELAXED); }
u64 context_switches(u32 cpu) { return __atomic_load_n(&runqueues[cpu].switches, __ATOMIC_RELAXED); }

void idle_loop() {
    u32 me = self_id();
    for (;;) {
        reap_zombies();
        arch::irq_disable();
        IrqsOffProof proof;
        Cpu& cpu = this_cpu(proof);
        if (cpu.need_resched || nr_running(me) > 0 || pull_one_thread(me)) {
            schedule();
            arch::irq_enable();
            continue;
        }
        u64 t0 = time::monotonic_ns();
        arch::irq_enable_and_halt();  // an interrupt ends the halt
        cpu.idle_ns += time::monotonic_ns() - t0;
    }
}

}  // namespace keel::sched

extern "C" void thread_first_run(void (*entry)(void*), void* arg) {
    keel::sched::finish_switch();
    keel::arch::irq_enable();
    entry(arg);
    keel::sched::exit_current();
}
