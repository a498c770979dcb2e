// mount(2), umount2(2) and chroot(2): the calls that change what a path
// means. File system types register themselves at boot (fs/root.cpp);
// everything about the mount tree is fs/core's.
#include <linux/capability.h>
#include <linux/fcntl.h>
#include <linux/mount.h>

#include "fs/core/vfs.h"
#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/syscall/path_args.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "mm/slab.h"

namespace keel {

namespace {

proc::Process& me() { return *proc::current_process(); }

constexpr usize kPageSize = 4096;
// mount(2)'s "magic" in the top half of flags, from the days before flags.
constexpr u32 kMgcMask = 0xffff0000;
constexpr u32 kMgcVal = 0xc0ed0000;
constexpr u32 kPropagation = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

// A string argument of mount(2): at most a page, EFAULT for a bad
// pointer, EINVAL when too long (Linux's strndup_user). Null stays empty.
struct MountString {
    char buf[kPageSize];
    usize len = 0;
    bool present = false;
    StringView view() const { return StringView(buf, len); }
};

Status copy_mount_string(uptr user, MountString& out) {
    if (!user) return {};
    out.len = TRY(strncpy_from_user(out.buf, user, sizeof(out.buf), EINVAL));
    out.present = true;
    return {};
}

// The data argument is a page of bytes, not necessarily a string; Keel's
// file systems all take option strings, so it is read as one, cut at a
// page as Linux cuts it.
Status copy_mount_data(uptr user, MountString& out) {
    if (!user) return {};
    auto r = strncpy_from_user(out.buf, user, sizeof(out.buf), E2BIG);
    if (r.is_error() && r.error().code() != E2BIG) return r.error();
    out.len = r.is_error() ? sizeof(out.buf) - 1 : r.value();
    out.buf[out.len] = 0;
    out.present = true;
    return {};
}

bool is_mount_root(const fs::Path& p) { return &p.mnt->root() == p.dentry.get(); }

Result<u64> do_mount(const MountString& source, const fs::Path& target, const MountString& type, u32 flags,
                     const MountString& data) {
    if ((flags & kMgcMask) == kMgcVal) flags &= ~kMgcMask;
    if (flags & MS_NOUSER) return Error(EINVAL);
    if (!fs::cred_of(me()).capable(CAP_SYS_ADMIN)) return Error(EPERM);

    if ((flags & (MS_REMOUNT | MS_BIND)) == (MS_REMOUNT | MS_BIND)) {
        if (!is_mount_root(target)) return Error(EINVAL);
        TRY(fs::remount(target, flags));
        return 0;
    }
    if (flags & MS_REMOUNT) {
        if (!is_mount_root(target)) return Error(EINVAL);
        TRY(fs::remount(target, flags));
        return 0;
    }
    if (flags & MS_BIND) {
        // MS_REC: the submounts of the source are not copied yet.
        fs::Cred cred = fs::cred_of(me());
        if (!source.present) return Error(EFAULT);
        if (source.len == 0) return Error(ENOENT);
        fs::Path root = me().root(), cwd = me().cwd();
        fs::LookupRequest req{cred, root, cwd, source.view(), fs::LOOKUP_FOLLOW};
        fs::Path from = TRY(fs::lookup(req));
        TRY(fs::bind_mount(from, target, flags));
        return 0;
    }
    if (flags & kPropagation) {
        // No mount propagation in Keel: every mount is private, which is
        // what a change to any type looks like from a single namespace.
        u32 type_bits = flags & kPropagation;
        if (type_bits & (type_bits - 1)) return Error(EINVAL);
        if (flags & ~(kPropagation | MS_REC | MS_SILENT)) return Error(EINVAL);
        if (!is_mount_root(target)) return Error(EINVAL);
        return 0;
    }
    if (flags & MS_MOVE) return Error(EINVAL);  // not supported yet (docs/syscalls.md)

    if (!type.present) return Error(EINVAL);
    const fs::FsType* fst = fs::find_fs_type(type.view());
    if (!fst) return Error(ENODEV);
    RefPtr<fs::Superblock> sb = TRY(fst->mount(*fst, source.view(), flags, data.view()));
    TRY(fs::mount_at(target, move(sb), source.present ? source.view() : StringView("none"), flags));
    return 0;
}

}  // namespace

SYSCALL(mount) {
    // Copies first, then the target's lookup, then the checks: Linux's order.
    MountString* strings = static_cast<MountString*>(TRY(mm::kmalloc(3 * sizeof(MountString))));
    MountString& type = *new (&strings[0]) MountString;
    MountString& source = *new (&strings[1]) MountString;
    MountString& data = *new (&strings[2]) MountString;
    auto run = [&]() -> Result<u64> {
        TRY(copy_mount_string(args.a2, type));
        TRY(copy_mount_string(args.a0, source));
        TRY(copy_mount_data(args.a4, data));
        fs::Path target = TRY(sysarg::resolve(AT_FDCWD, args.a1, fs::LOOKUP_FOLLOW));
        return do_mount(source, target, type, static_cast<u32>(args.a3), data);
    };
    Result<u64> r = run();
    mm::kfree(strings);
    return r;
}

SYSCALL(umount2) {
    int flags = static_cast<int>(args.a1);
    if (flags & ~(fs::MNT_FORCE | fs::MNT_DETACH | fs::MNT_EXPIRE | fs::UMOUNT_NOFOLLOW)) return Error(EINVAL);
    u32 lf = (flags & fs::UMOUNT_NOFOLLOW) ? 0 : fs::LOOKUP_FOLLOW;
    fs::Path target = TRY(sysarg::resolve(AT_FDCWD, args.a0, lf));
    if (!fs::cred_of(me()).capable(CAP_SYS_ADMIN)) return Error(EPERM);
    if ((flags & fs::MNT_EXPIRE) && (flags & (fs::MNT_FORCE | fs::MNT_DETACH))) return Error(EINVAL);
    TRY(fs::umount(target, flags));
    return 0;
}

SYSCALL(chroot) {
    fs::Path dir = TRY(sysarg::resolve(AT_FDCWD, args.a0, fs::LOOKUP_FOLLOW | fs::LOOKUP_DIRECTORY));
    fs::Cred cred = fs::cred_of(me());
    TRY(fs::inode_permission(*dir.inode(), cred, fs::MAY_EXEC | fs::MAY_CHDIR));
    if (!cred.capable(CAP_SYS_CHROOT)) return Error(EPERM);
    me().set_root(move(dir));
    return 0;
}

}  // namespace keel
