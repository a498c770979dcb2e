// eventfd, timerfd and signalfd (fs/event_files.cpp).
#pragma once

#include "fs/file.h"
#include "kernel/signal/signal.h"

namespace keel::fs {

// Each creates the file and installs a descriptor; returns it.
Result<u64> eventfd_open(u64 initial, u32 flags);
Result<u64> timerfd_open(int clock, u32 flags);
// fd == -1 creates a signalfd; otherwise updates the mask of signalfd `fd`.
Result<u64> signalfd_open(int fd, sig::SigSet mask, u32 flags);

// Times in nanoseconds; value 0 disarms. EINVAL if f is not a timerfd.
Status timerfd_settime(OpenFile* f, bool absolute, u64 value, u64 interval, u64* old_value, u64* old_interval);
Status timerfd_gettime(OpenFile* f, u64* value, u64* interval);

}  // namespace keel::fs
