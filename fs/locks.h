// Advisory file locks: flock(2) locks, owned by an open file description;
// POSIX record locks (fcntl F_SETLK), owned by a process and dropped when
// it closes any descriptor of the file; and OFD record locks (F_OFD_SETLK),
// owned by an open file description. Locks are kept per inode (per open
// file for anonymous files), in one table under one sleeping lock.
#pragma once

#include "fs/file.h"

namespace keel::fs {

// flock(2): `type` is LOCK_TYPE_READ (LOCK_SH), _WRITE (LOCK_EX) or
// _UNLOCK; waits for a conflicting lock to go unless `nonblock`
// (EWOULDBLOCK then). A description holding the other type converts,
// dropping its lock first, as Linux does.
Status flock(OpenFile& f, short type, bool nonblock);

// fcntl(2)'s F_GETLK, F_SETLK, F_SETLKW and the F_OFD_* forms, with the
// struct flock at user address `arg`.
Result<u64> fcntl_lock(OpenFile& f, int cmd, uptr arg);

// close(2) of a descriptor of `f` by the process whose descriptor table
// is `owner`: its POSIX locks on the file go.
void locks_remove_posix(OpenFile& f, const void* owner);

}  // namespace keel::fs
