// Mounts and mount namespaces, and Path, the (mount, dentry) pair every
// name in the system resolves to.
//
// A mount shows a superblock's tree (from `root`, the superblock root or a
// bind-mounted subtree) on top of a dentry (`mountpoint`) of its parent
// mount. The mount tree and each dentry's mount count change under the
// global mount lock, a leaf lock: nothing else is taken while holding it.
//
// References to a mount: the namespace holds one for every attached mount,
// each child mount holds one on its parent, and Paths hold the rest. A
// plain umount is refused (EBUSY) while anything beyond the namespace and
// the caller's own Path holds one, or while something is mounted below.
// The last reference to a detached mount releases its superblock, which
// may kill the file system: never drop a mount reference with a file
// system lock held.
#pragma once

#include <linux/mount.h>

#include "fs/core/superblock.h"

namespace keel::fs {

class Mount;
class MountNamespace;

struct Path {
    RefPtr<Mount> mnt;
    RefPtr<Dentry> dentry;

    Path() = default;
    Path(RefPtr<Mount> m, RefPtr<Dentry> d) : mnt(move(m)), dentry(move(d)) {}
    Path(const Path&) = default;
    Path(Path&&) = default;
    ~Path() = default;  // members die in reverse: the dentry first

    // Assignment drops the old dentry before the old mount: the mount may
    // hold the last reference to the file system the dentry belongs to.
    Path& operator=(Path o) {
        swap(dentry, o.dentry);
        swap(mnt, o.mnt);
        return *this;  // o dies dentry first, as members die in reverse
    }

    Inode* inode() const { return dentry->inode(); }
    explicit operator bool() const { return mnt && dentry; }
    bool operator==(const Path& o) const { return mnt == o.mnt && dentry == o.dentry; }
};

FsMutex& mount_lock();

// umount2(2) flags (ABI, not in the uapi set).
constexpr int MNT_FORCE = 1;
constexpr int MNT_DETACH = 2;
constexpr int MNT_EXPIRE = 4;
constexpr int UMOUNT_NOFOLLOW = 8;

// Per-mount flags, in mount(2)'s MS_* encoding.
constexpr u32 MOUNT_FLAG_MASK =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_NOSYMFOLLOW;

class Mount : public RefCounted {
public:
    static void release_last_ref(Mount* m);

    Superblock& sb() const { return *sb_; }
    Dentry& root() const { return *root_; }
    // Path of this mount's root.
    Path root_path();
    u32 flags() const { return __atomic_load_n(&flags_, __ATOMIC_RELAXED); }
    bool read_only() const { return (flags() & MS_RDONLY) || sb_->read_only(); }
    // The mount id /proc/self/mountinfo and statx show, and the 64-bit id
    // that is never reused (STATX_MNT_ID_UNIQUE).
    i32 id() const { return id_; }
    u64 unique_id() const { return unique_id_; }
    StringView source() const { return StringView(source_, source_len_); }

    // Mount lock.
    Mount* parent_locked() const { return parent_.get(); }
    Dentry* mountpoint_locked() const { return mountpoint_.get(); }
    bool attached_locked() const { return ns_ != nullptr; }
    // The parent's id, or this mount's own id when it has none (as
    // mountinfo shows the namespace root).
    i32 parent_id() const;

    Mount(RefPtr<Superblock> sb, RefPtr<Dentry> root, u32 flags);
    ~Mount();
    Mount(const Mount&) = delete;
    Mount& operator=(const Mount&) = delete;

private:
    friend class MountNamespace;
    friend struct MountTree;  // mount.cpp's implementation

    RefPtr<Superblock> sb_;
    RefPtr<Dentry> root_;
    RefPtr<Mount> parent_;
    RefPtr<Dentry> mountpoint_;
    MountNamespace* ns_ = nullptr;
    u32 flags_;
    i32 id_ = 0;
    u64 unique_id_ = 0;
    char* source_ = nullptr;
    usize source_len_ = 0;

public:
    ListNode ns_link;     // in the namespace's list, in mount order
    ListNode child_link;  // in the parent's children

private:
    IntrusiveList<Mount, &Mount::child_link> children_;
};

class MountNamespace : public RefCounted {
public:
    // A namespace whose root mount shows `sb`.
    static Result<RefPtr<MountNamespace>> create(RefPtr<Superblock> sb, StringView source, u32 flags);
    ~MountNamespace();

    Path root();
    usize size() const;

    // A stable copy of the mount list in mount order, for /proc/mounts.
    struct Snapshot {
        RefPtr<Mount>* mounts = nullptr;
        usize count = 0;
        Snapshot() = default;
        Snapshot(Snapshot&& o) : mounts(o.mounts), count(o.count) { o.mounts = nullptr, o.count = 0; }
        Snapshot(const Snapshot&) = delete;
        ~Snapshot();
    };
    Result<Snapshot> snapshot();

private:
    friend class Mount;
    friend struct MountTree;

    IntrusiveList<Mount, &Mount::ns_link> mounts_;
    RefPtr<Mount> root_;
};

// Mounts `sb` on `target` (which the caller resolved following mounts, so
// a second mount on the same place stacks on top). flags: the MS_* mount
// flags; without MS_NOATIME or MS_STRICTATIME the mount is relatime.
// Errors: EINVAL (target's mount not in a namespace), ENOENT (target
// deleted), ENOTDIR (directory over non-directory or the reverse), EBUSY
// (the same superblock already mounted right there), ENOMEM, ENOSPC.
Status mount_at(const Path& target, RefPtr<Superblock> sb, StringView source, u32 flags);
// MS_BIND (MS_REC not supported yet: the subtree's own mounts are not
// copied). The new mount shows source's subtree; files may be bound on
// files.
Status bind_mount(const Path& source, const Path& target, u32 flags);
// umount2(2): target must be a mount root (EINVAL otherwise). MNT_DETACH
// detaches the whole subtree lazily; otherwise EBUSY when busy. The
// caller's reference in `target` is expected and not counted as busy.
Status umount(const Path& target, int flags);
// MS_REMOUNT: replaces the per-mount flags (with MS_BIND) or also the
// superblock's read-only state (without).
Status remount(const Path& target, u32 flags);

// The topmost mount on (mnt, dentry), or null.
RefPtr<Mount> lookup_mount(Mount& mnt, Dentry& dentry);
// For "..": the mountpoint through which `mnt` is reached, skipping
// mounts stacked on mount roots; false at the top or at `root`.
bool choose_mountpoint(Mount& mnt, const Path& root, Path& out);

}  // namespace keel::fs
