// ioctl: the generic requests here, the rest to the file.
#include <asm-generic/fcntl.h>
#include <asm-generic/ioctls.h>

#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

SYSCALL(ioctl) {
    fs::FileRef f = proc::current_process()->fds->get(static_cast<int>(args.a0));
    if (!f) return Error(EBADF);
    u32 cmd = static_cast<u32>(args.a1);
    proc::FdTable& fds = *proc::current_process()->fds;
    int fd = static_cast<int>(args.a0);
    switch (cmd) {
    case FIOCLEX:
        fds.set_cloexec(fd, true);
        return 0;
    case FIONCLEX:
        fds.set_cloexec(fd, false);
        return 0;
    case FIONBIO: {
        int on = TRY(UserIn<int>(args.a2).read());
        if (on) f->flags |= O_NONBLOCK;
        else f->flags &= ~static_cast<u32>(O_NONBLOCK);
        return 0;
    }
    default:
        return f->ioctl(cmd, args.a2);
    }
}

}  // namespace keel
