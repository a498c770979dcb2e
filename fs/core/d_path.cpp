// Rendering paths: getcwd(2), /proc/<pid>/fd and cwd links, /proc/mounts.
#include "fs/core/vfs_internal.h"
#include "lib/string.h"

namespace keel::fs {

namespace {

// Builds a string backwards from the end of a caller's buffer.
class Prepender {
public:
    Prepender(char* buf, usize size) : buf_(buf), pos_(size), ok_(size > 0) {
        if (ok_) buf_[--pos_] = 0;
    }
    void add(StringView s) {
        if (!ok_ || s.size() > pos_) {
            ok_ = false;
            return;
        }
        pos_ -= s.size();
        mem_copy(buf_ + pos_, s.data(), s.size());
    }
    bool empty() const { return ok_ && buf_[pos_] == 0; }
    Result<StringView> result() const {
        if (!ok_) return Error(ENAMETOOLONG);
        return StringView(buf_ + pos_, str_len(buf_ + pos_));
    }

private:
    char* buf_;
    usize pos_;
    bool ok_;
};

enum class Reach { Root, GlobalRoot, Detached };

// Prepends the names from `path` up to `root`, crossing mounts; says
// whether root was reached, or the top of the tree instead.
Reach prepend_path(const Path& path, const Path& root, Prepender& out) {
    RefPtr<Mount> mnt = path.mnt;
    RefPtr<Dentry> dentry = path.dentry;
    Reach reach;
    for (;;) {
        {
            FsLockGuard g(dentry->sb().lock());
            Dentry* d = dentry.get();
            while (!(d == root.dentry.get() && mnt == root.mnt) && d != &mnt->root() && d->parent()) {
                out.add(d->name());
                out.add("/");
                d = d->parent();
            }
            dentry = RefPtr<Dentry>(d);
        }
        if (dentry == root.dentry && mnt == root.mnt) {
            reach = Reach::Root;
            break;
        }
        // Up to the parent mount. References are taken under the mount
        // lock but the old ones dropped only after it (dropping a mount's
        // last reference takes that lock).
        RefPtr<Mount> next_mnt;
        RefPtr<Dentry> next_dentry;
        {
            FsLockGuard g(mount_lock());
            Mount* parent = mnt->parent_locked();
            if (dentry.get() != &mnt->root() || !parent) {
                reach = mnt->attached_locked() ? Reach::GlobalRoot : Reach::Detached;
                break;
            }
            next_dentry = RefPtr<Dentry>(mnt->mountpoint_locked());
            next_mnt = RefPtr<Mount>(parent);
        }
        dentry = move(next_dentry);
        mnt = move(next_mnt);
    }
    if (out.empty()) out.add("/");
    return reach;
}

bool unlinked(const Path& p) {
    FsLockGuard g(p.dentry->sb().lock());
    return p.dentry->unlinked();
}

}  // namespace

Result<StringView> path_for_link(const Path& path, const Path& root, char* buf, usize size) {
    Prepender out(buf, size);
    if (unlinked(path)) out.add(" (deleted)");
    prepend_path(path, root, out);
    return out.result();
}

Result<StringView> path_for_getcwd(const Path& path, const Path& root, char* buf, usize size) {
    if (unlinked(path)) return Error(ENOENT);
    Prepender out(buf, size);
    if (prepend_path(path, root, out) != Reach::Root) out.add("(unreachable)");
    return out.result();
}

Result<StringView> path_for_mounts(const Path& path, const Path& root, char* buf, usize size) {
    Prepender out(buf, size);
    if (prepend_path(path, root, out) != Reach::Root) return Error(ENOENT);
    return out.result();
}

Result<StringView> mount_root_path(Mount& mnt, char* buf, usize size) {
    Prepender out(buf, size);
    Dentry& root = mnt.root();
    FsLockGuard g(root.sb().lock());
    if (root.unlinked()) out.add("//deleted");
    for (Dentry* d = &root; d->parent(); d = d->parent()) {
        out.add(d->name());
        out.add("/");
    }
    if (out.empty()) out.add("/");
    return out.result();
}

bool path_is_under(const Path& path, const Path& root) {
    RefPtr<Dentry> dentry;
    {
        FsLockGuard g(mount_lock());
        Mount* mnt = path.mnt.get();
        Dentry* d = path.dentry.get();
        while (mnt != root.mnt.get() && mnt->parent_locked()) {
            d = mnt->mountpoint_locked();
            mnt = mnt->parent_locked();
        }
        if (mnt != root.mnt.get()) return false;
        dentry = RefPtr<Dentry>(d);
    }
    FsLockGuard g(dentry->sb().lock());
    for (Dentry* d = dentry.get(); d; d = d->parent())
        if (d == root.dentry.get()) return true;
    return false;
}

}  // namespace keel::fs
