// Superblocks (file system instances) and file system types.
//
// A superblock owns the namespace lock of its file system, the root dentry
// and the dentry cache's LRU. It stays alive while anything references it
// (mounts, inodes); it is *active* while mounted. When the last mount goes
// the file system is killed: its dentry cache is emptied and the file
// system drops its tree (tmpfs contents vanish on umount, as on Linux).
#pragma once

#include "fs/core/dentry.h"

namespace keel::fs {

class Superblock;

// statfs(2) data; the syscall layer copies it into struct statfs.
struct StatFs {
    u64 type = 0;     // magic number, <linux/magic.h>
    u64 bsize = 0;
    u64 blocks = 0;
    u64 bfree = 0;
    u64 bavail = 0;
    u64 files = 0;
    u64 ffree = 0;
    u32 fsid[2] = {};
    u64 namelen = 0;
    u64 frsize = 0;
    u64 flags = 0;    // ST_* from the mount flags
};

// A file system type that mount(2) can name.
struct FsType {
    const char* name;
    u64 magic;
    // Creates an instance: `source` is mount(2)'s device string, `flags` its
    // MS_* flags and `data` its option string. Errors: EINVAL for bad
    // options, ENOMEM.
    Result<RefPtr<Superblock>> (*mount)(const FsType& type, StringView source, u32 flags, StringView data);
    FsType* next = nullptr;
};

// Registration happens during boot, before anything mounts.
void register_fs_type(FsType& type);
const FsType* find_fs_type(StringView name);

// Anonymous device numbers (major 0) for file systems without a device;
// EMFILE when they run out, like Linux.
Result<DevId> alloc_anon_dev();
void free_anon_dev(DevId dev);

class Superblock : public RefCounted {
public:
    Superblock(const FsType& type, DevId dev);
    virtual ~Superblock();

    const FsType& type() const { return type_; }
    StringView type_name() const { return type_.name; }
    u64 magic() const { return type_.magic; }
    DevId dev() const { return dev_; }
    Dentry& root() const { return *root_; }
    FsMutex& lock() const { return lock_; }

    bool read_only() const { return __atomic_load_n(&read_only_, __ATOMIC_RELAXED); }
    void set_read_only(bool ro) { __atomic_store_n(&read_only_, ro, __ATOMIC_RELAXED); }
    // Hard link limit (Linux's s_max_links); 0 means none, as for tmpfs.
    u32 max_links() const { return max_links_; }
    void set_max_links(u32 n) { max_links_ = n; }
    u64 max_file_size() const { return max_file_size_; }
    u32 block_size() const { return block_size_; }

    virtual Status statfs(StatFs& out);
    // File-system specific mount options for /proc/mounts ("size=...").
    // Writes a NUL-terminated string, returns its full length (like format).
    virtual usize show_options(char* buf, usize size) const;

    // Mount bookkeeping: the file system is killed when the last active
    // reference goes.
    void activate() { __atomic_add_fetch(&active_, 1, __ATOMIC_ACQ_REL); }
    void deactivate();
    u32 active() const { return __atomic_load_n(&active_, __ATOMIC_ACQUIRE); }

    // ---- Dentry cache (namespace lock held) ----
    void dcache_insert_locked(Dentry& d);
    void dcache_remove_locked(Dentry& d);
    void dcache_touch_locked(Dentry& d);
    // Evicts unused dentries, oldest first, until at most `keep` remain.
    void shrink_dcache_locked(usize keep);
    usize dcache_size() const { return lru_.size(); }
    void set_dcache_limit(usize n) { dcache_limit_ = n; }

protected:
    // Called by the file system once it has its root inode.
    Status set_root(RefPtr<Inode> root_inode);
    // Tears the instance down after the last umount. Overrides drop their
    // own tree and then call this.
    virtual void kill();

    u32 max_links_ = 0;
    u64 max_file_size_ = MAX_LFS_FILESIZE;
    u32 block_size_ = 4096;

private:
    const FsType& type_;
    DevId dev_;
    mutable FsMutex lock_;
    RefPtr<Dentry> root_;
    bool read_only_ = false;
    u32 active_ = 0;
    IntrusiveList<Dentry, &Dentry::lru_link> lru_;
    usize dcache_limit_ = 8192;
};

}  // namespace keel::fs
