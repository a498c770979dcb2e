// The CMOS real-time clock: read once at boot for the wall-clock time.
#pragma once

#include "lib/types.h"

namespace keel::arch {

// Seconds since the Unix epoch, or 0 when there is no RTC (microvm,rtc=off).
u64 rtc_read_epoch_seconds();

}  // namespace keel::arch
