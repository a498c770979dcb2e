// Pipes: a ring buffer between a read end and a write end, with Linux's
// semantics: 64 KiB by default, writes of up to PIPE_BUF bytes are atomic,
// EOF when the last writer goes, EPIPE when the last reader has gone.
#pragma once

#include "fs/file.h"

namespace keel::fs {

// Creates a pipe: ends[0] reads, ends[1] writes. `flags` may hold
// O_NONBLOCK (both ends).
Status pipe_create(OpenFile* (&ends)[2], u32 flags);

}  // namespace keel::fs
