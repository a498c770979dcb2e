// open(2): resolving the path with its create side, the checks on the
// final object (Linux's do_open and may_open), O_PATH and O_TMPFILE.
#include "fs/core/file.h"
#include "fs/core/vfs_internal.h"
#include "lib/format.h"

namespace keel::fs {

// Like Linux, open() allocates the open file description first, so that
// running out of memory cannot leave a newly created file behind.
struct FileSetup {
    static Result<RefPtr<File>> alloc(u32 oflags) { return make_ref<File>(Path{}, oflags); }
    static void set_path(File& f, Path p) { f.path_ = move(p); }
};

namespace {

SpecialOpenHook g_special_open = nullptr;

// MAY_* bits an open with these flags asks for (Linux's ACC_MODE plus
// O_TRUNC and O_APPEND).
int access_mode(u32 oflags) {
    static constexpr int acc[4] = {MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE};
    int a = acc[oflags & O_ACCMODE];
    if (oflags & O_TRUNC) a |= MAY_WRITE;
    if (oflags & O_APPEND) a |= MAY_APPEND;
    return a;
}

// may_open: what the object's type allows, then permission.
Status may_open(const Path& path, int acc, u32 oflags, const Cred& cred) {
    Inode& inode = *path.inode();
    switch (inode.type()) {
    case S_IFLNK:
        return Error(ELOOP);
    case S_IFDIR:
        if (acc & MAY_WRITE) return Error(EISDIR);
        if (acc & MAY_EXEC) return Error(EACCES);
        break;
    case S_IFBLK:
    case S_IFCHR:
        if (path.mnt->flags() & MS_NODEV) return Error(EACCES);
        [[fallthrough]];
    case S_IFIFO:
    case S_IFSOCK:
        if (acc & MAY_EXEC) return Error(EACCES);
        break;
    case S_IFREG:
        if ((acc & MAY_EXEC) && (path.mnt->flags() & MS_NOEXEC)) return Error(EACCES);
        break;
    }
    TRY(inode_permission(inode, cred, MAY_OPEN | acc));
    if ((oflags & O_NOATIME) && !owner_or_capable(inode.attr(), cred)) return Error(EPERM);
    return {};
}

Status truncate_on_open(File& f, const Cred& cred) {
    Inode& inode = f.inode();
    FsLockGuard g(inode.lock());
    SetAttr at;
    at.valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME;
    at.size = 0;
    if (u32 kill = kill_privs_locked(inode, cred)) at.valid |= kill | ATTR_FORCE;
    return setattr_locked(inode, at, cred);
}

// do_open and vfs_open: the checks on the final object, then the File.
Result<RefPtr<File>> finish_open(RefPtr<File> f, Path path, u32 oflags, int acc, bool created, bool want_dir,
                                 const Cred& cred) {
    Inode& inode = *path.inode();
    if (oflags & O_CREAT) {
        if ((oflags & O_EXCL) && !created) return Error(EEXIST);
        if (inode.is_dir()) return Error(EISDIR);
    }
    if (want_dir && !inode.is_dir()) return Error(ENOTDIR);
    bool do_truncate = false;
    if (created) {
        // Just created: no permission needed, nothing to truncate.
        acc = 0;
        oflags &= ~O_TRUNC;
    } else if (inode.is_reg() && (oflags & O_TRUNC)) {
        TRY(may_write_mount(path));
        do_truncate = true;
    }
    TRY(may_open(path, acc, oflags, cred));
    if (inode.is_dir()) {
        FsLockGuard g(inode.sb().lock());
        f->set_dir_end_locked(inode.dir_snapshot());
    }
    FileSetup::set_path(*f, path);
    if (f->writable() && !special_type(inode.type())) TRY(may_write_mount(path));
    if (special_type(inode.type()) && g_special_open) TRY(g_special_open(*f, cred));
    if (do_truncate) TRY(truncate_on_open(*f, cred));
    return f;
}

Result<RefPtr<File>> open_o_path(const LookupRequest& at, u32 oflags) {
    // O_PATH keeps only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC, and checks
    // no permission on the object itself.
    oflags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    LookupRequest req = at;
    req.flags = (at.flags & LOOKUP_EMPTY) | ((oflags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW) |
                ((oflags & O_DIRECTORY) ? LOOKUP_DIRECTORY : 0);
    RefPtr<File> f = TRY(FileSetup::alloc(oflags));
    Path path = TRY(lookup(req));
    FileSetup::set_path(*f, move(path));
    return f;
}

Result<RefPtr<File>> open_tmpfile(const LookupRequest& at, u32 oflags, u32 mode) {
    if ((oflags & (__O_TMPFILE | O_DIRECTORY | O_CREAT)) != (__O_TMPFILE | O_DIRECTORY)) return Error(EINVAL);
    if (!(access_mode(oflags) & MAY_WRITE)) return Error(EINVAL);
    LookupRequest req = at;
    req.flags = ((oflags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW) | LOOKUP_DIRECTORY;
    u32 fl = oflags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | __O_TMPFILE | O_DIRECTORY);
    RefPtr<File> f = TRY(FileSetup::alloc(fl));
    Path dir = TRY(lookup(req));
    TRY(may_write_mount(dir));
    Inode& di = *dir.inode();
    TRY(inode_permission(di, at.cred, MAY_WRITE | MAY_EXEC));
    Path path{dir.mnt, nullptr};
    {
        FsLockGuard g(di.sb().lock());
        CreateArgs a = init_owner(di.attr(), at.cred, S_IFREG | (mode & S_IALLUGO));
        RefPtr<Inode> inode = TRY(di.tmpfile(a));
        // Named "#<ino>" and never hashed, as Linux's d_tmpfile does.
        char name[24];
        format(name, sizeof(name), "#%llu", static_cast<unsigned long long>(inode->ino()));
        path.dentry = TRY(dir.dentry->make_orphan_locked(name, inode));
    }
    TRY(may_open(path, 0, oflags, at.cred));
    if (!(oflags & O_EXCL)) {
        Inode& inode = *path.inode();
        FsLockGuard g(inode.lock());
        inode.set_linkable_locked(true);
    }
    FileSetup::set_path(*f, move(path));
    return f;
}

}  // namespace

void set_special_open_hook(SpecialOpenHook hook) { g_special_open = hook; }

File::File(Path path, u32 flags) : path_(move(path)), flags_(flags) {
    u32 acc = flags & O_ACCMODE;
    bool path_only = flags & O_PATH;
    readable_ = !path_only && (acc == O_RDONLY || acc == O_RDWR);
    writable_ = !path_only && (acc == O_WRONLY || acc == O_RDWR);
}

File::~File() {
    if (ops && ops->release) ops->release(*this);
}

Result<RefPtr<File>> open(const LookupRequest& at, u32 oflags, u32 mode) {
    if ((oflags & (O_CREAT | O_DIRECTORY)) == (O_CREAT | O_DIRECTORY)) return Error(EINVAL);
    if (oflags & __O_TMPFILE) return open_tmpfile(at, oflags, mode);
    if (oflags & O_PATH) return open_o_path(at, oflags);
    if ((at.resolve & RESOLVE_CACHED) && (oflags & (O_TRUNC | O_CREAT))) return Error(EAGAIN);

    // The description keeps the status flags, not the creation ones.
    RefPtr<File> file = TRY(FileSetup::alloc(oflags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)));
    bool create = oflags & O_CREAT;
    // O_CREAT|O_EXCL never follows a trailing symlink.
    bool nofollow = (oflags & O_NOFOLLOW) || (create && (oflags & O_EXCL));
    LookupRequest req = at;
    req.flags = (nofollow ? 0 : LOOKUP_FOLLOW) | ((oflags & O_DIRECTORY) ? LOOKUP_DIRECTORY : 0);
    Walker w(req);
    TRY(w.start());
    bool created = false;
    for (;;) {
        TRY(w.walk_to_last());
        if (!create || w.last_type() != LastType::Norm) {
            if (TRY(w.walk_last())) continue;
            break;
        }
        // open_last_lookups, create side.
        if (w.trailing_slash()) return Error(EISDIR);
        RefPtr<Dentry> child;
        Dentry& dir = *w.cur().dentry;
        {
            FsLockGuard g(dir.sb().lock());
            if (w.last_too_long()) return long_name_error_locked(dir);
            child = TRY(lookup_one_locked(dir, w.last()));
            if (child->negative()) {
                if (w.cur().mnt->read_only()) return Error(EROFS);
                Inode& di = *dir.inode();
                TRY(may_create_locked(di, at.cred));
                CreateArgs a = init_owner(di.attr(), at.cred, S_IFREG | (mode & S_IALLUGO));
                auto inode = di.create(child->name(), a);
                // A directory that cannot create: EACCES, as Linux's lookup_open.
                if (inode.is_error()) return Error(inode.error().code() == ENOSYS ? EACCES : inode.error().code());
                child->instantiate_locked(inode.release_value());
                created = true;
            }
        }
        if (created) {
            w.cur() = Path{w.cur().mnt, move(child)};
            break;
        }
        if (!TRY(w.step_last(move(child)))) break;
    }
    TRY(w.finish_parent());
    return finish_open(move(file), move(w.cur()), oflags, access_mode(oflags), created, w.flags() & LOOKUP_DIRECTORY,
                       at.cred);
}

Result<RefPtr<File>> open_path(const Path& path, u32 oflags, const Cred& cred) {
    u32 fl = oflags & ~(O_CREAT | O_EXCL);
    RefPtr<File> f = TRY(FileSetup::alloc(fl));
    return finish_open(move(f), path, fl, access_mode(oflags), false, oflags & O_DIRECTORY, cred);
}

Result<RefPtr<File>> open_exec(const Path& path, const Cred& cred) {
    RefPtr<File> f = TRY(FileSetup::alloc(O_RDONLY | O_LARGEFILE));
    // may_open refuses directories, devices, FIFOs and sockets with EACCES
    // when asked for MAY_EXEC, and regular files on noexec mounts.
    return finish_open(move(f), path, O_RDONLY | O_LARGEFILE, MAY_EXEC, false, false, cred);
}

}  // namespace keel::fs
