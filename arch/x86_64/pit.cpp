#include "arch/x86_64/pit.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"

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

}  // namespace

CalibrationResult calibrate_with_pit(u32 pit_ticks) {
    // Channel 0, lobyte/hibyte, mode 2 (rate generator), full 65536 period.
    outb(0x43, 0x34);
    outb(0x40, 0);
    outb(0x40, 0);

    // Align to a counter change, then count elapsed PIT ticks with wraparound.
    u16 prev = pit_read_ch0();
    u32 spins = 0;
    u16 now;
    while ((now = pit_read_ch0()) == prev) {
        if (++spins > 1000000) return {0, 0, false};  // no PIT: the counter never moves
    }
    lapic_timer_start_free_running();
    u32 apic0 = lapic_timer_current();
    u64 tsc0 = rdtsc();
    prev = now;
    u32 elapsed = 0;
    while (elapsed < pit_ticks) {
        now = pit_read_ch0();
        elapsed += static_cast<u16>(prev - now);
        prev = now;
    }
    u64 tsc1 = rdtsc();
    u32 apic1 = lapic_timer_current();

    u64 tsc_khz = (tsc1 - tsc0) * PIT_HZ / elapsed / 1000;
    u64 lapic_khz = u64(apic0 - apic1) * PIT_HZ / elapsed / 1000;
    return {tsc_khz, lapic_khz, tsc_khz != 0};
}

}  // namespace keel::arch
