// The data the kernel shares with the vDSO (one read-only page mapped just
// below the vDSO's code in every process). Shared by vdso/vdso.c (user
// code) and kernel/vdso.cpp.
#pragma once

#include <stdint.h>

struct keel_vvar {
    // Even while the kernel updates the fields below, odd during an update:
    // readers retry (a sequence lock).
    volatile uint32_t seq;
    uint32_t pad;
    uint64_t tsc_base;       // TSC at monotonic time 0
    uint64_t ns_mult;        // ns = ((tsc - tsc_base) * ns_mult) >> 32
    int64_t realtime_offset; // CLOCK_REALTIME = monotonic + offset
    uint64_t coarse_ns;      // the coarse clocks' resolution
};
