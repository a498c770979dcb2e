// One-shot high-resolution timers, per CPU. The local APIC timer is
// programmed for the earliest deadline only, so an idle CPU with no timers
// takes no interrupts at all (tickless).
#pragma once

#include "lib/intrusive_list.h"

namespace keel {

struct Timer {
    ListNode node;
    u64 deadline_ns = 0;
    void (*fn)(Timer*) = nullptr;  // runs in interrupt context
    void* data = nullptr;
    u32 cpu = 0;
    bool armed = false;
};

// Arms t on the calling CPU to fire at monotonic time deadline_ns.
void timer_arm(Timer& t, u64 deadline_ns);
// Disarms t wherever it is queued; true if it had not fired yet.
bool timer_cancel(Timer& t);

// Installs the timer interrupt handler (shared by all CPUs).
void timers_init();
// Number of timers queued on `cpu` (tests and /proc).
// When cpu's APIC one-shot is set to fire (~0: not set), for tests.
u64 timer_programmed_ns(u32 cpu);
usize timers_pending(u32 cpu);

}  // namespace keel
