// The 8254 PIT, used once at boot as a known-frequency reference.
#pragma once

#include "lib/types.h"

namespace keel::arch {

constexpr u64 PIT_HZ = 1193182;

struct CalibrationResult {
    u64 tsc_khz;
    u64 lapic_khz;
    bool ok;
};

// Counts TSC and APIC-timer ticks across `pit_ticks` PIT ticks of channel 0.
CalibrationResult calibrate_with_pit(u32 pit_ticks);

}  // namespace keel::arch
