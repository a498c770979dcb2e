// File descriptors: close, dup family, fcntl, pipe.
#include <linux/close_range.h>
#include <linux/fcntl.h>
#include <linux/resource.h>
#include <linux/watch_queue.h>

#include "fs/locks.h"
#include "fs/pipe.h"
#include "kernel/process/process.h"
#include "kernel/syscall/fcntl_owner.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "mm/shmem.h"

namespace keel {

namespace {

proc::FdTable& fds() { return *proc::current_process()->fds; }

Result<fs::FileRef> file_at(u64 fd) {
    fs::FileRef f = fds().get(static_cast<int>(fd));
    if (!f) return Error(EBADF);
    return f;
}

int nofile_limit() {
    u64 cur = proc::current_process()->rlimits[RLIMIT_NOFILE].cur;
    return static_cast<int>(min<u64>(cur, proc::MAX_FDS));
}

// dup2/dup3: `newfd` refers to f afterwards, whatever was there closed.
Result<u64> dup_to(fs::OpenFile* f, int newfd, bool cloexec) {
    if (newfd < 0 || newfd >= nofile_limit()) return Error(EBADF);
    fds().replace(newfd, f, cloexec);
    return static_cast<u64>(newfd);
}

Result<u64> dup_from(fs::OpenFile* f, int from, bool cloexec) {
    if (from < 0 || from >= nofile_limit()) return Error(EINVAL);
    f->get();  // the new descriptor's
    auto fd = fds().install(f, from, cloexec, nofile_limit());
    if (fd.is_error()) {
        f->put();
        return fd.error();
    }
    return static_cast<u64>(fd.value());
}

// Status flags fcntl(F_SETFL) may change.
constexpr u32 SETFL_MASK = O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME | FASYNC;

}  // namespace

SYSCALL(close) {
    TRY(fds().close(static_cast<int>(args.a0)));
    return 0;
}

SYSCALL(close_range) {
    u32 first = static_cast<u32>(args.a0), last = static_cast<u32>(args.a1), flags = static_cast<u32>(args.a2);
    if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) return Error(EINVAL);
    if (first > last) return Error(EINVAL);
    if (first >= static_cast<u32>(proc::MAX_FDS)) return 0;
    int top = static_cast<int>(min<u32>(last, proc::MAX_FDS - 1));
    fds().close_range(static_cast<int>(first), top, flags & CLOSE_RANGE_CLOEXEC);
    return 0;
}

SYSCALL(dup) { return dup_from(TRY(file_at(args.a0)).get(), 0, false); }

SYSCALL(dup2) {
    fs::FileRef f = TRY(file_at(args.a0));
    if (args.a0 == args.a1) return args.a1;  // valid oldfd: nothing to do
    return dup_to(f.get(), static_cast<int>(args.a1), false);
}

SYSCALL(dup3) {
    if (args.a2 & ~static_cast<u64>(O_CLOEXEC)) return Error(EINVAL);
    if (args.a0 == args.a1) return Error(EINVAL);
    fs::FileRef f = TRY(file_at(args.a0));
    return dup_to(f.get(), static_cast<int>(args.a1), args.a2 & O_CLOEXEC);
}

SYSCALL(fcntl) {
    int fd = static_cast<int>(args.a0);
    fs::FileRef f = TRY(file_at(args.a0));
    int cmd = static_cast<int>(args.a1);
    switch (cmd) {
    case F_DUPFD:
        return dup_from(f.get(), static_cast<int>(args.a2), false);
    case F_DUPFD_CLOEXEC:
        return dup_from(f.get(), static_cast<int>(args.a2), true);
    case F_GETFD:
        return fds().cloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD:
        fds().set_cloexec(fd, args.a2 & FD_CLOEXEC);
        return 0;
    case F_GETFL:
        return f->flags;
    case F_SETFL:
        f->flags = (f->flags & ~SETFL_MASK) | (static_cast<u32>(args.a2) & SETFL_MASK);
        return 0;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return fs::fcntl_lock(*f, cmd, args.a2);
    case F_ADD_SEALS:
    case F_GET_SEALS:
        return mm::fcntl_seals(*f, cmd, args.a2);
    case F_GETOWN:
    case F_SETOWN:
    case F_GETOWN_EX:
    case F_SETOWN_EX:
    case F_GETSIG:
    case F_SETSIG:
    case F_GETLEASE:
    case F_SETLEASE:
        return fcntl_owner(*f, cmd, args.a2);
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        // Pipes and FIFOs only.
        if (f->kind() != fs::FileKind::Pipe) return Error(EBADF);
        return f->fcntl(cmd, args.a2);
    default:
        return f->fcntl(cmd, args.a2);
    }
}

namespace {

Result<u64> do_pipe(uptr out, u64 flags) {
    if (flags & ~static_cast<u64>(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) return Error(EINVAL);
    fs::OpenFile* ends[2];
    TRY(fs::pipe_create(ends, static_cast<u32>(flags)));
    bool cloexec = flags & O_CLOEXEC;
    auto r = fds().install(ends[0], 0, cloexec);
    if (r.is_error()) {
        ends[0]->put();
        ends[1]->put();
        return r.error();
    }
    auto w = fds().install(ends[1], 0, cloexec);
    if (w.is_error()) {
        (void)fds().close(r.value());
        ends[1]->put();
        return w.error();
    }
    int pair[2] = {r.value(), w.value()};
    if (copy_to_user(out, pair, sizeof(pair)).is_error()) {
        (void)fds().close(pair[0]);
        (void)fds().close(pair[1]);
        return Error(EFAULT);
    }
    return 0;
}

}  // namespace

SYSCALL(pipe) { return do_pipe(args.a0, 0); }
SYSCALL(pipe2) { return do_pipe(args.a0, args.a1); }

}  // namespace keel
