// Path-based file calls over the VFS: open, stat, getdents64, mkdir,
// unlink, rmdir, the current directory, positioned I/O and lseek.
#include <linux/fcntl.h>
#include <linux/limits.h>

#include "fs/core/vfs.h"
#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "mm/slab.h"

namespace keel {

namespace {

proc::Process& me() { return *proc::current_process(); }

struct PathArg {
    char buf[PATH_MAX];
    usize len = 0;
    StringView view() const { return StringView(buf, len); }
};

// Copies a path argument; ENOENT for an empty one unless allowed.
Status copy_path(uptr user, PathArg& out, bool allow_empty = false) {
    out.len = TRY(strncpy_from_user(out.buf, user, sizeof(out.buf), ENAMETOOLONG));
    if (out.len == 0 && !allow_empty) return Error(ENOENT);
    return {};
}

// Where a relative path starts: the cwd for AT_FDCWD, else the directory
// open at dirfd.
Result<fs::Path> base_for(int dirfd) {
    if (dirfd == AT_FDCWD) return me().cwd;
    fs::OpenFile* f = me().fds->get(dirfd);
    if (!f) return Error(EBADF);
    fs::File* vf = fs::vfs_file_of(f);
    if (!vf) return Error(ENOTDIR);
    return vf->path();
}

Result<u64> do_openat(int dirfd, uptr upath, u32 oflags, u32 mode) {
    PathArg path;
    TRY(copy_path(upath, path));
    fs::Path base = TRY(base_for(dirfd));
    fs::Cred cred = fs::cred_of(me());
    fs::LookupRequest req{cred, me().root, base, path.view()};
    RefPtr<fs::File> file = TRY(fs::open(req, oflags, mode & 07777 & ~me().umask));
    fs::OpenFile* of = TRY(fs::wrap_vfs_file(move(file)));
    of->flags = oflags & ~static_cast<u32>(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
    auto fd = me().fds->install(of, 0, oflags & O_CLOEXEC);
    if (fd.is_error()) {
        of->put();
        return fd.error();
    }
    return static_cast<u64>(fd.value());
}

Result<u64> stat_at(int dirfd, uptr upath, uptr out, u32 flags) {
    if (flags & ~static_cast<u32>(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) return Error(EINVAL);
    PathArg path;
    TRY(copy_path(upath, path, flags & AT_EMPTY_PATH));
    struct stat st;
    if (path.len == 0) {
        fs::OpenFile* f = me().fds->get(dirfd);
        if (dirfd == AT_FDCWD) TRY(fs::stat_path(me().cwd, st));
        else if (!f) return Error(EBADF);
        else TRY(f->stat(st));
    } else {
        fs::Path base = TRY(base_for(dirfd));
        fs::Cred cred = fs::cred_of(me());
        u32 lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : fs::LOOKUP_FOLLOW;
        fs::LookupRequest req{cred, me().root, base, path.view(), lf};
        fs::Path target = TRY(fs::lookup(req));
        TRY(fs::stat_path(target, st));
    }
    TRY(UserOut<struct stat>(out).write(st));
    return 0;
}

template <typename Op>
Result<u64> with_request(int dirfd, uptr upath, Op&& op) {
    PathArg path;
    TRY(copy_path(upath, path));
    fs::Path base = TRY(base_for(dirfd));
    fs::Cred cred = fs::cred_of(me());
    fs::LookupRequest req{cred, me().root, base, path.view()};
    TRY(op(req));
    return 0;
}

fs::File* vfs_at(u64 fd, Error& err) {
    fs::OpenFile* f = me().fds->get(static_cast<int>(fd));
    if (!f) {
        err = Error(EBADF);
        return nullptr;
    }
    fs::File* vf = fs::vfs_file_of(f);
    if (!vf) err = Error(ESPIPE);
    return vf;
}

}  // namespace

SYSCALL(openat) {
    return do_openat(static_cast<int>(args.a0), args.a1, static_cast<u32>(args.a2), static_cast<u32>(args.a3));
}
SYSCALL(open) { return do_openat(AT_FDCWD, args.a0, static_cast<u32>(args.a1), static_cast<u32>(args.a2)); }
SYSCALL(creat) { return do_openat(AT_FDCWD, args.a0, O_CREAT | O_WRONLY | O_TRUNC, static_cast<u32>(args.a1)); }

SYSCALL(stat) { return stat_at(AT_FDCWD, args.a0, args.a1, 0); }
SYSCALL(lstat) { return stat_at(AT_FDCWD, args.a0, args.a1, AT_SYMLINK_NOFOLLOW); }
SYSCALL(newfstatat) { return stat_at(static_cast<int>(args.a0), args.a1, args.a2, static_cast<u32>(args.a3)); }

SYSCALL(mkdirat) {
    u32 mode = static_cast<u32>(args.a2) & 07777 & ~me().umask;
    return with_request(static_cast<int>(args.a0), args.a1, [&](fs::LookupRequest& r) { return fs::mkdir(r, mode); });
}
SYSCALL(mkdir) {
    u32 mode = static_cast<u32>(args.a1) & 07777 & ~me().umask;
    return with_request(AT_FDCWD, args.a0, [&](fs::LookupRequest& r) { return fs::mkdir(r, mode); });
}
SYSCALL(unlinkat) {
    u32 flags = static_cast<u32>(args.a2);
    if (flags & ~static_cast<u32>(AT_REMOVEDIR)) return Error(EINVAL);
    return with_request(static_cast<int>(args.a0), args.a1, [&](fs::LookupRequest& r) {
        return (flags & AT_REMOVEDIR) ? fs::rmdir(r) : fs::unlink(r);
    });
}
SYSCALL(unlink) { return with_request(AT_FDCWD, args.a0, [](fs::LookupRequest& r) { return fs::unlink(r); }); }
SYSCALL(rmdir) { return with_request(AT_FDCWD, args.a0, [](fs::LookupRequest& r) { return fs::rmdir(r); }); }

SYSCALL(chdir) {
    PathArg path;
    TRY(copy_path(args.a0, path));
    fs::Cred cred = fs::cred_of(me());
    fs::LookupRequest req{cred, me().root, me().cwd, path.view(), fs::LOOKUP_FOLLOW | fs::LOOKUP_DIRECTORY};
    me().cwd = TRY(fs::lookup(req));
    return 0;
}

SYSCALL(fchdir) {
    fs::OpenFile* f = me().fds->get(static_cast<int>(args.a0));
    if (!f) return Error(EBADF);
    fs::File* vf = fs::vfs_file_of(f);
    if (!vf || !vf->inode().is_dir()) return Error(ENOTDIR);
    me().cwd = vf->path();
    return 0;
}

SYSCALL(getcwd) {
    char buf[PATH_MAX];
    StringView p = TRY(fs::path_for_getcwd(me().cwd, me().root, buf, sizeof(buf)));
    if (p.size() + 1 > args.a1) return Error(ERANGE);
    TRY(copy_to_user(args.a0, p.data(), p.size()));
    char nul = 0;
    TRY(copy_to_user(args.a0 + p.size(), &nul, 1));
    return p.size() + 1;
}

SYSCALL(lseek) {
    Error err(0);
    fs::File* f = vfs_at(args.a0, err);
    if (!f) return err;
    return fs::lseek(*f, static_cast<i64>(args.a1), static_cast<int>(args.a2));
}

SYSCALL(pread64) {
    Error err(0);
    fs::File* f = vfs_at(args.a0, err);
    if (!f) return err;
    if (static_cast<i64>(args.a3) < 0) return Error(EINVAL);
    IoBuffer io = IoBuffer::user(args.a1, min<usize>(args.a2, 0x7ffff000));
    fs::IoData d(io);
    return fs::pread(*f, d, args.a3);
}

SYSCALL(pwrite64) {
    Error err(0);
    fs::File* f = vfs_at(args.a0, err);
    if (!f) return err;
    if (static_cast<i64>(args.a3) < 0) return Error(EINVAL);
    IoBuffer io = IoBuffer::user(args.a1, min<usize>(args.a2, 0x7ffff000));
    fs::IoData d(io);
    return fs::pwrite(*f, d, args.a3, fs::cred_of(me()));
}

SYSCALL(getdents64) {
    fs::OpenFile* of = me().fds->get(static_cast<int>(args.a0));
    if (!of) return Error(EBADF);
    fs::File* f = fs::vfs_file_of(of);
    if (!f) return Error(ENOTDIR);
    usize count = min<usize>(args.a2, 64 * 1024);
    u8* kbuf = static_cast<u8*>(TRY(mm::kmalloc(max<usize>(count, 1))));
    fs::Dirent64Writer w(kbuf, count);
    Status st = fs::iterate_dir(*f, w);
    Result<u64> r = st.is_error() ? Result<u64>(st.error())
                    : (w.overflowed() && w.used() == 0) ? Result<u64>(Error(EINVAL))
                    : copy_to_user(args.a1, kbuf, w.used()).is_error() ? Result<u64>(Error(EFAULT))
                                                                          : Result<u64>(w.used());
    mm::kfree(kbuf);
    return r;
}

}  // namespace keel
