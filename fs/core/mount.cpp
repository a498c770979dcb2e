#include "fs/core/mount.h"

#include "lib/string.h"

namespace keel::fs {

namespace {

FsMutex g_mount_lock;

// Mount ids as /proc/self/mountinfo shows them: small, reused, from 1.
constexpr u32 MAX_MOUNT_IDS = 1 << 16;
u64 g_mount_ids[MAX_MOUNT_IDS / 64] = {1};
// Never reused; Linux starts these above the range of the small ids.
u64 g_next_unique = 1ull << 31;

// The per-mount flags mount(2)'s flags ask for: relatime unless told
// otherwise, as Linux defaults.
u32 mount_flags_from(u32 ms) {
    u32 f = ms & MOUNT_FLAG_MASK;
    if (!(ms & (MS_NOATIME | MS_STRICTATIME))) f |= MS_RELATIME;
    if (ms & MS_STRICTATIME) f &= ~(MS_RELATIME | MS_NOATIME);
    return f;
}

}  // namespace

FsMutex& mount_lock() { return g_mount_lock; }

// Everything that touches the private parts of mounts and namespaces.
struct MountTree {
    static Result<i32> alloc_id_locked() {
        for (u32 w = 0; w < MAX_MOUNT_IDS / 64; ++w) {
            if (g_mount_ids[w] == ~0ull) continue;
            u32 bit = static_cast<u32>(__builtin_ctzll(~g_mount_ids[w]));
            g_mount_ids[w] |= 1ull << bit;
            return static_cast<i32>(w * 64 + bit);
        }
        return Error(ENOSPC);
    }

    static void free_id_locked(i32 id) {
        if (id > 0) g_mount_ids[id / 64] &= ~(1ull << (id % 64));
    }

    // `root` is taken by reference: on failure the superblock (which may
    // hold the last reference to it) must be dropped after the dentry.
    static Result<RefPtr<Mount>> create(RefPtr<Superblock> sb, Dentry& root, StringView source, u32 ms) {
        char* src = static_cast<char*>(heap_alloc(source.size() + 1));
        if (!src) return Error(ENOMEM);
        mem_copy(src, source.data(), source.size());
        auto made = make<Mount>(sb, RefPtr<Dentry>(&root), mount_flags_from(ms));
        if (made.is_error()) {
            heap_free(src);
            return made.error();
        }
        RefPtr<Mount> m(made.value());
        m->source_ = src;
        m->source_len_ = source.size();
        FsLockGuard g(g_mount_lock);
        auto id = alloc_id_locked();
        if (id.is_error()) return id.error();  // m's release frees the id 0 slot harmlessly
        m->id_ = id.value();
        m->unique_id_ = ++g_next_unique;
        return m;
    }

    // The topmost mount stacked on (mnt, dentry), as lock_mount finds it,
    // so that a mount on a covered place goes on top. Returns raw
    // pointers, valid under the mount lock.
    static void top_locked(Mount*& mnt, Dentry*& dentry) {
        while (Mount* child = find_child_locked(*mnt, *dentry)) {
            mnt = child;
            dentry = child->root_.get();
        }
    }

    static Mount* find_child_locked(Mount& mnt, Dentry& dentry) {
        if (dentry.mount_count() == 0) return nullptr;
        Mount* found = nullptr;
        mnt.children_.for_each([&](Mount& c) {
            if (c.mountpoint_.get() == &dentry) found = &c;
        });
        return found;
    }

    // Attaches `m` on (parent, mountpoint) and into parent's namespace.
    static void attach_locked(Mount& m, RefPtr<Mount> parent, RefPtr<Dentry> mountpoint) {
        mountpoint->mount_count_add(1);
        parent->children_.push_back(m);
        m.ns_ = parent->ns_;
        m.parent_ = move(parent);
        m.mountpoint_ = move(mountpoint);
        m.ns_->mounts_.push_back(m);
        m.ref();  // the namespace's reference
    }

    // Common to mount_at and bind_mount once the new mount exists. The
    // mountpoint's namespace lock is taken before the mount lock (to see
    // that the mountpoint is not being removed); if something got mounted
    // on it meanwhile, go on top of that and try again.
    static Status graft(RefPtr<Mount> m, const Path& target, bool check_same_sb) {
        RefPtr<Mount> pmnt = target.mnt;
        RefPtr<Dentry> mp = target.dentry;
        RefPtr<Mount> next_mnt;
        RefPtr<Dentry> next_mp;
        for (;;) {
            {
                FsLockGuard g(g_mount_lock);
                Mount* m_top = pmnt.get();
                Dentry* d_top = mp.get();
                top_locked(m_top, d_top);
                if (m_top != pmnt.get()) {
                    // Stays alive after the lock: it is attached (the
                    // namespace holds it) and we hold its parent chain.
                    next_mnt = RefPtr<Mount>(m_top);
                    next_mp = RefPtr<Dentry>(d_top);
                }
            }
            if (next_mnt) {
                mp = move(next_mp);
                pmnt = move(next_mnt);
            }
            FsLockGuard sg(mp->sb().lock());
            FsLockGuard g(g_mount_lock);
            if (find_child_locked(*pmnt, *mp)) continue;
            if (mp->unlinked() || (mp->is_dir() && mp->inode()->dead())) return Error(ENOENT);
            if (!pmnt->ns_) return Error(EINVAL);
            if (check_same_sb && &pmnt->sb() == &m->sb() && mp.get() == pmnt->root_.get()) return Error(EBUSY);
            if (mp->is_dir() != m->root_->is_dir()) return Error(ENOTDIR);
            attach_locked(*m, move(pmnt), move(mp));
            return {};
        }
    }

    // Detaches `top` (and with `subtree` everything mounted below it) from
    // the namespace; the detached mounts go on `dead` still holding their
    // namespace references, to be dropped once the lock is released.
    static void detach_locked(Mount& top, bool subtree, IntrusiveList<Mount, &Mount::ns_link>& dead) {
        IntrusiveList<Mount, &Mount::child_link> work;
        if (top.parent_) top.parent_->children_.remove(top);
        work.push_back(top);
        while (Mount* m = work.pop_front()) {
            if (subtree)
                while (Mount* c = m->children_.pop_front()) work.push_back(*c);
            if (m->mountpoint_) m->mountpoint_->mount_count_add(-1);
            m->ns_->mounts_.remove(*m);
            m->ns_ = nullptr;
            dead.push_back(*m);
        }
    }

    // Outside the lock: cut the detached mounts loose and drop the
    // namespace's references (which may kill file systems).
    static void bury(IntrusiveList<Mount, &Mount::ns_link>& dead) {
        while (Mount* m = dead.pop_front()) {
            RefPtr<Mount> parent = move(m->parent_);
            RefPtr<Dentry> mp = move(m->mountpoint_);
            RefPtr<Mount>::release(m);
        }
    }

    static Status umount(const Path& target, int flags) {
        if (!target) return Error(EINVAL);
        Mount& m = *target.mnt;
        if (target.dentry.get() != m.root_.get()) return Error(EINVAL);
        IntrusiveList<Mount, &Mount::ns_link> dead;
        {
            FsLockGuard g(g_mount_lock);
            // Not in a namespace, or the namespace root (which Linux would
            // remount read-only, or detach with MNT_DETACH; Keel keeps it).
            if (!m.ns_ || !m.parent_) return Error(EINVAL);
            if (flags & MNT_DETACH) {
                detach_locked(m, true, dead);
            } else {
                // Busy beyond the namespace's reference and the caller's.
                if (!m.children_.empty() || m.ref_count() > 2) return Error(EBUSY);
                detach_locked(m, false, dead);
            }
        }
        bury(dead);
        return {};
    }

    static Status remount(const Path& target, u32 flags) {
        if (!target) return Error(EINVAL);
        Mount& m = *target.mnt;
        if (target.dentry.get() != m.root_.get()) return Error(EINVAL);
        if (!(flags & MS_BIND)) m.sb_->set_read_only(flags & MS_RDONLY);
        __atomic_store_n(&m.flags_, mount_flags_from(flags), __ATOMIC_RELAXED);
        return {};
    }

    static bool choose_mountpoint(Mount& start, const Path& root, Path& out) {
        FsLockGuard g(g_mount_lock);
        Mount* m = &start;
        while (m->parent_) {
            Dentry* mp = m->mountpoint_.get();
            m = m->parent_.get();
            if (root.dentry.get() == mp && root.mnt.get() == m) return false;
            // A mount stacked on another mount's root: keep climbing.
            if (mp != m->root_.get()) {
                out = Path{RefPtr<Mount>(m), RefPtr<Dentry>(mp)};
                return true;
            }
        }
        return false;
    }
};

// ---- Mount --------------------------------------------------------------

Mount::Mount(RefPtr<Superblock> sb, RefPtr<Dentry> root, u32 flags)
    : sb_(move(sb)), root_(move(root)), flags_(flags) {
    sb_->activate();
}

Mount::~Mount() { heap_free(source_); }

void Mount::release_last_ref(Mount* m) {
    {
        FsLockGuard g(g_mount_lock);
        MountTree::free_id_locked(m->id_);
    }
    // Take over the mount's superblock reference: the superblock must
    // outlive the mount's dentries, and deactivating it may kill the file
    // system.
    Superblock* sb = m->sb_.leak();
    destroy(m);
    sb->deactivate();
    RefPtr<Superblock>::release(sb);
}

Path Mount::root_path() { return Path{RefPtr<Mount>(this), root_}; }

i32 Mount::parent_id() const {
    FsLockGuard g(g_mount_lock);
    return parent_ ? parent_->id_ : id_;
}

// ---- Namespaces ---------------------------------------------------------

Result<RefPtr<MountNamespace>> MountNamespace::create(RefPtr<Superblock> sb, StringView source, u32 flags) {
    Dentry& root = sb->root();
    RefPtr<Mount> m = TRY(MountTree::create(move(sb), root, source, flags));
    RefPtr<MountNamespace> ns = TRY(make_ref<MountNamespace>());
    FsLockGuard g(g_mount_lock);
    m->ns_ = ns.get();
    ns->mounts_.push_back(*m);
    m->ref();  // the namespace's reference
    ns->root_ = move(m);
    return ns;
}

MountNamespace::~MountNamespace() {
    // Like Linux when the last process leaves a namespace: everything in
    // it is detached.
    IntrusiveList<Mount, &Mount::ns_link> dead;
    {
        FsLockGuard g(g_mount_lock);
        if (root_) MountTree::detach_locked(*root_, true, dead);
    }
    root_ = nullptr;
    MountTree::bury(dead);
}

Path MountNamespace::root() {
    FsLockGuard g(g_mount_lock);
    return Path{root_, root_->root_};
}

usize MountNamespace::size() const {
    FsLockGuard g(g_mount_lock);
    return mounts_.size();
}

MountNamespace::Snapshot::~Snapshot() {
    for (usize i = 0; i < count; ++i) mounts[i].~RefPtr<Mount>();
    heap_free(mounts);
}

Result<MountNamespace::Snapshot> MountNamespace::snapshot() {
    Snapshot s;
    FsLockGuard g(g_mount_lock);
    usize n = mounts_.size();
    s.mounts = static_cast<RefPtr<Mount>*>(heap_alloc(sizeof(RefPtr<Mount>) * (n ? n : 1)));
    if (!s.mounts) return Error(ENOMEM);
    for (Mount* m = mounts_.front(); m; m = mounts_.next(*m)) new (&s.mounts[s.count++]) RefPtr<Mount>(m);
    return s;
}

// ---- mount(2), umount(2) ------------------------------------------------

Status mount_at(const Path& target, RefPtr<Superblock> sb, StringView source, u32 flags) {
    if (!target) return Error(EINVAL);
    Dentry& root = sb->root();
    RefPtr<Mount> m = TRY(MountTree::create(move(sb), root, source, flags));
    return MountTree::graft(move(m), target, true);
}

Status bind_mount(const Path& source, const Path& target, u32 flags) {
    (void)flags;  // MS_REC is not supported yet; other flags need a remount, as on Linux
    if (!source || !target) return Error(EINVAL);
    {
        FsLockGuard g(g_mount_lock);
        if (!source.mnt->attached_locked()) return Error(EINVAL);
    }
    RefPtr<Superblock> sb(&source.mnt->sb());
    // The new mount copies the source mount's flags.
    u32 sf = source.mnt->flags();
    if (!(sf & (MS_RELATIME | MS_NOATIME))) sf |= MS_STRICTATIME;
    RefPtr<Mount> m = TRY(MountTree::create(move(sb), *source.dentry, source.mnt->source(), sf));
    return MountTree::graft(move(m), target, false);
}

RefPtr<Mount> lookup_mount(Mount& mnt, Dentry& dentry) {
    if (dentry.mount_count() == 0) return nullptr;
    FsLockGuard g(g_mount_lock);
    return RefPtr<Mount>(MountTree::find_child_locked(mnt, dentry));
}

Status umount(const Path& target, int flags) { return MountTree::umount(target, flags); }

Status remount(const Path& target, u32 flags) { return MountTree::remount(target, flags); }

bool choose_mountpoint(Mount& start, const Path& root, Path& out) {
    return MountTree::choose_mountpoint(start, root, out);
}

}  // namespace keel::fs
