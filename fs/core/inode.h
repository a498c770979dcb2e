// Inodes: one per file system object. The base class holds the attributes
// every object has (stat(2) fields); each file system derives from it and
// overrides the operations it supports. The defaults return the errno Linux
// gives when an inode lacks that operation.
//
// Which lock an operation runs under is part of its contract (see
// fs/core/vfs.h for the whole scheme):
//  - directory operations (lookup, create, link, unlink, rmdir, rename,
//    iterate, tmpfile) run with the superblock's namespace lock held; the
//    VFS has already checked permissions, types and existence, so a file
//    system returns only its own failures (ENOMEM, ENOSPC, ENOTEMPTY);
//  - data operations (read, write, truncate, fallocate, seek_data) and
//    attribute changes run with this inode's lock held.
#pragma once

#include "fs/core/fs_lock.h"
#include "fs/core/fs_types.h"
#include "lib/ref_ptr.h"

namespace keel::fs {

class Superblock;
class File;
class OpenFile;  // the kernel's open file description (fs/file.h)
struct Path;

// The attributes stat(2) reports. Guarded by Inode::lock().
struct InodeAttr {
    u32 mode = 0;  // S_IFMT type bits and permission bits
    u32 uid = 0;
    u32 gid = 0;
    u32 nlink = 0;
    u64 size = 0;
    u64 blocks = 0;  // in 512-byte units
    DevId rdev = 0;
    Timespec atime, mtime, ctime, btime;
};

// A new object as the VFS has decided it: the final mode (type included)
// and owner. File systems only allocate and link it in.
struct CreateArgs {
    u32 mode = 0;
    u32 uid = 0;
    u32 gid = 0;
    DevId rdev = 0;
    StringView link_target;  // symlinks only
};

// Receives directory entries from Inode::iterate. It runs under the
// namespace lock, so it must not fault on user memory: fill a kernel buffer
// and copy it out afterwards.
class DirEmitter {
public:
    // Returns false to stop (no room); that entry is then not consumed and
    // the next iteration starts with it again. `next_pos` is the position
    // that continues after this entry (getdents64's d_off).
    virtual bool emit(StringView name, u64 ino, u8 dtype, u64 next_pos) = 0;

protected:
    ~DirEmitter() = default;
};

// The memory manager's record of where an inode's pages are mapped
// (mm/file_map.h); the VFS only tells it before pages go away. Owned by the
// inode, released with it.
class PageMapHook {
public:
    // Pages [first, end) are about to be freed (truncate, hole punch);
    // `private_copies` says whether private copy-on-write copies of them go
    // too (truncate) or stay (hole punch). Inode lock held.
    virtual void unmap_pages(u64 first, u64 end, bool private_copies) = 0;
    virtual void release() = 0;

protected:
    ~PageMapHook() = default;
};

class Inode : public RefCounted {
public:
    Inode(Superblock& sb, u64 ino, u32 mode);
    virtual ~Inode();

    Superblock& sb() const { return *sb_; }
    u64 ino() const { return ino_; }
    // The type never changes after creation, so it can be read unlocked.
    u32 type() const { return type_; }
    bool is_dir() const { return type_ == S_IFDIR; }
    bool is_reg() const { return type_ == S_IFREG; }
    bool is_symlink() const { return type_ == S_IFLNK; }

    FsMutex& lock() const { return lock_; }
    // The attributes, for code holding lock().
    InodeAttr& attr_locked() { return attr_; }
    const InodeAttr& attr_locked() const { return attr_; }
    // A consistent copy, taken under the lock.
    InodeAttr attr() const;

    // O_TMPFILE inodes may be linked in once although their link count is
    // zero (Linux's I_LINKABLE). Inode lock.
    bool linkable_locked() const { return linkable_; }
    void set_linkable_locked(bool v) { linkable_ = v; }

    // mmap's reverse map (see PageMapHook). Inode lock.
    PageMapHook* page_map_locked() const { return page_map_; }
    void set_page_map_locked(PageMapHook* h) { page_map_ = h; }
    // memfd seals (F_SEAL_*), enforced by write, truncate and fallocate.
    // Inode lock.
    u32 seals_locked() const { return seals_; }
    void set_seals_locked(u32 s) { seals_ = s; }

    // A removed directory: nothing may be created in it (Linux's S_DEAD).
    // Namespace lock.
    bool dead() const { return dead_; }
    void set_dead() { dead_ = true; }

    // ---- Directory operations (namespace lock held) ----
    // The inode called `name`, or ENOENT.
    virtual Result<RefPtr<Inode>> lookup(StringView name);
    // Creates any kind of object (args.mode says which) called `name`.
    // The default, for directories that cannot hold new objects, returns
    // ENOSYS, which the VFS turns into Linux's answer for the missing
    // operation (EACCES from open(O_CREAT), EPERM from mkdir and friends).
    virtual Result<RefPtr<Inode>> create(StringView name, const CreateArgs& args);
    // Adds the name `name` for `target` (not a directory).
    virtual Status link(StringView name, Inode& target);
    virtual Status unlink(StringView name, Inode& victim);
    // ENOTEMPTY unless the victim directory is empty.
    virtual Status rmdir(StringView name, Inode& victim);
    // Moves `old_name` (inode `source`) in this directory to `new_name` in
    // `new_dir`, replacing `target` when it exists. flags: RENAME_EXCHANGE
    // (target exists) or RENAME_WHITEOUT, in which case `whiteout`
    // describes the character device 0:0 left at the old name. ENOTEMPTY
    // for a non-empty target directory.
    virtual Status rename(StringView old_name, Inode& source, Inode& new_dir, StringView new_name,
                          Inode* target, u32 flags, const CreateArgs* whiteout);
    // Emits the entries at positions >= pos (positions 0 and 1 are "." and
    // "..", which the VFS emits itself).
    virtual Status iterate(u64 pos, DirEmitter& out);
    // Where an iteration that starts now should stop: positions at or past
    // it belong to entries created later, which Linux 6.12's tmpfs does not
    // show to a directory opened before them. ~0 for no limit.
    virtual u64 dir_snapshot();
    // An unnamed inode for O_TMPFILE, link count zero.
    virtual Result<RefPtr<Inode>> tmpfile(const CreateArgs& args);
    // Whether a cached lookup result for `name` is still right. File
    // systems whose directories change behind the VFS (procfs) override it.
    virtual bool revalidate(StringView name, Inode* cached);

    // ---- Symbolic links ----
    // Copies up to `size` bytes of the link body into buf and returns the
    // full length. `task` is the caller's opaque task pointer (procfs).
    virtual Result<usize> get_link(char* buf, usize size, void* task);
    // Magic links (/proc/<pid>/fd/N) jump straight to a path instead of
    // being read as text when followed.
    virtual bool is_magic_link() const { return false; }
    // Regular files whose open descriptions keep state of their own (PSI's
    // pressure files hold a trigger each): open(2) takes the description
    // made here, after the permission checks; nullptr, the default, means
    // an ordinary description of `file`.
    virtual Result<OpenFile*> open_description(File& /*file*/) { return static_cast<OpenFile*>(nullptr); }
    // Files whose text is generated when read (procfs, sysfs): read() runs
    // without the inode lock (generating takes other subsystems' locks) and
    // is not bounded by attr.size, which stays 0 as stat(2) shows on Linux.
    virtual bool generated() const { return false; }
    virtual Result<Path> jump_link(void* task);
    // Files that announce changes (cgroup.events, as kernfs does): a
    // counter bumped on every change, and poll(2)'s answer for an open file
    // that last saw `seen_events` (0 before its first read; `poll_table` is
    // the kernel's PollTable, or null). The default: always readable and
    // writable, never an event.
    virtual u64 event_count() const { return 0; }
    virtual u32 poll(void* /*poll_table*/, u64 /*seen_events*/) { return 0x1 | 0x4 | 0x40 | 0x100; }
    // Whether poll() is a real one (kernfs files): epoll accepts such
    // regular files, as Linux accepts files with a poll method.
    virtual bool has_poll() const { return false; }

    // ---- Data (inode lock held) ----
    // Reads up to n bytes at offset `off` into out[at..]; returns the count,
    // short at end of file or on a faulting copy.
    virtual Result<usize> read(u64 off, DataBuffer& out, usize at, usize n);
    virtual Result<usize> write(u64 off, DataBuffer& in, usize at, usize n);
    // Sets attr.size and frees or zeroes what lies beyond it.
    virtual Status truncate(u64 new_size);
    virtual Status fallocate(int mode, u64 off, u64 len);
    // lseek's SEEK_DATA/SEEK_HOLE: the next data (or hole) at or after off.
    virtual Result<u64> seek_data(u64 off, bool hole);
    // The page of file data at `index` (allocated when `create`), for mmap.
    virtual Result<void*> get_page(u64 index, bool create);

    // ---- Attributes ----
    // Lets a file system add to what getattr reports (btime, attributes).
    // Inode lock held.
    virtual void getattr_extra(struct statx& out, u32 request_mask) const;
    // Permission check; the default is the UNIX mode-bit check.
    virtual Status permission(const Cred& cred, int mask);

private:
    // Not a reference: the superblock holds its tree, which holds the
    // inodes. An inode must not outlive its superblock, so references to
    // inodes are only kept alongside a mount (a Path) or a superblock
    // reference.
    Superblock* sb_;
    u64 ino_;
    u32 type_;
    mutable FsMutex lock_;
    InodeAttr attr_;
    bool linkable_ = false;
    bool dead_ = false;
    PageMapHook* page_map_ = nullptr;
    u32 seals_ = 0;
};

// ---- Permission rules (inode(7), path_resolution(7)) ----

// The mode-bit check with the capability overrides: CAP_DAC_READ_SEARCH
// for reading and searching, CAP_DAC_OVERRIDE for everything except
// executing a file with no execute bit at all.
Status generic_permission(const InodeAttr& a, const Cred& cred, int mask);
// The full check: EROFS for writes on a read-only file system, then the
// inode's own permission().
Status inode_permission(Inode& inode, const Cred& cred, int mask);
// The owner, or CAP_FOWNER.
bool owner_or_capable(const InodeAttr& a, const Cred& cred);
// Member of `gid`, or CAP_FSETID (may keep the set-group-ID bit).
bool in_group_or_capable(u32 gid, const Cred& cred);
// True when the sticky bit of `dir` forbids removing or renaming `victim`.
bool sticky_denies(const InodeAttr& dir, const InodeAttr& victim, const Cred& cred);

}  // namespace keel::fs
