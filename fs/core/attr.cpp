// Attribute changes (chmod, chown, utimensat, truncate), statx and statfs,
// and access-time updates.
#include "fs/core/vfs_internal.h"
#include "lib/string.h"

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U  // Linux 6.8; newer than the uapi headers here
#endif

namespace keel::fs {

u32 kill_privs_locked(const Inode& inode, const Cred& cred) {
    const InodeAttr& a = inode.attr_locked();
    if ((a.mode & S_IFMT) != S_IFREG) return 0;
    u32 kill = 0;
    if (a.mode & S_ISUID) kill |= ATTR_KILL_SUID;
    // Set-group-ID with group execute is a real sgid bit; without it, it is
    // dropped only when the caller is not in the group.
    if ((a.mode & S_ISGID) && ((a.mode & S_IXGRP) || !in_group_or_capable(a.gid, cred))) kill |= ATTR_KILL_SGID;
    if (kill && !cred.capable(CAP_FSETID)) return kill;
    return 0;
}

namespace {

bool chown_ok(const InodeAttr& a, u32 uid, const Cred& cred) {
    if (cred.fsuid == a.uid && uid == a.uid) return true;
    return cred.capable(CAP_CHOWN);
}

bool chgrp_ok(const InodeAttr& a, u32 gid, const Cred& cred) {
    if (cred.fsuid == a.uid && (gid == a.gid || cred.in_group(gid))) return true;
    return cred.capable(CAP_CHOWN);
}

bool valid_nsec(i64 ns) { return (ns >= 0 && ns <= 999999999) || ns == UTIME_NOW || ns == UTIME_OMIT; }

}  // namespace

Status setattr_locked(Inode& inode, SetAttr& at, const Cred& cred) {
    InodeAttr& a = inode.attr_locked();
    u32 valid = at.valid;
    if ((valid & ATTR_MODE) && inode.is_symlink()) return Error(EOPNOTSUPP);

    Timespec now = current_time();
    if (!(valid & ATTR_ATIME_SET)) at.atime = now;
    if (!(valid & ATTR_MTIME_SET)) at.mtime = now;
    // Clearing set-user-ID / set-group-ID turns into a mode change.
    if ((valid & ATTR_KILL_SUID) && (a.mode & S_ISUID)) {
        valid |= ATTR_MODE;
        at.mode = a.mode & ~S_ISUID;
    }
    if ((valid & ATTR_KILL_SGID) && (a.mode & S_ISGID)) {
        if (!(valid & ATTR_MODE)) {
            valid |= ATTR_MODE;
            at.mode = a.mode;
        }
        at.mode &= ~S_ISGID;
    }
    if (!(valid & ~(ATTR_KILL_SUID | ATTR_KILL_SGID | ATTR_FORCE))) return {};

    // setattr_prepare
    if (!(valid & ATTR_FORCE)) {
        if ((valid & ATTR_UID) && !chown_ok(a, at.uid, cred)) return Error(EPERM);
        if ((valid & ATTR_GID) && !chgrp_ok(a, at.gid, cred)) return Error(EPERM);
        if (valid & ATTR_MODE) {
            if (!owner_or_capable(a, cred)) return Error(EPERM);
            u32 gid = (valid & ATTR_GID) ? at.gid : a.gid;
            if (!in_group_or_capable(gid, cred)) at.mode &= ~S_ISGID;
        }
        if ((valid & (ATTR_MTIME_SET | ATTR_ATIME_SET | ATTR_TIMES_SET)) && !owner_or_capable(a, cred))
            return Error(EPERM);
    }
    if ((valid & ATTR_SIZE) && at.size > a.size && (at.size > inode.sb().max_file_size() || at.size > cred.fsize_limit))
        return Error(EFBIG);
    // F_SEAL_EXEC (0x20, newer than these uapi headers) freezes the exec bits.
    if ((inode.seals_locked() & 0x20) && (valid & ATTR_MODE) && ((a.mode ^ at.mode) & 0111)) return Error(EPERM);

    // tmpfs: any change updates ctime, except a truncate to the same size;
    // a size change also updates mtime.
    bool update_ctime = true;
    bool update_mtime = false;
    if ((valid & ATTR_SIZE) && inode.is_reg()) {
        if (at.size != a.size) {
            u32 seals = inode.seals_locked();
            if ((at.size < a.size && (seals & F_SEAL_SHRINK)) || (at.size > a.size && (seals & F_SEAL_GROW)))
                return Error(EPERM);
            TRY(inode.truncate(at.size));
            update_mtime = true;
        } else {
            update_ctime = false;
        }
    }
    // setattr_copy
    if (valid & ATTR_UID) a.uid = at.uid;
    if (valid & ATTR_GID) a.gid = at.gid;
    if (valid & ATTR_ATIME) a.atime = at.atime;
    if (valid & ATTR_MTIME) a.mtime = at.mtime;
    if (valid & ATTR_CTIME) a.ctime = now;
    if (valid & ATTR_MODE) a.mode = (a.mode & S_IFMT) | (at.mode & ~S_IFMT);
    if (update_ctime) {
        a.ctime = now;
        if (update_mtime) a.mtime = now;
    }
    return {};
}

Status chmod(const Path& path, u32 mode, const Cred& cred) {
    TRY(may_write_mount(path));
    Inode& inode = *path.inode();
    FsLockGuard g(inode.lock());
    SetAttr at;
    at.valid = ATTR_MODE | ATTR_CTIME;
    at.mode = (mode & S_IALLUGO) | (inode.attr_locked().mode & ~S_IALLUGO);
    return setattr_locked(inode, at, cred);
}

Status chown(const Path& path, u32 uid, u32 gid, const Cred& cred) {
    TRY(may_write_mount(path));
    Inode& inode = *path.inode();
    FsLockGuard g(inode.lock());
    SetAttr at;
    at.valid = ATTR_CTIME;
    if (uid != static_cast<u32>(-1)) {
        at.valid |= ATTR_UID;
        at.uid = uid;
    }
    if (gid != static_cast<u32>(-1)) {
        at.valid |= ATTR_GID;
        at.gid = gid;
    }
    // A change of owner (even to the same one) drops set-user-ID, and
    // set-group-ID where it is a real one.
    if (!inode.is_dir()) {
        const InodeAttr& a = inode.attr_locked();
        at.valid |= ATTR_KILL_SUID;
        if ((a.mode & S_ISGID) && ((a.mode & S_IXGRP) || !in_group_or_capable(a.gid, cred)))
            at.valid |= ATTR_KILL_SGID;
    }
    return setattr_locked(inode, at, cred);
}

Status utimes(const Path& path, const Timespec* times, const Cred& cred) {
    if (times) {
        if (times[0].nsec == UTIME_OMIT && times[1].nsec == UTIME_OMIT) return {};
        if (!valid_nsec(times[0].nsec) || !valid_nsec(times[1].nsec)) return Error(EINVAL);
        if (times[0].nsec == UTIME_NOW && times[1].nsec == UTIME_NOW) times = nullptr;
    }
    TRY(may_write_mount(path));
    Inode& inode = *path.inode();
    SetAttr at;
    at.valid = ATTR_CTIME | ATTR_MTIME | ATTR_ATIME;
    if (times) {
        if (times[0].nsec == UTIME_OMIT) {
            at.valid &= ~ATTR_ATIME;
        } else if (times[0].nsec != UTIME_NOW) {
            at.atime = times[0];
            at.valid |= ATTR_ATIME_SET;
        }
        if (times[1].nsec == UTIME_OMIT) {
            at.valid &= ~ATTR_MTIME;
        } else if (times[1].nsec != UTIME_NOW) {
            at.mtime = times[1];
            at.valid |= ATTR_MTIME_SET;
        }
        at.valid |= ATTR_TIMES_SET;
    } else {
        // "Now" needs only write permission (or ownership).
        if (!owner_or_capable(inode.attr(), cred)) TRY(inode_permission(inode, cred, MAY_WRITE));
    }
    FsLockGuard g(inode.lock());
    return setattr_locked(inode, at, cred);
}

Status truncate(const Path& path, i64 length, const Cred& cred) {
    if (length < 0) return Error(EINVAL);
    Inode& inode = *path.inode();
    if (inode.is_dir()) return Error(EISDIR);
    if (!inode.is_reg()) return Error(EINVAL);
    TRY(may_write_mount(path));
    TRY(inode_permission(inode, cred, MAY_WRITE));
    FsLockGuard g(inode.lock());
    SetAttr at;
    at.valid = ATTR_SIZE;
    at.size = static_cast<u64>(length);
    if (u32 kill = kill_privs_locked(inode, cred)) at.valid |= kill | ATTR_FORCE;
    return setattr_locked(inode, at, cred);
}

Status getattr(const Path& path, u32 request_mask, struct statx& out) {
    mem_set(&out, 0, sizeof(out));
    Inode& inode = *path.inode();
    Superblock& sb = inode.sb();
    out.stx_mask = STATX_BASIC_STATS;
    out.stx_blksize = sb.block_size();
    out.stx_attributes_mask = STATX_ATTR_AUTOMOUNT | STATX_ATTR_DAX | STATX_ATTR_MOUNT_ROOT;
    if (path.dentry.get() == &path.mnt->root()) out.stx_attributes |= STATX_ATTR_MOUNT_ROOT;
    out.stx_dev_major = dev_major(sb.dev());
    out.stx_dev_minor = dev_minor(sb.dev());
    out.stx_ino = inode.ino();
    if (request_mask & STATX_MNT_ID_UNIQUE) {
        out.stx_mnt_id = path.mnt->unique_id();
        out.stx_mask |= STATX_MNT_ID_UNIQUE;
    } else {
        out.stx_mnt_id = static_cast<u64>(path.mnt->id());
        out.stx_mask |= STATX_MNT_ID;
    }
    FsLockGuard g(inode.lock());
    const InodeAttr& a = inode.attr_locked();
    out.stx_nlink = a.nlink;
    out.stx_uid = a.uid;
    out.stx_gid = a.gid;
    out.stx_mode = static_cast<u16>(a.mode);
    out.stx_size = a.size;
    out.stx_blocks = a.blocks;
    out.stx_atime = {a.atime.sec, static_cast<u32>(a.atime.nsec), 0};
    out.stx_mtime = {a.mtime.sec, static_cast<u32>(a.mtime.nsec), 0};
    out.stx_ctime = {a.ctime.sec, static_cast<u32>(a.ctime.nsec), 0};
    out.stx_rdev_major = dev_major(a.rdev);
    out.stx_rdev_minor = dev_minor(a.rdev);
    inode.getattr_extra(out, request_mask);
    return {};
}

Status statfs(const Path& path, StatFs& out) {
    out = StatFs{};
    Superblock& sb = path.mnt->sb();
    TRY(sb.statfs(out));
    if (out.frsize == 0) out.frsize = out.bsize;
    u32 mf = path.mnt->flags();
    u64 f = ST_VALID;
    if ((mf & MS_RDONLY) || sb.read_only()) f |= ST_RDONLY;
    if (mf & MS_NOSUID) f |= ST_NOSUID;
    if (mf & MS_NODEV) f |= ST_NODEV;
    if (mf & MS_NOEXEC) f |= ST_NOEXEC;
    if (mf & MS_NOATIME) f |= ST_NOATIME;
    if (mf & MS_NODIRATIME) f |= ST_NODIRATIME;
    if (mf & MS_RELATIME) f |= ST_RELATIME;
    if (mf & MS_NOSYMFOLLOW) f |= ST_NOSYMFOLLOW;
    out.flags = f;
    return {};
}

void touch_atime(const Path& path) {
    Mount& m = *path.mnt;
    Inode& inode = *path.inode();
    u32 mf = m.flags();
    if (mf & MS_NOATIME) return;
    if ((mf & MS_NODIRATIME) && inode.is_dir()) return;
    if (m.read_only()) return;
    Timespec now = current_time();
    FsLockGuard g(inode.lock());
    InodeAttr& a = inode.attr_locked();
    if (mf & MS_RELATIME) {
        // relatime: only when atime is not newer than mtime or ctime, or
        // is a day old.
        bool need = compare(a.mtime, a.atime) >= 0 || compare(a.ctime, a.atime) >= 0 ||
                    now.sec - a.atime.sec >= 24 * 60 * 60;
        if (!need) return;
    }
    if (a.atime == now) return;
    a.atime = now;
}

}  // namespace keel::fs
