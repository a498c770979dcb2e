// statx(2), statfs(2) and fstatfs(2).
#include <asm/statfs.h>
#include <linux/fcntl.h>
#include <linux/magic.h>
#include <linux/stat.h>

#include "fs/core/vfs.h"
#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/syscall/path_args.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

proc::Process& me() { return *proc::current_process(); }

// statx of a descriptor without a path (pipes, event files): what fstat
// knows, as the basic fields.
void statx_from_stat(const struct stat& st, struct statx& sx) {
    sx = {};
    sx.stx_mask = STATX_BASIC_STATS;
    sx.stx_blksize = static_cast<u32>(st.st_blksize);
    sx.stx_nlink = static_cast<u32>(st.st_nlink);
    sx.stx_uid = st.st_uid;
    sx.stx_gid = st.st_gid;
    sx.stx_mode = static_cast<u16>(st.st_mode);
    sx.stx_ino = st.st_ino;
    sx.stx_size = static_cast<u64>(st.st_size);
    sx.stx_blocks = static_cast<u64>(st.st_blocks);
    sx.stx_atime = {static_cast<i64>(st.st_atime), static_cast<u32>(st.st_atime_nsec), 0};
    sx.stx_mtime = {static_cast<i64>(st.st_mtime), static_cast<u32>(st.st_mtime_nsec), 0};
    sx.stx_ctime = {static_cast<i64>(st.st_ctime), static_cast<u32>(st.st_ctime_nsec), 0};
    auto major = [](u64 d) { return static_cast<u32>((d >> 8) & 0xfff); };
    auto minor = [](u64 d) { return static_cast<u32>((d & 0xff) | ((d >> 12) & 0xfff00)); };
    sx.stx_rdev_major = major(st.st_rdev);
    sx.stx_rdev_minor = minor(st.st_rdev);
    sx.stx_dev_major = major(st.st_dev);
    sx.stx_dev_minor = minor(st.st_dev);
}

// The file open at fd when a call names it with an empty path; null
// when it has a path (then the path is used).
Result<fs::FileRef> pathless_file(int fd) {
    if (fd == AT_FDCWD) return fs::FileRef();
    fs::FileRef f = me().fds->get(fd);
    if (!f) return Error(EBADF);
    if (f->vfs_file()) return fs::FileRef();
    return f;
}

Status fill_statfs(const fs::StatFs& in, struct statfs& out) {
    out = {};
    out.f_type = static_cast<long>(in.type);
    out.f_bsize = static_cast<long>(in.bsize);
    out.f_blocks = static_cast<long>(in.blocks);
    out.f_bfree = static_cast<long>(in.bfree);
    out.f_bavail = static_cast<long>(in.bavail);
    out.f_files = static_cast<long>(in.files);
    out.f_ffree = static_cast<long>(in.ffree);
    out.f_fsid.val[0] = static_cast<int>(in.fsid[0]);
    out.f_fsid.val[1] = static_cast<int>(in.fsid[1]);
    out.f_namelen = static_cast<long>(in.namelen);
    out.f_frsize = static_cast<long>(in.frsize);
    out.f_flags = static_cast<long>(in.flags);
    return {};
}

}  // namespace

SYSCALL(statx) {
    int dirfd = static_cast<int>(args.a0);
    u32 flags = static_cast<u32>(args.a2);
    u32 mask = static_cast<u32>(args.a3);
    if (mask & STATX__RESERVED) return Error(EINVAL);
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return Error(EINVAL);
    if (flags & ~static_cast<u32>(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return Error(EINVAL);

    // Since 6.11 a null path with AT_EMPTY_PATH names dirfd, like "".
    bool empty = false;
    if (flags & AT_EMPTY_PATH) {
        if (!args.a1) {
            empty = true;
        } else {
            char c;
            TRY(copy_from_user(&c, args.a1, 1));
            empty = c == 0;
        }
    }
    struct statx sx {};
    fs::FileRef anon = empty ? TRY(pathless_file(dirfd)) : fs::FileRef();
    if (anon) {
        struct stat st;
        TRY(anon->stat(st));
        statx_from_stat(st, sx);
    } else {
        u32 lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : fs::LOOKUP_FOLLOW;
        fs::Path p = empty ? (dirfd == AT_FDCWD ? me().cwd() : TRY(sysarg::base_for(dirfd)))
                           : TRY(sysarg::resolve(dirfd, args.a1, lf));
        TRY(fs::getattr(p, mask, sx));
    }
    TRY(UserOut<struct statx>(args.a4).write(sx));
    return 0;
}

SYSCALL(statfs) {
    fs::Path p = TRY(sysarg::resolve(AT_FDCWD, args.a0, fs::LOOKUP_FOLLOW));
    fs::StatFs sf;
    TRY(fs::statfs(p, sf));
    struct statfs out;
    TRY(fill_statfs(sf, out));
    TRY(UserOut<struct statfs>(args.a1).write(out));
    return 0;
}

SYSCALL(fstatfs) {
    fs::FileRef f = me().fds->get(static_cast<int>(args.a0));
    if (!f) return Error(EBADF);
    fs::StatFs sf;
    if (fs::File* vf = f->vfs_file()) {
        TRY(fs::statfs(vf->path(), sf));
    } else {
        // Pipes live on pipefs, the other anonymous files on anon_inodefs.
        sf.type = f->kind() == fs::FileKind::Pipe ? PIPEFS_MAGIC : ANON_INODE_FS_MAGIC;
        sf.bsize = sf.frsize = 4096;
        sf.namelen = 255;
        sf.flags = fs::ST_VALID;
    }
    struct statfs out;
    TRY(fill_statfs(sf, out));
    TRY(UserOut<struct statfs>(args.a1).write(out));
    return 0;
}

}  // namespace keel
