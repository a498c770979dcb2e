// The idle loop's polling (kernel/sched/idle_poll.h): a waker trusts
// rq.polling to skip the reschedule IPI, so it must never stay set while
// another thread runs on that CPU. It did when an interrupt switched away
// from inside the poll: a thread then enqueued behind a CPU-bound one on
// that tickless CPU waited for an unrelated interrupt (forever, here).
#include "arch/x86_64/cpu.h"
#include "kernel/ktest.h"
#include "kernel/sched/runqueue.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/wait.h"
#include "kernel/time.h"

using namespace keel;
using namespace keel::sched;

namespace {

struct IdleState {
    volatile bool spinning = false, late_ran = false, polling_seen = false;
    volatile u64 waited = 0;
    Completion spinner_done, waker_done;
};
IdleState* idle_state;

void late_thread(void*) { idle_state->late_ran = true; }

// On CPU 1: short sleeps give the idle thread many chances to be switched
// out from inside its poll by the timer that ends them; then it spins until
// a thread enqueued on its CPU has run.
void spinner(void*) {
    for (int i = 0; i < 3000 && !idle_state->polling_seen; ++i) {
        sleep_ns(20000);
        if (__atomic_load_n(&runqueue(1).polling, __ATOMIC_SEQ_CST)) idle_state->polling_seen = true;
    }
    u64 t0 = time::monotonic_ns();
    idle_state->spinning = true;
    while (!idle_state->late_ran && time::monotonic_ns() - t0 < 3000000000ull) arch::cpu_relax();
    idle_state->waited = time::monotonic_ns() - t0;
    idle_state->spinner_done.complete();
}

void waker(void*) {
    while (!idle_state->spinning) arch::cpu_relax();
    (void)spawn_kthread("idle-late", late_thread, nullptr, 0, 1);
    while (!idle_state->waited) arch::cpu_relax();  // alive until measured: no stack freed meanwhile
    idle_state->waker_done.complete();
}

}  // namespace

KTEST(idle, polling_flag_only_while_idle) {
    if (online_cpus() < 2) return;
    IdleState s;
    idle_state = &s;
    // Polling without end, so that every sleep's timer interrupt lands in a
    // poll (the adaptive window depends on the host's speed).
    IdleMode before = idle_mode();
    set_idle_mode(IdleMode::Poll);
    KASSERT_TRUE(spawn_kthread("idle-spin", spinner, nullptr, 0, 1).is_ok());
    KASSERT_TRUE(spawn_kthread("idle-wake", waker, nullptr, 0, 0).is_ok());
    s.spinner_done.wait();
    s.waker_done.wait();
    set_idle_mode(before);
    KEXPECT(!s.polling_seen);
    // A slice or two normally; without the fix it waited out the 3 s limit
    // (the bound is loose for hosts that deschedule the vCPU for a while).
    KEXPECT(s.waited < 1000000000ull);
}
