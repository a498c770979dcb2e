// The range algebra of POSIX record locks (fcntl F_SETLK and the OFD
// variants), apart from files and sleeping so that it can be tested on the
// host: turning a struct flock into a byte range, finding the lock that
// conflicts with a request, and applying a request to one owner's locks
// (merging, trimming and splitting them as Linux does).
#pragma once

#include "lib/intrusive_list.h"

namespace keel::fs {

// Lock types, with struct flock's values (F_RDLCK, F_WRLCK, F_UNLCK).
enum : short { LOCK_TYPE_READ = 0, LOCK_TYPE_WRITE = 1, LOCK_TYPE_UNLOCK = 2 };

// Linux's OFFSET_MAX: the end of a lock that runs to the end of any file.
constexpr u64 LOCK_OFFSET_MAX = 0x7fffffffffffffffull;

// An inclusive byte range [start, end].
struct LockRange {
    u64 start = 0;
    u64 end = 0;
};

// struct flock's l_whence/l_start/l_len as a range, given the file
// position and size for SEEK_CUR and SEEK_END. A zero length runs to
// OFFSET_MAX; a negative one ends just before the start. EINVAL for a bad
// whence or a range starting before 0, EOVERFLOW past OFFSET_MAX.
Result<LockRange> lock_range(short whence, i64 start, i64 len, u64 pos, u64 size);

struct RecordLock {
    ListNode node;
    const void* owner = nullptr;  // a process's descriptor table, or the open file (OFD)
    int pid = 0;                  // reported by F_GETLK (-1 for OFD locks)
    short type = LOCK_TYPE_READ;
    u64 start = 0;
    u64 end = 0;
};

// All record locks on one file, each owner's together and in start order
// (owners in the order they first locked, as Linux keeps them).
class RecordLockList {
public:
    using List = IntrusiveList<RecordLock, &RecordLock::node>;

    bool empty() const { return list_.empty(); }
    List& locks() { return list_; }

    // The first lock of another owner that `req` (a read or write lock)
    // conflicts with, or nullptr.
    RecordLock* find_conflict(const RecordLock& req);

    // Applies req (lock or unlock) to req.owner's locks; the caller has
    // checked conflicts. `spares` are up to two unlinked locks the list may
    // take (a split and the new lock: allocated beforehand so that this
    // cannot fail); the ones used are set to nullptr, and `freed` receives
    // the locks dropped, linked through their nodes, for the caller to free.
    void apply(const RecordLock& req, RecordLock* (&spares)[2], List& freed);

    // Drops every lock of `owner` into `freed`; true if there were any.
    bool remove_owner(const void* owner, List& freed);

private:
    List list_;
};

}  // namespace keel::fs
