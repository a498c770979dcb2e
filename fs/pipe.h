// Pipes: a ring buffer between a read end and a write end, with Linux's
// semantics: 64 KiB by default, writes of up to PIPE_BUF bytes are atomic,
// EOF when the last writer goes, EPIPE when the last reader has gone.
#pragma once

#include "fs/core/file.h"
#include "fs/file.h"

namespace keel::fs {

// Creates a pipe: ends[0] reads, ends[1] writes. `flags` may hold
// O_NONBLOCK (both ends).
Status pipe_create(OpenFile* (&ends)[2], u32 flags);

// open(2) of a FIFO: the pipe end for `file` (O_RDONLY, O_WRONLY or
// O_RDWR in oflags). Readers and writers meet in one pipe per inode; a
// blocking open waits for the other side (O_RDWR never waits), a
// non-blocking writer without a reader gets ENXIO. ERESTARTSYS.
Result<OpenFile*> open_fifo(RefPtr<File> file, u32 oflags);

// For splice(2), tee(2) and sendfile(2), on pipe ends (FileKind::Pipe).
// EBADF when `end` is the wrong end.
bool pipe_same(OpenFile& a, OpenFile& b);
// Waits until the pipe holds data or has no writer left: the bytes
// buffered (0 for EOF). EAGAIN if `nonblock` and empty; ERESTARTSYS.
Result<usize> pipe_wait_data(OpenFile& read_end, bool nonblock);
// Waits until the pipe has room: how much. EAGAIN if `nonblock` and full;
// EPIPE (and SIGPIPE) without readers; ERESTARTSYS.
Result<usize> pipe_wait_room(OpenFile& write_end, bool nonblock);
// Copies buffered bytes from `skip` on into `out` without consuming them.
Result<usize> pipe_peek(OpenFile& read_end, const IoBuffer& out, usize skip);
// Drops the first n buffered bytes (after a peek) and wakes writers.
void pipe_consume(OpenFile& read_end, usize n);

}  // namespace keel::fs
