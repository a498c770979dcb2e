// stat family. Path lookups arrive with the VFS; descriptor-based stat
// (fstat, and newfstatat with AT_EMPTY_PATH) works on any open file.
#include <linux/fcntl.h>

#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

Result<u64> stat_fd(int fd, uptr out) {
    fs::OpenFile* f = proc::current_process()->fds->get(fd);
    if (!f) return Error(EBADF);
    struct stat st;
    TRY(f->stat(st));
    TRY(UserOut<struct stat>(out).write(st));
    return 0;
}

}  // namespace

SYSCALL(fstat) { return stat_fd(static_cast<int>(args.a0), args.a1); }

SYSCALL(newfstatat) {
    int dirfd = static_cast<int>(args.a0);
    u32 flags = static_cast<u32>(args.a3);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) return Error(EINVAL);
    char first = 0;
    if (args.a1) TRY(copy_from_user(&first, args.a1, 1));
    if (first == 0) {
        if (!(flags & AT_EMPTY_PATH)) return Error(ENOENT);
        return stat_fd(dirfd, args.a2);
    }
    return Error(ENOENT);  // no file system to look paths up in yet
}

}  // namespace keel
