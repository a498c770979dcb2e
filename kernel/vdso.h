// The vDSO (vdso/vdso.c, embedded at build time) and its data page.
#pragma once

#include "lib/result.h"

namespace keel::mm {
class AddressSpace;
}

namespace keel::vdso {

// Maps the data page and the image into `as`; returns the image's address
// (AT_SYSINFO_EHDR).
Result<uptr> map_into(mm::AddressSpace& as);
// Publishes the clock parameters (after calibration and clock_settime).
void update_clock(u64 tsc_base, u64 ns_mult, i64 realtime_offset);

}  // namespace keel::vdso
