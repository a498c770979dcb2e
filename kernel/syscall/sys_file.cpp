// Path-based file calls over the VFS: open, stat, getdents64, mkdir,
// unlink, rmdir, the current directory, positioned I/O and lseek.
#include <asm/signal.h>
#include <linux/fcntl.h>
#include <linux/resource.h>
#include <linux/limits.h>

#include "fs/core/vfs.h"
#include "fs/dev/chrdev.h"
#include "fs/pipe.h"
#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/path_args.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "mm/slab.h"

namespace keel {

using sysarg::base_for;
using sysarg::copy_path;
using sysarg::path_of_fd;
using sysarg::PathArg;
using sysarg::resolve;

namespace {

proc::Process& me() { return *proc::current_process(); }

Result<u64> do_openat(int dirfd, uptr upath, u32 oflags, u32 mode, u64 resolve = 0) {
    // A 64-bit process's files are always large files (O_PATH keeps only
    // its own few flags).
    if (!(oflags & O_PATH)) oflags |= O_LARGEFILE;
    PathArg path;
    TRY(copy_path(upath, path));
    // RESOLVE_BENEATH and RESOLVE_IN_ROOT judge even absolute paths by
    // dirfd; otherwise an absolute path never looks at it.
    bool scoped = resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT);
    fs::Path base = scoped ? TRY(base_for(dirfd)) : TRY(base_for(dirfd, path));
    fs::Cred cred = fs::cred_of(me());
    fs::Path root = me().root();
    fs::LookupRequest req{cred, root, base, path.view()};
    req.resolve = resolve;
    RefPtr<fs::File> file = TRY(fs::open(req, oflags, mode & 07777 & ~me().umask));
    // Device nodes get their driver's description; O_PATH never opens
    // the device.
    bool chr = (file->inode().type() == S_IFCHR) && !(oflags & O_PATH);
    // O_NOCTTY reaches the driver through the file's flags (ttys read and clear it).
    if (chr && (oflags & O_NOCTTY)) file->set_flags(file->flags() | O_NOCTTY);
    bool fifo = file->inode().type() == S_IFIFO && !(oflags & O_PATH);
    fs::OpenFile* own = (chr || fifo || (oflags & O_PATH)) ? nullptr : TRY(file->inode().open_description(*file));
    fs::OpenFile* of = own    ? own
                       : chr  ? TRY(fs::open_chrdev(move(file)))
                       : fifo ? TRY(fs::open_fifo(move(file), oflags))
                              : TRY(fs::wrap_vfs_file(move(file)));
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
        fs::FileRef f = me().fds->get(dirfd);
        if (dirfd == AT_FDCWD) TRY(fs::stat_path(me().cwd(), st));
        else if (!f) return Error(EBADF);
        else TRY(f->stat(st));
    } else {
        fs::Path base = TRY(base_for(dirfd, path));
        fs::Cred cred = fs::cred_of(me());
        u32 lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : fs::LOOKUP_FOLLOW;
        fs::Path root = me().root();
        fs::LookupRequest req{cred, root, base, path.view(), lf};
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
    fs::Path base = TRY(base_for(dirfd, path));
    fs::Cred cred = fs::cred_of(me());
    fs::Path root = me().root();
    fs::LookupRequest req{cred, root, base, path.view()};
    TRY(op(req));
    return 0;
}

// The VFS file at fd for the positioned calls: ESPIPE for pipes and other
// unseekable files.
Result<fs::FileRef> file_at(u64 fd) {
    fs::FileRef f = me().fds->get(static_cast<int>(fd));
    if (!f) return Error(EBADF);
    return f;
}

}  // namespace

SYSCALL(openat) {
    return do_openat(static_cast<int>(args.a0), args.a1, static_cast<u32>(args.a2), static_cast<u32>(args.a3));
}
// openat2 refuses what open(2) silently ignores.
SYSCALL(openat2) {
    usize size = args.a3;
    if (size < sizeof(open_how)) return Error(EINVAL);
    if (size > 4096) return Error(E2BIG);
    open_how how = TRY(UserIn<open_how>(args.a2).read());
    for (usize at = sizeof(open_how); at < size; ++at) {
        u8 b;
        TRY(copy_from_user(&b, args.a2 + at, 1));
        if (b) return Error(E2BIG);
    }
    constexpr u64 kValidFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
                                __O_SYNC | O_DSYNC | FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW |
                                O_NOATIME | O_CLOEXEC | O_PATH | __O_TMPFILE;
    constexpr u64 kValidResolve =
        RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;
    if (how.flags & ~kValidFlags) return Error(EINVAL);
    if (how.resolve & ~kValidResolve) return Error(EINVAL);
    bool creates = (how.flags & O_CREAT) || (how.flags & __O_TMPFILE) == __O_TMPFILE;
    if (creates ? (how.mode & ~static_cast<u64>(07777)) : how.mode != 0) return Error(EINVAL);
    if ((how.flags & O_PATH) && (how.flags & ~static_cast<u64>(O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)))
        return Error(EINVAL);
    if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT)) return Error(EINVAL);
    if ((how.resolve & RESOLVE_CACHED) && (how.flags & (O_TRUNC | O_CREAT | __O_TMPFILE))) return Error(EAGAIN);
    return do_openat(static_cast<int>(args.a0), args.a1, static_cast<u32>(how.flags) | O_LARGEFILE,
                     static_cast<u32>(how.mode), how.resolve);
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
namespace {
Result<u64> do_mknod(int dirfd, uptr upath, u32 mode, u32 dev) {
    u32 type = mode & S_IFMT;
    // The umask applies to the permission bits only.
    u32 m = type | (mode & 07777 & ~me().umask);
    return with_request(dirfd, upath, [&](fs::LookupRequest& r) { return fs::mknod(r, m, fs::decode_dev(dev)); });
}
}  // namespace

SYSCALL(mknodat) {
    return do_mknod(static_cast<int>(args.a0), args.a1, static_cast<u32>(args.a2), static_cast<u32>(args.a3));
}
SYSCALL(mknod) { return do_mknod(AT_FDCWD, args.a0, static_cast<u32>(args.a1), static_cast<u32>(args.a2)); }

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
    fs::Path root = me().root();
    fs::Path cwd = me().cwd();
    fs::LookupRequest req{cred, root, cwd, path.view(), fs::LOOKUP_FOLLOW | fs::LOOKUP_DIRECTORY};
    me().set_cwd(TRY(fs::lookup(req)));
    return 0;
}

SYSCALL(fchdir) {
    fs::FileRef f = me().fds->get(static_cast<int>(args.a0));
    if (!f) return Error(EBADF);
    fs::File* vf = fs::vfs_file_of(f.get());
    if (!vf || !vf->inode().is_dir()) return Error(ENOTDIR);
    me().set_cwd(vf->path());
    return 0;
}

SYSCALL(getcwd) {
    sysarg::PathBuf scratch;
    char* buf = TRY(scratch.get());
    StringView p = TRY(fs::path_for_getcwd(me().cwd(), me().root(), buf, sysarg::PathBuf::kSize));
    if (p.size() + 1 > args.a1) return Error(ERANGE);
    TRY(copy_to_user(args.a0, p.data(), p.size()));
    char nul = 0;
    TRY(copy_to_user(args.a0 + p.size(), &nul, 1));
    return p.size() + 1;
}

SYSCALL(lseek) {
    fs::FileRef f = TRY(file_at(args.a0));
    return f->lseek(static_cast<i64>(args.a1), static_cast<int>(args.a2));
}

SYSCALL(pread64) {
    if (static_cast<i64>(args.a3) < 0) return Error(EINVAL);
    fs::FileRef f = TRY(file_at(args.a0));
    return f->pread(IoBuffer::user(args.a1, min<usize>(args.a2, 0x7ffff000)), args.a3);
}

SYSCALL(pwrite64) {
    if (static_cast<i64>(args.a3) < 0) return Error(EINVAL);
    fs::FileRef f = TRY(file_at(args.a0));
    return f->pwrite(IoBuffer::user(args.a1, min<usize>(args.a2, 0x7ffff000)), args.a3);
}

SYSCALL(getdents64) {
    fs::FileRef of = me().fds->get(static_cast<int>(args.a0));
    if (!of) return Error(EBADF);
    fs::File* f = fs::vfs_file_of(of.get());
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

// ---- names and attributes ----------------------------------------------

namespace keel {

namespace {

// Two-path calls (rename, link): both requests built side by side.
template <typename Op>
Result<u64> with_two(int olddir, uptr oldp, int newdir, uptr newp, u32 oldflags, Op&& op) {
    PathArg a, b;
    TRY(copy_path(oldp, a, oldflags & fs::LOOKUP_EMPTY));
    TRY(copy_path(newp, b));
    fs::Path abase = TRY(base_for(olddir, a));
    fs::Path bbase = TRY(base_for(newdir, b));
    fs::Cred cred = fs::cred_of(me());
    fs::Path root = me().root();
    fs::LookupRequest from{cred, root, abase, a.view(), oldflags};
    fs::LookupRequest to{cred, root, bbase, b.view()};
    TRY(op(from, to));
    return 0;
}

u32 at_flags(u32 at, u32 allowed) { return (at & AT_SYMLINK_NOFOLLOW) || !(allowed & AT_SYMLINK_NOFOLLOW) ? 0 : fs::LOOKUP_FOLLOW; }

}  // namespace

SYSCALL(renameat2) {
    u32 flags = static_cast<u32>(args.a4);
    return with_two(static_cast<int>(args.a0), args.a1, static_cast<int>(args.a2), args.a3, 0,
                    [&](fs::LookupRequest& f, fs::LookupRequest& t) { return fs::rename(f, t, flags); });
}
SYSCALL(renameat) {
    return with_two(static_cast<int>(args.a0), args.a1, static_cast<int>(args.a2), args.a3, 0,
                    [](fs::LookupRequest& f, fs::LookupRequest& t) { return fs::rename(f, t, 0); });
}
SYSCALL(rename) {
    return with_two(AT_FDCWD, args.a0, AT_FDCWD, args.a1, 0,
                    [](fs::LookupRequest& f, fs::LookupRequest& t) { return fs::rename(f, t, 0); });
}

SYSCALL(linkat) {
    u32 flags = static_cast<u32>(args.a4);
    if (flags & ~static_cast<u32>(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Error(EINVAL);
    u32 lf = ((flags & AT_SYMLINK_FOLLOW) ? fs::LOOKUP_FOLLOW : 0) | ((flags & AT_EMPTY_PATH) ? fs::LOOKUP_EMPTY : 0);
    return with_two(static_cast<int>(args.a0), args.a1, static_cast<int>(args.a2), args.a3, lf,
                    [](fs::LookupRequest& f, fs::LookupRequest& t) { return fs::link(f, t); });
}
SYSCALL(link) {
    return with_two(AT_FDCWD, args.a0, AT_FDCWD, args.a1, 0,
                    [](fs::LookupRequest& f, fs::LookupRequest& t) { return fs::link(f, t); });
}

SYSCALL(symlinkat) {
    PathArg target;
    TRY(copy_path(args.a0, target));
    return with_request(static_cast<int>(args.a1), args.a2,
                        [&](fs::LookupRequest& r) { return fs::symlink(target.view(), r); });
}
SYSCALL(symlink) {
    PathArg target;
    TRY(copy_path(args.a0, target));
    return with_request(AT_FDCWD, args.a1, [&](fs::LookupRequest& r) { return fs::symlink(target.view(), r); });
}

namespace {
Result<u64> do_readlink(int dirfd, uptr upath, uptr ubuf, u64 size) {
    if (static_cast<i64>(size) <= 0) return Error(EINVAL);
    PathArg path;
    TRY(copy_path(upath, path));
    fs::Path base = TRY(base_for(dirfd, path));
    fs::Cred cred = fs::cred_of(me());
    fs::Path root = me().root();
    fs::LookupRequest req{cred, root, base, path.view()};
    sysarg::PathBuf scratch;
    char* buf = TRY(scratch.get());
    usize n = TRY(fs::readlink(req, buf, min<usize>(size, sysarg::PathBuf::kSize)));
    TRY(copy_to_user(ubuf, buf, n));
    return n;
}
}  // namespace

SYSCALL(readlinkat) { return do_readlink(static_cast<int>(args.a0), args.a1, args.a2, args.a3); }
SYSCALL(readlink) { return do_readlink(AT_FDCWD, args.a0, args.a1, args.a2); }

SYSCALL(fchmodat) {
    fs::Path p = TRY(resolve(static_cast<int>(args.a0), args.a1, fs::LOOKUP_FOLLOW));
    TRY(fs::chmod(p, static_cast<u32>(args.a2) & 07777, fs::cred_of(me())));
    return 0;
}
SYSCALL(chmod) {
    fs::Path p = TRY(resolve(AT_FDCWD, args.a0, fs::LOOKUP_FOLLOW));
    TRY(fs::chmod(p, static_cast<u32>(args.a1) & 07777, fs::cred_of(me())));
    return 0;
}
SYSCALL(fchmod) {
    fs::Path p = TRY(path_of_fd(args.a0));
    TRY(fs::chmod(p, static_cast<u32>(args.a1) & 07777, fs::cred_of(me())));
    return 0;
}

SYSCALL(fchownat) {
    u32 flags = static_cast<u32>(args.a4);
    if (flags & ~static_cast<u32>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Error(EINVAL);
    u32 lf = at_flags(flags, AT_SYMLINK_NOFOLLOW) | ((flags & AT_EMPTY_PATH) ? fs::LOOKUP_EMPTY : 0);
    fs::Path p = TRY(resolve(static_cast<int>(args.a0), args.a1, lf));
    TRY(fs::chown(p, static_cast<u32>(args.a2), static_cast<u32>(args.a3), fs::cred_of(me())));
    return 0;
}
SYSCALL(chown) {
    fs::Path p = TRY(resolve(AT_FDCWD, args.a0, fs::LOOKUP_FOLLOW));
    TRY(fs::chown(p, static_cast<u32>(args.a1), static_cast<u32>(args.a2), fs::cred_of(me())));
    return 0;
}
SYSCALL(lchown) {
    fs::Path p = TRY(resolve(AT_FDCWD, args.a0, 0));
    TRY(fs::chown(p, static_cast<u32>(args.a1), static_cast<u32>(args.a2), fs::cred_of(me())));
    return 0;
}
SYSCALL(fchown) {
    fs::Path p = TRY(path_of_fd(args.a0));
    TRY(fs::chown(p, static_cast<u32>(args.a1), static_cast<u32>(args.a2), fs::cred_of(me())));
    return 0;
}

namespace {
// Growing a file past RLIMIT_FSIZE is EFBIG plus SIGXFSZ (Linux's
// inode_newsize_ok); past the file system's limit only EFBIG.
Result<u64> fsize_checked(Status st, i64 length) {
    if (st.is_error() && st.error().code() == EFBIG) {
        u64 limit = me().rlimits[RLIMIT_FSIZE].cur;
        if (limit != RLIM_INFINITY && static_cast<u64>(length) > limit)
            (void)sig::send_to_process(me(), SIGXFSZ, nullptr);
    }
    TRY(st);
    return 0;
}
}  // namespace

SYSCALL(truncate) {
    fs::Path p = TRY(resolve(AT_FDCWD, args.a0, fs::LOOKUP_FOLLOW));
    return fsize_checked(fs::truncate(p, static_cast<i64>(args.a1), fs::cred_of(me())), static_cast<i64>(args.a1));
}
SYSCALL(ftruncate) {
    fs::FileRef f = me().fds->get(static_cast<int>(args.a0));
    if (!f) return Error(EBADF);
    fs::File* vf = fs::vfs_file_of(f.get());
    if (!vf) return Error(EINVAL);
    return fsize_checked(fs::ftruncate(*vf, static_cast<i64>(args.a1), fs::cred_of(me())), static_cast<i64>(args.a1));
}

SYSCALL(utimensat) {
    u32 flags = static_cast<u32>(args.a3);
    if (flags & ~static_cast<u32>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Error(EINVAL);
    fs::Path p;
    if (!args.a1) {
        p = TRY(path_of_fd(args.a0));  // futimens: a null path names the descriptor
    } else {
        u32 lf = at_flags(flags, AT_SYMLINK_NOFOLLOW) | ((flags & AT_EMPTY_PATH) ? fs::LOOKUP_EMPTY : 0);
        p = TRY(resolve(static_cast<int>(args.a0), args.a1, lf));
    }
    fs::Timespec ts[2];
    const fs::Timespec* times = nullptr;
    if (args.a2) {
        struct {
            i64 sec, nsec;
        } in[2];
        TRY(copy_from_user(in, args.a2, sizeof(in)));
        for (int i = 0; i < 2; ++i) ts[i] = {in[i].sec, in[i].nsec};
        times = ts;
    }
    TRY(fs::utimes(p, times, fs::cred_of(me())));
    return 0;
}

namespace {
Result<u64> do_access(int dirfd, uptr upath, int mode, u32 flags) {
    if (mode & ~7) return Error(EINVAL);
    if (flags & ~static_cast<u32>(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Error(EINVAL);
    u32 lf = at_flags(flags, AT_SYMLINK_NOFOLLOW) | ((flags & AT_EMPTY_PATH) ? fs::LOOKUP_EMPTY : 0);
    // access() checks with the real ids unless AT_EACCESS.
    proc::Cred& c = me().cred;
    fs::Cred cred = fs::cred_of(me());
    if (!(flags & AT_EACCESS)) {
        cred.fsuid = c.ruid;
        cred.fsgid = c.rgid;
        cred.caps = c.ruid == 0 ? fs::Cred::ALL_CAPS : 0;
    }
    PathArg path;
    TRY(copy_path(upath, path, lf & fs::LOOKUP_EMPTY));
    fs::Path base = TRY(base_for(dirfd, path));
    fs::Path root = me().root();
    fs::LookupRequest req{cred, root, base, path.view(), lf};
    fs::Path p = TRY(fs::lookup(req));
    if (mode) TRY(fs::inode_permission(*p.inode(), cred, mode | fs::MAY_ACCESS));
    return 0;
}
}  // namespace

SYSCALL(access) { return do_access(AT_FDCWD, args.a0, static_cast<int>(args.a1), 0); }
SYSCALL(faccessat) { return do_access(static_cast<int>(args.a0), args.a1, static_cast<int>(args.a2), 0); }
SYSCALL(faccessat2) {
    return do_access(static_cast<int>(args.a0), args.a1, static_cast<int>(args.a2), static_cast<u32>(args.a3));
}

}  // namespace keel
