#include "kernel/timer.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/traps.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

namespace keel {

namespace {

struct TimerQueue {
    Spinlock lock{LockRank::Timer};
    IntrusiveList<Timer, &Timer::node> sorted;  // earliest first
    bool oneshot_mode = false;  // the APIC timer's LVT is set up: a count is all a new deadline needs
    u64 programmed_ns = ~u64(0);  // when the one-shot counting down fires; ~0: none is
};

TimerQueue queues[MAX_CPUS];

// Programs this CPU's APIC timer for the head of its queue. Lock held.
// APIC writes are the dearest part of a context switch on a VM (on QEMU's
// TCG each takes QEMU's global lock; on KVM each exits), so a deadline is
// one write of the initial count, and an empty queue none: the one-shot
// has fired or fires into a handler that finds nothing due.
//
// Nor does a head later than the one-shot already counting down, as long as
// the one-shot is at least half-way there: it fires early into a handler
// that programs the real head. Every switch cancels the slice timer and arms
// the next thread's, so between threads that take turns the head moves a few
// us later each time; a fixed 50 us of slack still wrote the count every few
// switches, and on TCG each such write that moves QEMU's earliest timer wakes
// its main loop, which then contends for the global lock (futex ping-pong on
// CPU 0, wall clock: QEMU's main thread 36% busy, 11.2 us per switch; with
// half the distance as slack, a write every half slice: 1% busy, 6.4 us).
// At most one early interrupt per head, and only when switches stop. The
// slack is never below kMinSlackNs: a one-shot that fires that little
// before the head costs about what writing the count would.
constexpr u64 kMinSlackNs = 50000;

bool programmed_is_close_enough(const TimerQueue& q, u64 d, u64 now) {
    if (d < q.programmed_ns) return false;  // the head is due earlier: program it
    u64 ahead = d > now ? d - now : 0;
    return d - q.programmed_ns < max<u64>(kMinSlackNs, ahead / 2);
}

void reprogram(TimerQueue& q) {
    Timer* first = q.sorted.front();
    if (!first) return;
    u64 d = first->deadline_ns;
    u64 now = time::monotonic_ns();
    if (programmed_is_close_enough(q, d, now)) return;
    q.programmed_ns = d;
    u64 delta = d > now ? d - now : 0;
    u32 ticks = static_cast<u32>(clamp<u64>(time::ns_to_lapic_ticks(delta), 1, 0xffffffffu));
    if (q.oneshot_mode) {
        arch::lapic_timer_set_count(ticks);
    } else {
        arch::lapic_timer_oneshot(ticks);
        q.oneshot_mode = true;
    }
}

void timer_interrupt(arch::TrapFrame&, void*) {
    IrqsOffProof proof;
    TimerQueue& q = queues[this_cpu(proof).id];
    bool irq = q.lock.lock();
    q.programmed_ns = ~u64(0);  // the one-shot has fired
    for (;;) {
        Timer* t = q.sorted.front();
        if (!t || t->deadline_ns > time::monotonic_ns()) {
            reprogram(q);
            q.lock.unlock(irq);
            return;
        }
        q.sorted.remove(*t);
        t->armed = false;
        q.lock.unlock(irq);
        t->fn(t);  // may re-arm itself
        irq = q.lock.lock();
    }
}

}  // namespace

void timers_init() {
    arch::set_irq_handler(arch::VEC_TIMER, timer_interrupt, nullptr);
}

void timer_arm(Timer& t, u64 deadline_ns) {
    timer_cancel(t);
    IrqsOffProof proof;
    arch::InterruptGuard ig;
    u32 cpu = this_cpu(proof).id;
    TimerQueue& q = queues[cpu];
    SpinlockGuard g(q.lock);
    t.deadline_ns = deadline_ns;
    t.cpu = cpu;
    t.armed = true;
    Timer* pos = q.sorted.front();
    while (pos && pos->deadline_ns <= deadline_ns) pos = q.sorted.next(*pos);
    if (pos) q.sorted.insert_before(*pos, t);
    else q.sorted.push_back(t);
    if (q.sorted.front() == &t) reprogram(q);
}

bool timer_cancel(Timer& t) {
    for (;;) {
        u32 cpu = __atomic_load_n(&t.cpu, __ATOMIC_RELAXED);
        TimerQueue& q = queues[cpu];
        SpinlockGuard g(q.lock);
        if (t.cpu != cpu) continue;  // moved meanwhile: retry on its new queue
        if (!t.armed) return false;
        q.sorted.remove(t);
        t.armed = false;
        return true;
    }
}

u64 timer_programmed_ns(u32 cpu) {
    SpinlockGuard g(queues[cpu].lock);
    return queues[cpu].programmed_ns;
}

usize timers_pending(u32 cpu) {
    SpinlockGuard g(queues[cpu].lock);
    return queues[cpu].sorted.size();
}

}  // namespace keel
