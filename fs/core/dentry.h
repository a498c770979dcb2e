// Dentries: the cached name tree. A dentry is a name in a parent directory
// bound to an inode (positive) or to nothing (negative: the name is known
// not to exist). The file system's own directories stay the truth; the
// dentry cache sits on top so that repeated lookups never reach the file
// system, and it gives every open file and working directory a stable
// name to render (getcwd, /proc/<pid>/fd).
//
// References:
//  - a hashed dentry (one its parent's children tree can find) holds one
//    reference for the cache itself; unhashing drops it;
//  - a child holds a reference to its parent, so parents outlive children;
//  - Paths, open files and mounts hold the rest.
// So "reference count 1 and hashed" means only the cache holds it, and
// the cache may evict it (under the namespace lock, where no new reference
// can appear).
//
// Everything here except the reference count and the mount count is
// guarded by the owning superblock's namespace lock.
#pragma once

#include "fs/core/inode.h"
#include "lib/intrusive_list.h"
#include "lib/rbtree.h"

namespace keel::fs {

class Dentry;

struct DentryNameOrder {
    static bool less(const Dentry& a, const Dentry& b);
};

class Dentry : public RefCounted {
public:
    // A dentry is freed when its last reference goes; its parent reference
    // is then dropped in a loop rather than by recursion, because a deleted
    // subtree can form a long chain held only by its deepest member.
    static void release_last_ref(Dentry* d);

    Superblock& sb() const { return *sb_; }
    // Positive dentries never change inode, so this may be read unlocked
    // by anyone holding a reference to a positive dentry.
    Inode* inode() const { return __atomic_load_n(&inode_raw_, __ATOMIC_ACQUIRE); }
    bool negative() const { return inode() == nullptr; }
    bool is_dir() const { return inode() && inode()->is_dir(); }

    // Namespace lock.
    Dentry* parent() const { return parent_.get(); }
    bool is_root() const { return !parent_; }
    StringView name() const { return StringView(name_, name_len_); }
    bool hashed() const { return hashed_; }
    // Removed from the tree by unlink, rmdir or rename-over (Linux's
    // d_unlinked): renders with " (deleted)".
    bool unlinked() const { return !hashed_ && parent_; }

    // How many mounts sit on this dentry (mount lock to change; any reader
    // may look, see fs/core/mount.h).
    u32 mount_count() const { return __atomic_load_n(&mounted_, __ATOMIC_ACQUIRE); }

    // ---- The cache, namespace lock held ----

    // A root dentry for `sb` (no parent, never hashed in a tree).
    static Result<RefPtr<Dentry>> make_root(Superblock& sb, RefPtr<Inode> inode);
    // The hashed child called `name`, or null.
    Dentry* find_child_locked(StringView name) const;
    // A new hashed child (negative when inode is null).
    Result<RefPtr<Dentry>> add_child_locked(StringView name, RefPtr<Inode> inode);
    // An unhashed child that only names an inode (O_TMPFILE's "#<ino>").
    Result<RefPtr<Dentry>> make_orphan_locked(StringView name, RefPtr<Inode> inode);
    // Binds a negative dentry to its new inode.
    void instantiate_locked(RefPtr<Inode> inode);
    // Removes it from its parent's children (drops the cache reference).
    void unhash_locked();
    bool has_children_locked() const { return !children_.empty(); }
    // Renaming is two steps so that the file system's rename, which cannot
    // be undone, happens between them: reserve storage for the new name
    // (nullptr means ENOMEM), then move this dentry under `new_parent` as
    // `new_name` using it.
    char* reserve_name(StringView new_name) { return alloc_name(new_name.size(), inline_name_); }
    void move_locked(Dentry& new_parent, StringView new_name, char* storage);
    // Gives back reserved storage that was not used.
    void unreserve_name(char* storage) {
        if (storage != inline_name_) heap_free(storage);
    }
    // Swaps the names and parents of two dentries (RENAME_EXCHANGE).
    static void exchange_locked(Dentry& a, Dentry& b);
    // Drops every unused negative child (after rmdir).
    void prune_children_locked();

    // For the mount code only.
    void mount_count_add(int delta) { __atomic_add_fetch(&mounted_, static_cast<u32>(delta), __ATOMIC_ACQ_REL); }

    // Use make_root/add_child_locked; public only for make<>/destroy<>.
    explicit Dentry(Superblock& sb) : sb_(&sb) {}
    ~Dentry();
    Dentry(const Dentry&) = delete;
    Dentry& operator=(const Dentry&) = delete;

private:
    friend struct DentryNameOrder;

    static constexpr usize INLINE_NAME = 40;

    // Storage for a name of `len` bytes: the inline buffer or the heap.
    static char* alloc_name(usize len, char* inline_buf);
    void set_name(StringView name, char* storage);
    void free_name();
    void hash_into(Dentry& parent);

    Superblock* sb_;
    RefPtr<Dentry> parent_;
    RefPtr<Inode> inode_;
    Inode* inode_raw_ = nullptr;  // mirrors inode_ for lock-free readers
    char* name_ = inline_name_;
    u32 name_len_ = 0;
    bool hashed_ = false;
    u32 mounted_ = 0;
    char inline_name_[INLINE_NAME] = {};

public:
    // Intrusive links; public for the container templates.
    RbNode child_link;   // in parent's children_
    ListNode lru_link;   // in the superblock's dentry LRU while hashed

private:
    RbTree<Dentry, &Dentry::child_link, DentryNameOrder> children_;
};

}  // namespace keel::fs
