// epoll instances: an anonymous file holding a set of (file, fd) items,
// woken by callbacks on the wait queues the watched files poll with, so
// that epoll_wait never rescans files that did not change.
#pragma once

#include "fs/file.h"

namespace keel::fs {

// A new epoll file (one reference).
Result<OpenFile*> epoll_create();

// epoll_ctl(2) after the descriptors were looked up: `ep` is the epoll
// file (or not: EINVAL), `target` the file behind `fd`. `events`/`data`
// are unused for EPOLL_CTL_DEL.
Status epoll_ctl(OpenFile& ep, int op, OpenFile& target, int fd, u32 events, u64 data);

// epoll_wait(2)'s core: up to `maxevents` struct epoll_event at user
// address `events`; waits until `deadline` (monotonic ns, ~0 forever).
// EINTR when a signal interrupts the wait (never restarted, as Linux).
Result<usize> epoll_wait(OpenFile& ep, uptr events, usize maxevents, u64 deadline);

}  // namespace keel::fs
