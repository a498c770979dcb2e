// Kernel time: a TSC-based monotonic clock in nanoseconds, calibrated at
// boot, and one-shot high-resolution timers on the local APIC.
#pragma once

#include "lib/types.h"

namespace keel::time {

// Keel is tickless, but Linux's jiffy shows through the ABI: coarse clocks,
// sampled CPU clocks, sched_getattr's slice, /proc figures in jiffies.
// Debian's kernel has HZ=250.
constexpr u64 LINUX_HZ = 250;
constexpr u64 JIFFY_NS = 1000000000 / LINUX_HZ;

// Nanoseconds since the clock was calibrated; 0 before that.
u64 monotonic_ns();

// A timeout's end on the monotonic clock: now + ns, NO_DEADLINE (never)
// when that would pass the clock's range.
constexpr u64 NO_DEADLINE = ~0ull;
inline u64 deadline_after(u64 ns) {
    u64 now = monotonic_ns();
    return ns > NO_DEADLINE - now ? NO_DEADLINE : now + ns;
}
// Nanoseconds since reset as the TSC counts them (used for boot timing).
u64 tsc_to_ns(u64 tsc);
u64 tsc_khz();
u64 lapic_timer_khz();
u64 ns_to_lapic_ticks(u64 ns);

// Calibrates the TSC (and the APIC timer) against the PIT, and reads the
// wall-clock time from the RTC. Boot CPU only.
void calibrate();

// CLOCK_REALTIME in nanoseconds since the epoch; settable.
u64 realtime_ns();
void set_realtime_ns(u64 ns);

}  // namespace keel::time
