// An open file description (what open(2) creates and file descriptors
// point to): status flags, offset and the operations of whatever is behind
// it (a regular file, a pipe, a device, a socket...).
#pragma once

#include <asm/stat.h>

#include "kernel/uaccess.h"
#include "lib/result.h"

namespace keel::sched {
class WaitQueue;
}

namespace keel::fs {

class File;

// What poll/select collect while asking files for readiness: the wait
// queues to sleep on. A file's poll() registers each queue whose wake-up
// may change its answer (Linux's poll_wait).
class PollTable {
public:
    virtual void add(sched::WaitQueue& wq) = 0;

protected:
    ~PollTable() = default;
};

// What an open file is, for the few calls that only work on one kind
// (timerfd_settime on a timerfd, signalfd's mask update). No RTTI in Keel.
enum class FileKind : u8 { Other, Pipe, EventFd, TimerFd, SignalFd, Vfs, Epoll };

class OpenFile;
// fs/epoll.cpp: removes the epoll items that watch a file whose last
// reference went (Linux keys them by open file description, not fd).
void epoll_file_released(OpenFile& f);
// fs/locks.cpp: drops the flock(2) and OFD locks a description holds.
void locks_file_released(OpenFile& f);

class OpenFile {
public:
    virtual FileKind kind() const { return FileKind::Other; }

    void get() { __atomic_fetch_add(&refs_, 1, __ATOMIC_RELAXED); }
    void put() {
        if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0) {
            if (__atomic_load_n(&epoll_items, __ATOMIC_ACQUIRE)) epoll_file_released(*this);
            if (__atomic_load_n(&has_locks, __ATOMIC_ACQUIRE)) locks_file_released(*this);
            release();
        }
    }

    // Default behaviour is Linux's for a file without the operation.
    virtual Result<usize> read(const IoBuffer&, u64* /*offset*/) { return Error(EINVAL); }
    virtual Result<usize> write(const IoBuffer&, u64* /*offset*/) { return Error(EINVAL); }
    // lseek(2), pread64(2), pwrite64(2): ESPIPE unless the file has a
    // position (regular files, directories, some devices).
    virtual Result<u64> lseek(i64 /*off*/, int /*whence*/) { return Error(ESPIPE); }
    virtual Result<usize> pread(const IoBuffer&, u64 /*off*/) { return Error(ESPIPE); }
    virtual Result<usize> pwrite(const IoBuffer&, u64 /*off*/) { return Error(ESPIPE); }
    virtual Result<u64> ioctl(u32 /*cmd*/, u64 /*arg*/) { return Error(ENOTTY); }
    // The POLL* events that hold now; registers wait queues with `pt` (null
    // when only the answer is wanted). Files without waiting (regular
    // files) are always ready, as in Linux.
    virtual u32 poll(PollTable* /*pt*/) { return 0x1 | 0x4 | 0x40 | 0x100; }  // IN OUT RDNORM WRNORM

    // fcntl commands that depend on the kind of file (F_GETPIPE_SZ, ...).
    virtual Result<u64> fcntl(int /*cmd*/, u64 /*arg*/) { return Error(EINVAL); }
    // fstat(2)'s view of the file.
    virtual Status stat(struct stat& st) = 0;
    virtual bool seekable() const { return false; }
    // A poll of its own although the VFS file behind it is a regular file
    // (PSI's pressure files): epoll accepts it then.
    virtual bool polls_regular_file() const { return false; }
    // The VFS file behind this description (regular files, directories,
    // device nodes), or nullptr for anonymous files (pipes, eventfds...).
    virtual File* vfs_file() { return nullptr; }
    // What /proc/<pid>/fd shows for a file with no VFS path ("pipe:[ino]",
    // "anon_inode:[eventfd]"): writes it NUL-terminated into buf and
    // returns its length (0: none; /proc then names pipes and event files
    // by their kind).
    virtual usize anon_name(char* /*buf*/, usize /*size*/) { return 0; }

    u32 flags = 0;   // O_* status flags (O_APPEND, O_NONBLOCK, access mode...)
    u64 offset = 0;
    // The epoll items watching this description (fs/epoll.cpp, under its
    // lock), and whether it ever held a flock or OFD lock (fs/locks.cpp).
    void* epoll_items = nullptr;
    bool has_locks = false;
    // fcntl F_SETOWN(_EX)/F_SETSIG (kernel/syscall/fcntl_owner.cpp): the
    // owner as (Linux pid type << 32) | pid, and the signal (0: SIGIO).
    // Stored for F_GETOWN(_EX)/F_GETSIG; Keel sends no SIGIO yet.
    u64 owner = 0;
    int owner_sig = 0;

protected:
    virtual ~OpenFile() = default;
    // Called when the last reference goes; frees the object.
    virtual void release() = 0;

private:
    u32 refs_ = 1;
};

}  // namespace keel::fs
