// mkdir, mknod, symlink, link, unlink, rmdir, rename and readlink, with
// Linux's checks in Linux's order (fs/namei.c's do_*at functions).
#include "fs/core/vfs_internal.h"

namespace keel::fs {

CreateArgs init_owner(const InodeAttr& dir, const Cred& cred, u32 mode) {
    CreateArgs a;
    a.uid = cred.fsuid;
    bool is_dir = (mode & S_IFMT) == S_IFDIR;
    // mode_strip_sgid: a group-executable set-group-ID file in a
    // set-group-ID directory keeps the bit only if the caller could set it.
    if (!is_dir && (mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && (dir.mode & S_ISGID) &&
        !in_group_or_capable(dir.gid, cred))
        mode &= ~S_ISGID;
    if (dir.mode & S_ISGID) {
        a.gid = dir.gid;
        if (is_dir) mode |= S_ISGID;
    } else {
        a.gid = cred.fsgid;
    }
    a.mode = mode;
    return a;
}

Status may_create_locked(Inode& dir, const Cred& cred) {
    if (dir.dead()) return Error(ENOENT);
    return inode_permission(dir, cred, MAY_WRITE | MAY_EXEC);
}

Status may_delete_locked(Inode& dir, Dentry& victim, bool isdir, const Cred& cred) {
    if (victim.negative()) return Error(ENOENT);
    TRY(inode_permission(dir, cred, MAY_WRITE | MAY_EXEC));
    if (sticky_denies(dir.attr(), victim.inode()->attr(), cred)) return Error(EPERM);
    if (isdir) {
        if (!victim.is_dir()) return Error(ENOTDIR);
        if (victim.is_root()) return Error(EBUSY);
    } else if (victim.is_dir()) {
        return Error(EISDIR);
    }
    if (dir.dead()) return Error(ENOENT);
    return {};
}

namespace {

// Creates `d` in `dir`; a directory without the operation answers EPERM.
Status create_in(Inode& dir, Dentry& d, const CreateArgs& a) {
    auto made = dir.create(d.name(), a);
    if (made.is_error()) return Error(made.error().code() == ENOSYS ? EPERM : made.error().code());
    d.instantiate_locked(made.release_value());
    return {};
}

// Linux's filename_create: the parent, then the checks every creating call
// shares, then `make` runs with the namespace lock held and a negative
// dentry for the new name.
template <typename F>
Status with_new_name(const LookupRequest& at, bool want_dir, F&& make) {
    ParentLookup p = TRY(lookup_parent(at));
    // "foo/.", "foo/..", "/": nothing to create.
    if (p.type != LastType::Norm) return Error(EEXIST);
    // A read-only mount is reported only after the other errors.
    bool read_only = p.dir.mnt->read_only();
    Dentry& dir = *p.dir.dentry;
    FsLockGuard g(dir.sb().lock());
    if (p.too_long) return long_name_error_locked(dir);
    RefPtr<Dentry> d = TRY(lookup_one_locked(dir, p.name()));
    if (!d->negative()) return Error(EEXIST);
    // "name/" asks for a directory: only mkdir may create it.
    if (p.trailing_slash && !want_dir) return Error(ENOENT);
    if (read_only) return Error(EROFS);
    return make(p, *dir.inode(), *d);
}

}  // namespace

Status mkdir(const LookupRequest& at, u32 mode) {
    return with_new_name(at, true, [&](ParentLookup&, Inode& dir, Dentry& d) -> Status {
        TRY(may_create_locked(dir, at.cred));
        CreateArgs a = init_owner(dir.attr(), at.cred, S_IFDIR | (mode & (0777 | S_ISVTX)));
        u32 max = dir.sb().max_links();
        if (max && dir.attr().nlink >= max) return Error(EMLINK);
        return create_in(dir, d, a);
    });
}

Status mknod(const LookupRequest& at, u32 mode, DevId dev) {
    switch (mode & S_IFMT) {
    case 0:
        mode |= S_IFREG;
        break;
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        break;
    case S_IFDIR:
        return Error(EPERM);
    default:
        return Error(EINVAL);
    }
    u32 type = mode & S_IFMT;
    if (type != S_IFCHR && type != S_IFBLK) dev = 0;
    return with_new_name(at, false, [&](ParentLookup&, Inode& dir, Dentry& d) -> Status {
        TRY(may_create_locked(dir, at.cred));
        // Whiteouts (character device 0:0) need no privilege.
        bool whiteout = type == S_IFCHR && dev == WHITEOUT_DEV;
        if ((type == S_IFCHR || type == S_IFBLK) && !whiteout && !at.cred.capable(CAP_MKNOD))
            return Error(EPERM);
        CreateArgs a = init_owner(dir.attr(), at.cred, type | (mode & S_IALLUGO));
        a.rdev = dev;
        return create_in(dir, d, a);
    });
}

Status symlink(StringView target, const LookupRequest& at) {
    // The target string is read first (getname): same rules as a path.
    if (target.empty()) return Error(ENOENT);
    if (target.size() >= PATH_MAX) return Error(ENAMETOOLONG);
    return with_new_name(at, false, [&](ParentLookup&, Inode& dir, Dentry& d) -> Status {
        TRY(may_create_locked(dir, at.cred));
        CreateArgs a = init_owner(dir.attr(), at.cred, S_IFLNK | 0777);
        a.link_target = target;
        return create_in(dir, d, a);
    });
}

Status link(const LookupRequest& from, const LookupRequest& to) {
    Path old = TRY(lookup(from));
    return with_new_name(to, false, [&](ParentLookup& p, Inode& dir, Dentry& d) -> Status {
        if (old.mnt != p.dir.mnt) return Error(EXDEV);
        Inode& inode = *old.inode();
        TRY(may_create_locked(dir, to.cred));
        if (&inode.sb() != &dir.sb()) return Error(EXDEV);
        if (inode.is_dir()) return Error(EPERM);
        {
            FsLockGuard g(inode.lock());
            u32 nlink = inode.attr_locked().nlink;
            u32 max = dir.sb().max_links();
            // An unlinked file cannot come back, except an O_TMPFILE one.
            if (nlink == 0 && !inode.linkable_locked()) return Error(ENOENT);
            if (max && nlink >= max) return Error(EMLINK);
        }
        TRY(dir.link(d.name(), inode));
        {
            FsLockGuard g(inode.lock());
            inode.set_linkable_locked(false);
        }
        d.instantiate_locked(RefPtr<Inode>(&inode));
        return {};
    });
}

Status unlink(const LookupRequest& at) {
    ParentLookup p = TRY(lookup_parent(at));
    if (p.type != LastType::Norm) return Error(EISDIR);
    TRY(may_write_mount(p.dir));
    Dentry& dir = *p.dir.dentry;
    FsLockGuard g(dir.sb().lock());
    if (p.too_long) return long_name_error_locked(dir);
    RefPtr<Dentry> d = TRY(lookup_one_locked(dir, p.name()));
    // Only now do trailing slashes count, to give the right error.
    if (p.trailing_slash || d->negative()) {
        if (d->negative()) return Error(ENOENT);
        return Error(d->is_dir() ? EISDIR : ENOTDIR);
    }
    Inode& di = *dir.inode();
    TRY(may_delete_locked(di, *d, false, at.cred));
    if (d->mount_count()) return Error(EBUSY);
    TRY(di.unlink(d->name(), *d->inode()));
    d->unhash_locked();
    return {};
}

Status rmdir(const LookupRequest& at) {
    ParentLookup p = TRY(lookup_parent(at));
    switch (p.type) {
    case LastType::DotDot:
        return Error(ENOTEMPTY);
    case LastType::Dot:
        return Error(EINVAL);
    case LastType::Root:
        return Error(EBUSY);
    case LastType::Norm:
        break;
    }
    TRY(may_write_mount(p.dir));
    Dentry& dir = *p.dir.dentry;
    FsLockGuard g(dir.sb().lock());
    if (p.too_long) return long_name_error_locked(dir);
    RefPtr<Dentry> d = TRY(lookup_one_locked(dir, p.name()));
    if (d->negative()) return Error(ENOENT);
    Inode& di = *dir.inode();
    TRY(may_delete_locked(di, *d, true, at.cred));
    if (d->mount_count()) return Error(EBUSY);
    Inode& victim = *d->inode();
    TRY(di.rmdir(d->name(), victim));
    victim.set_dead();
    d->prune_children_locked();
    d->unhash_locked();
    return {};
}

namespace {

// lock_rename's "trap": when one parent is an ancestor of the other, the
// child of the ancestor on the way down to the other one.
Dentry* rename_trap_locked(Dentry* new_dir, Dentry* old_dir) {
    if (new_dir == old_dir) return nullptr;
    for (Dentry* d = new_dir; d->parent(); d = d->parent())
        if (d->parent() == old_dir) return d;
    for (Dentry* d = old_dir; d->parent(); d = d->parent())
        if (d->parent() == new_dir) return d;
    return nullptr;
}

}  // namespace

Status rename(const LookupRequest& from, const LookupRequest& to, u32 flags) {
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) return Error(EINVAL);
    if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE)) return Error(EINVAL);
    bool exchange = flags & RENAME_EXCHANGE;

    ParentLookup op = TRY(lookup_parent(from));
    ParentLookup np = TRY(lookup_parent(to));
    if (op.dir.mnt != np.dir.mnt) return Error(EXDEV);
    if (op.type != LastType::Norm) return Error(EBUSY);
    if (np.type != LastType::Norm) return Error((flags & RENAME_NOREPLACE) ? EEXIST : EBUSY);
    TRY(may_write_mount(op.dir));

    Dentry& old_dir = *op.dir.dentry;
    Dentry& new_dir = *np.dir.dentry;
    FsLockGuard g(old_dir.sb().lock());
    Dentry* trap = rename_trap_locked(&new_dir, &old_dir);

    if (op.too_long) return long_name_error_locked(old_dir);
    RefPtr<Dentry> old_d = TRY(lookup_one_locked(old_dir, op.name()));
    if (old_d->negative()) return Error(ENOENT);
    if (np.too_long) return long_name_error_locked(new_dir);
    RefPtr<Dentry> new_d = TRY(lookup_one_locked(new_dir, np.name()));
    if ((flags & RENAME_NOREPLACE) && !new_d->negative()) return Error(EEXIST);
    if (exchange) {
        if (new_d->negative()) return Error(ENOENT);
        if (!new_d->is_dir() && np.trailing_slash) return Error(ENOTDIR);
    }
    // Unless the source is a directory, trailing slashes give ENOTDIR.
    if (!old_d->is_dir()) {
        if (op.trailing_slash) return Error(ENOTDIR);
        if (!exchange && np.trailing_slash) return Error(ENOTDIR);
    }
    // The source must not be an ancestor of the target ...
    if (old_d.get() == trap) return Error(EINVAL);
    // ... nor the target an ancestor of the source.
    if (new_d.get() == trap) return Error(exchange ? EINVAL : ENOTEMPTY);

    // vfs_rename
    Inode* source = old_d->inode();
    Inode* target = new_d->inode();
    if (source == target) return {};
    bool is_dir = old_d->is_dir();
    bool new_is_dir = false;
    Inode& odi = *old_dir.inode();
    Inode& ndi = *new_dir.inode();
    TRY(may_delete_locked(odi, *old_d, is_dir, from.cred));
    if (!target) {
        TRY(may_create_locked(ndi, to.cred));
    } else {
        new_is_dir = new_d->is_dir();
        TRY(may_delete_locked(ndi, *new_d, exchange ? new_is_dir : is_dir, to.cred));
    }
    // Moving a directory rewrites its "..": that needs write permission.
    if (&new_dir != &old_dir) {
        if (is_dir) TRY(inode_permission(*source, from.cred, MAY_WRITE));
        if (exchange && new_is_dir) TRY(inode_permission(*target, to.cred, MAY_WRITE));
    }
    if (old_d->mount_count() || new_d->mount_count()) return Error(EBUSY);
    u32 max = old_dir.sb().max_links();
    if (max && &new_dir != &old_dir) {
        if (is_dir && !new_is_dir && ndi.attr().nlink >= max) return Error(EMLINK);
        if (exchange && !is_dir && new_is_dir && odi.attr().nlink >= max) return Error(EMLINK);
    }

    CreateArgs whiteout;
    if (flags & RENAME_WHITEOUT) {
        whiteout = init_owner(odi.attr(), from.cred, S_IFCHR);
        whiteout.rdev = WHITEOUT_DEV;
    }
    // Everything that can fail after the file system's rename is reserved
    // before it.
    char* storage = nullptr;
    if (!exchange) {
        storage = old_d->reserve_name(np.name());
        if (!storage) return Error(ENOMEM);
    }
    auto r = odi.rename(old_d->name(), *source, ndi, np.name(), target, flags,
                        (flags & RENAME_WHITEOUT) ? &whiteout : nullptr);
    if (r.is_error()) {
        if (storage) old_d->unreserve_name(storage);
        return r.error();
    }
    if (exchange) {
        Dentry::exchange_locked(*old_d, *new_d);
        return {};
    }
    if (target && new_is_dir) {
        target->set_dead();
        new_d->prune_children_locked();
    }
    new_d->unhash_locked();
    old_d->move_locked(new_dir, np.name(), storage);
    return {};
}

Result<usize> readlink(const LookupRequest& at, char* buf, usize size) {
    LookupRequest req = at;
    req.flags = at.flags & LOOKUP_EMPTY;  // never follow the link itself
    Path p = TRY(lookup(req));
    Inode& inode = *p.inode();
    if (!inode.is_symlink()) return Error(EINVAL);
    touch_atime(p);
    usize len = TRY(inode.get_link(buf, size, at.task));
    return min(len, size);
}

}  // namespace keel::fs
