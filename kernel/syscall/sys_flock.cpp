// flock(2); fcntl's record-lock commands are in fs/locks.cpp, dispatched
// from sys_fd.cpp.
#include <asm-generic/fcntl.h>

#include "fs/core/file.h"
#include "fs/lock_ranges.h"
#include "fs/locks.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"

namespace keel {

SYSCALL(flock) {
    u32 cmd = static_cast<u32>(args.a1);
    // LOCK_MAND never worked; Linux ignores such requests.
    if (cmd & LOCK_MAND) return 0;
    short type;
    switch (cmd & ~static_cast<u32>(LOCK_NB)) {
    case LOCK_SH:
        type = fs::LOCK_TYPE_READ;
        break;
    case LOCK_EX:
        type = fs::LOCK_TYPE_WRITE;
        break;
    case LOCK_UN:
        type = fs::LOCK_TYPE_UNLOCK;
        break;
    default:
        return Error(EINVAL);
    }
    fs::FileRef f = proc::current_process()->fds->get(static_cast<int>(args.a0));
    if (!f) return Error(EBADF);
    // O_PATH descriptors can only unlock.
    fs::File* vf = f->vfs_file();
    if (type != fs::LOCK_TYPE_UNLOCK && vf && vf->is_path_only()) return Error(EBADF);
    TRY(fs::flock(*f, type, cmd & LOCK_NB));
    return 0;
}

}  // namespace keel
