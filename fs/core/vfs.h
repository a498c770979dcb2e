// The VFS core's public interface: path resolution and the operations the
// file system calls are built on. Every function returns the errno Linux
// 6.12 returns, checking in Linux's order; the syscall layer only turns
// user arguments into a LookupRequest and copies results out.
//
// Locking rules (in the order locks may be taken):
//  0. File::pos_lock() - one open file description's position; held across
//     read/write/lseek/getdents on it, like Linux's f_pos_lock.
//  1. Superblock::lock() - the namespace lock of one file system: its
//     dentry tree and directories. Held across each whole namespace
//     operation (create, link, unlink, rmdir, rename, lookup of one name),
//     so those are atomic with respect to each other; this is also what
//     makes rename's ancestry check safe, so no global rename lock is
//     needed. Never two at once: a rename or link never spans file systems.
//  2. Inode::lock() - one inode's attributes and data. Taken inside (1) or
//     alone, never two at once.
//  3. mount_lock() - the mount tree; a leaf.
// Reference counts are atomic and need no lock. Objects are freed when
// their last reference goes, in whatever context that happens, so
// destructors take no fs lock. Two exceptions follow from that:
//  - dropping the last reference to a mount may kill its file system
//    (which takes that file system's lock), so mount references (Paths)
//    are never dropped with a lock held;
//  - dentries and inodes do not keep their superblock alive: drop them
//    before the mount or superblock reference that brought them (Path's
//    assignment and destructor do it in that order).
// User memory is touched only through DataBuffer, with the inode lock held
// for file data; see fs/core/fs_types.h.
//
// Directory contents and file data live in the file system (tmpfs);
// dentries only cache names, and the cache evicts unused entries.
#pragma once

#include <linux/openat2.h>

#include "fs/core/mount.h"

namespace keel::fs {

// ---- Path resolution --------------------------------------------------

// Lookup flags (kernel-internal values).
constexpr u32 LOOKUP_FOLLOW = 1;     // follow a trailing symlink
constexpr u32 LOOKUP_DIRECTORY = 2;  // the result must be a directory
constexpr u32 LOOKUP_EMPTY = 4;      // an empty path names `base` (AT_EMPTY_PATH)

// One path argument of a system call, with who is asking.
struct LookupRequest {
    const Cred& cred;
    const Path& root;       // the caller's root directory (chroot(2))
    const Path& base;       // where relative paths start: cwd or the dirfd
    StringView path;        // as user space gave it (no NUL needed)
    u32 flags = 0;          // LOOKUP_*
    u64 resolve = 0;        // openat2(2) RESOLVE_*
    void* task = nullptr;   // opaque; handed to magic links (procfs)
};

enum class LastType : u8 { Norm, Dot, DotDot, Root };

// The parent directory of a path's last component, for the calls that
// create or remove a name.
struct ParentLookup {
    Path dir;
    LastType type = LastType::Root;
    bool trailing_slash = false;  // "name/"
    bool too_long = false;        // the name exceeds NAME_MAX
    u16 len = 0;
    char name_buf[NAME_MAX + 1] = {};
    StringView name() const { return StringView(name_buf, len); }
};

// Resolves a whole path (stat, chdir, open without O_CREAT, ...).
// ENOENT, ENOTDIR, EACCES (search permission), ENAMETOOLONG, ELOOP, and
// for openat2's RESOLVE_* flags EXDEV/ELOOP as openat2(2) describes;
// EAGAIN for RESOLVE_CACHED when the dentry cache cannot answer alone.
Result<Path> lookup(const LookupRequest& at);
// Resolves all but the last component (symlinks in it are followed; the
// last is never followed).
Result<ParentLookup> lookup_parent(const LookupRequest& at);

// ---- Namespace operations -----------------------------------------------

// mkdir(2); `mode` has the umask applied already.
Status mkdir(const LookupRequest& at, u32 mode);
// mknod(2): mode's type is S_IFREG (or 0), S_IFCHR, S_IFBLK, S_IFIFO or
// S_IFSOCK (S_IFDIR is EPERM, anything else EINVAL); dev as the kernel
// keeps it (decode_dev() of the user's value).
Status mknod(const LookupRequest& at, u32 mode, DevId dev);
// symlink(2): `target` is stored as given.
Status symlink(StringView target, const LookupRequest& at);
// linkat(2): from.flags carries LOOKUP_FOLLOW (AT_SYMLINK_FOLLOW) and
// LOOKUP_EMPTY (AT_EMPTY_PATH: link the file `from.base` names, as for
// an O_TMPFILE file).
Status link(const LookupRequest& from, const LookupRequest& to);
Status unlink(const LookupRequest& at);
Status rmdir(const LookupRequest& at);
// renameat2(2) with RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT.
Status rename(const LookupRequest& from, const LookupRequest& to, u32 flags);
// readlinkat(2): copies up to `size` bytes (no NUL) and returns the count;
// EINVAL for something that is not a symlink. at.flags may hold
// LOOKUP_EMPTY.
Result<usize> readlink(const LookupRequest& at, char* buf, usize size);

// ---- Attributes ---------------------------------------------------------

// chmod(2) family on a resolved path.
Status chmod(const Path& path, u32 mode, const Cred& cred);
// chown(2) family; (u32)-1 leaves an id unchanged.
Status chown(const Path& path, u32 uid, u32 gid, const Cred& cred);
// utimensat(2) on a resolved path: times == nullptr means "now" for both;
// otherwise times[0] is atime and times[1] mtime, with UTIME_NOW and
// UTIME_OMIT allowed in nsec.
Status utimes(const Path& path, const Timespec* times, const Cred& cred);
// truncate(2) on a resolved path.
Status truncate(const Path& path, i64 length, const Cred& cred);
// statx(2): fills every field Linux fills for this object; stx_mask says
// which. request_mask is statx's mask argument.
Status getattr(const Path& path, u32 request_mask, struct statx& out);
// statfs(2)/fstatfs(2).
Status statfs(const Path& path, StatFs& out);
// Updates atime as a read would (relatime/noatime rules of the mount).
void touch_atime(const Path& path);

// ---- Rendering paths ------------------------------------------------------

// The absolute path of `path` as seen from `root`, built at the end of
// buf; the view points into buf. ENAMETOOLONG when it does not fit.
//  - path_for_link: /proc/<pid>/fd and /cwd links: " (deleted)" appended
//    to unlinked files; a path outside `root` is rendered from the top of
//    its mount tree (as Linux does);
//  - path_for_getcwd: ENOENT for a removed directory; "(unreachable)"
//    prefixed when outside root;
//  - path_for_mounts: /proc/mounts mount points; ENOENT when not
//    reachable from root (the line is skipped).
Result<StringView> path_for_link(const Path& path, const Path& root, char* buf, usize size);
Result<StringView> path_for_getcwd(const Path& path, const Path& root, char* buf, usize size);
Result<StringView> path_for_mounts(const Path& path, const Path& root, char* buf, usize size);
// A mount's root within its file system ("/" unless bind-mounted), for
// mountinfo's fourth field.
Result<StringView> mount_root_path(Mount& mnt, char* buf, usize size);
// True when `path` lies at or below `root`.
bool path_is_under(const Path& path, const Path& root);

// statfs(2) f_flags (ABI, not in the uapi set).
constexpr u64 ST_RDONLY = 0x0001;
constexpr u64 ST_NOSUID = 0x0002;
constexpr u64 ST_NODEV = 0x0004;
constexpr u64 ST_NOEXEC = 0x0008;
constexpr u64 ST_VALID = 0x0020;
constexpr u64 ST_NOATIME = 0x0400;
constexpr u64 ST_NODIRATIME = 0x0800;
constexpr u64 ST_RELATIME = 0x1000;
constexpr u64 ST_NOSYMFOLLOW = 0x2000;

}  // namespace keel::fs
