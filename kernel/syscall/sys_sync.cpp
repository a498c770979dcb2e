// sync(2) and friends, and fallocate(2). Every file system Keel has lives
// in memory, so there is nothing to write back: these calls only check
// their arguments as Linux does and succeed.
#include <linux/falloc.h>
#include <linux/fs.h>

#include "fs/core/file.h"
#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"

namespace keel {

namespace {

Result<fs::FileRef> file_at(u64 fd) {
    fs::FileRef f = proc::current_process()->fds->get(static_cast<int>(fd));
    if (!f) return Error(EBADF);
    return f;
}

// fsync on something without a fsync operation (pipes, sockets, most
// character devices) is EINVAL.
Result<u64> do_fsync(u64 fd) {
    fs::FileRef f = TRY(file_at(fd));
    fs::File* vf = f->vfs_file();
    if (!vf) return Error(EINVAL);
    if (vf->is_path_only()) return Error(EBADF);
    u32 type = vf->inode().type();
    if (type != S_IFREG && type != S_IFDIR) return Error(EINVAL);
    return 0;
}

}  // namespace

SYSCALL(sync) { return 0; }

SYSCALL(syncfs) {
    fs::FileRef f = TRY(file_at(args.a0));
    (void)f;
    return 0;
}

SYSCALL(fsync) { return do_fsync(args.a0); }
SYSCALL(fdatasync) { return do_fsync(args.a0); }

SYSCALL(sync_file_range) {
    i64 off = static_cast<i64>(args.a1);
    i64 nbytes = static_cast<i64>(args.a2);
    u32 flags = static_cast<u32>(args.a3);
    constexpr u32 kValid = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    if (flags & ~kValid) return Error(EINVAL);
    if (off < 0 || nbytes < 0 || off + nbytes < off) return Error(EINVAL);
    fs::FileRef f = TRY(file_at(args.a0));
    fs::File* vf = f->vfs_file();
    if (!vf) return Error(ESPIPE);
    u32 type = vf->inode().type();
    if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFBLK) return Error(ESPIPE);
    return 0;
}

SYSCALL(fallocate) {
    int mode = static_cast<int>(args.a1);
    i64 off = static_cast<i64>(args.a2);
    i64 len = static_cast<i64>(args.a3);
    fs::FileRef f = TRY(file_at(args.a0));
    fs::File* vf = f->vfs_file();
    if (!vf) {
        if (off < 0 || len <= 0) return Error(EINVAL);
        if (f->kind() == fs::FileKind::Pipe) return Error(ESPIPE);
        return Error(ENODEV);
    }
    TRY(fs::fallocate(*vf, mode, off, len, fs::cred_of(*proc::current_process())));
    return 0;
}

}  // namespace keel
