#include "arch/x86_64/pit.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "lib/utility.h"

namespace keel::arch {

namespace {

// Latches and reads channel 0's 16-bit down-counter. Reading the counter
// (rather than the gate on port 0x61) works on microvm, which has no port 61.
u16 pit_read_ch0() {
    outb(0x43, 0x00);
    u8 lo = inb(0x40);
    u8 hi = inb(0x40);
    return static_cast<u16>(lo | (hi << 8));
}

// One measurement over `pit_ticks` of channel 0, which counts down (with
// wraparound) from the full 65536 period. Every PIT read is paired with the
// TSC and APIC timer reads right after it.
CalibrationResult measure(u32 pit_ticks) {
    u16 prev = pit_read_ch0();
    u32 spins = 0;
    u16 now;
    while ((now = pit_read_ch0()) == prev) {
        if (++spins > 1000000) return {0, 0, false};  // no PIT: the counter never moves
    }
    u64 tsc0 = rdtsc(), tsc1 = tsc0;
    u32 apic0 = lapic_timer_current(), apic1 = apic0;
    prev = now;
    u32 elapsed = 0;
    u32 restarts = 0;
    while (elapsed < pit_ticks) {
        now = pit_read_ch0();
        tsc1 = rdtsc();
        apic1 = lapic_timer_current();
        u16 step = static_cast<u16>(prev - now);
        prev = now;
        // Consecutive reads are microseconds apart. A big step is a read
        // that went wrong or a virtual CPU the host did not run for a
        // while (the counter may have wrapped): either skews the result
        // many times over, so the measurement starts again from here.
        if (step > pit_ticks / 8 && restarts < 50) {
            ++restarts;
            tsc0 = tsc1;
            apic0 = apic1;
            elapsed = 0;
            continue;
        }
        elapsed += step;
    }
    u64 tsc_khz = (tsc1 - tsc0) * PIT_HZ / elapsed / 1000;
    u64 lapic_khz = u64(apic0 - apic1) * PIT_HZ / elapsed / 1000;
    return {tsc_khz, lapic_khz, tsc_khz != 0};
}

}  // namespace

// The median of three measurements: under a busy host (TCG) one can still
// be far off, and a clock that runs fast or slow breaks every timeout.
CalibrationResult calibrate_with_pit(u32 pit_ticks) {
    // Channel 0, lobyte/hibyte, mode 2 (rate generator), full 65536 period.
    outb(0x43, 0x34);
    outb(0x40, 0);
    outb(0x40, 0);
    lapic_timer_start_free_running();
    CalibrationResult r[3];
    for (auto& m : r) {
        m = measure(pit_ticks);
        if (!m.ok) return m;
    }
    auto by_tsc = [](const CalibrationResult& a, const CalibrationResult& b) { return a.tsc_khz < b.tsc_khz; };
    if (by_tsc(r[1], r[0])) swap(r[0], r[1]);
    if (by_tsc(r[2], r[1])) swap(r[1], r[2]);
    if (by_tsc(r[1], r[0])) swap(r[0], r[1]);
    return r[1];
}

}  // namespace keel::arch
