// fstat: any open file's stat (path-based stat is in sys_file.cpp).
#include <linux/fcntl.h>

#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

Result<u64> stat_fd(int fd, uptr out) {
    fs::FileRef f = proc::current_process()->fds->get(fd);
    if (!f) return Error(EBADF);
    struct stat st;
    TRY(f->stat(st));
    TRY(UserOut<struct stat>(out).write(st));
    return 0;
}

}  // namespace

SYSCALL(fstat) { return stat_fd(static_cast<int>(args.a0), args.a1); }

}  // namespace keel
