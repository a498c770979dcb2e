// tmpfs's classes, shared by tmpfs.cpp (instances, directories) and
// tmpfs_file.cpp (file data).
#pragma once

#include "fs/core/tmpfs.h"

namespace keel::fs {

constexpr u64 TMPFS_PAGE = 4096;
// Linux's tmpfs counts 20 bytes of directory size per entry.
constexpr u64 BOGO_DIRENT_SIZE = 20;
// Shorter symlink bodies live in the inode and use no block.
constexpr usize SHORT_SYMLINK_LEN = 128;

struct TmpfsEntry {
    RbNode by_name;
    RbNode by_cookie;
    ListNode work;  // teardown worklist
    RefPtr<Inode> inode;
    u64 cookie = 0;
    u16 len = 0;

    char* name_data() { return reinterpret_cast<char*>(this + 1); }
    const char* name_data() const { return reinterpret_cast<const char*>(this + 1); }
    StringView name() const { return StringView(name_data(), len); }

    static TmpfsEntry* create(StringView name, RefPtr<Inode> inode);
    static void free(TmpfsEntry* e);
};

struct EntryNameOrder {
    static bool less(const TmpfsEntry& a, const TmpfsEntry& b);
};
struct EntryCookieOrder {
    static bool less(const TmpfsEntry& a, const TmpfsEntry& b) { return a.cookie < b.cookie; }
};

struct TmpfsPage {
    RbNode link;
    u64 index = 0;
    u8* data = nullptr;
    bool fresh = false;  // allocated by the fallocate in progress
    void* owner = nullptr;  // who the page is charged to (TmpfsCharge)
};
struct PageOrder {
    static bool less(const TmpfsPage& a, const TmpfsPage& b) { return a.index < b.index; }
};

class TmpfsSuper;

// set_tmpfs_charge's hooks (null: pages are not charged).
extern const TmpfsCharge* g_tmpfs_charge;

class TmpfsInode final : public Inode {
public:
    TmpfsInode(TmpfsSuper& sb, u64 ino, u32 mode);
    ~TmpfsInode() override;

    TmpfsSuper& tsb() const;

    // Directories (namespace lock held).
    Result<RefPtr<Inode>> lookup(StringView name) override;
    Result<RefPtr<Inode>> create(StringView name, const CreateArgs& args) override;
    Status link(StringView name, Inode& target) override;
    Status unlink(StringView name, Inode& victim) override;
    Status rmdir(StringView name, Inode& victim) override;
    Status rename(StringView old_name, Inode& source, Inode& new_dir, StringView new_name, Inode* target,
                  u32 flags, const CreateArgs* whiteout) override;
    Status iterate(u64 pos, DirEmitter& out) override;
    u64 dir_snapshot() override { return next_cookie_; }
    Result<RefPtr<Inode>> tmpfile(const CreateArgs& args) override;

    // Symlinks: the body never changes, so no lock is needed.
    Result<usize> get_link(char* buf, usize size, void* task) override;

    // Data (inode lock held).
    Result<usize> read(u64 off, DataBuffer& out, usize at, usize n) override;
    Result<usize> write(u64 off, DataBuffer& in, usize at, usize n) override;
    Status truncate(u64 new_size) override;
    Status fallocate(int mode, u64 off, u64 len) override;
    Result<u64> seek_data(u64 off, bool hole) override;
    Result<void*> get_page(u64 index, bool create) override;

    void getattr_extra(struct statx& out, u32 request_mask) const override;

    // Moves every entry of this directory, recursively, out and frees them
    // without recursion (teardown).
    void drop_all_entries();
    bool empty_dir() const { return by_name_.empty(); }
    Status set_link_target(StringView target);

private:
    friend class TmpfsSuper;
    TmpfsEntry* find(StringView name) const;
    void insert(TmpfsEntry& e);
    void remove(TmpfsEntry& e);
    // Directory bookkeeping after an entry appears or goes.
    void touch_dir(i64 entries_delta, const Timespec& now);

    TmpfsPage* find_page(u64 index) const;
    Result<TmpfsPage*> get_or_alloc_page(u64 index);
    void free_page(TmpfsPage* p);
    void free_pages_from(u64 first_index);
    void zero_range(u64 from, u64 to);
    void update_blocks();

    using ByName = RbTree<TmpfsEntry, &TmpfsEntry::by_name, EntryNameOrder>;
    using ByCookie = RbTree<TmpfsEntry, &TmpfsEntry::by_cookie, EntryCookieOrder>;
    using Pages = RbTree<TmpfsPage, &TmpfsPage::link, PageOrder>;
    ByName by_name_;
    ByCookie by_cookie_;
    u64 next_cookie_ = 2;  // 0 and 1 are "." and ".."
    Pages pages_;
    u64 npages_ = 0;
    char* target_ = nullptr;
    usize target_len_ = 0;
};

class TmpfsSuper final : public Superblock {
public:
    TmpfsSuper(const FsType& type, DevId dev, const TmpfsOptions& opts);
    ~TmpfsSuper() override;

    Status init(u32 ms_flags);
    Status statfs(StatFs& out) override;
    usize show_options(char* buf, usize size) const override;

    // A new inode (ENOSPC past nr_inodes, ENOMEM).
    Result<RefPtr<TmpfsInode>> new_inode(const CreateArgs& args);
    // Accounting: inodes (one per link, as Linux's tmpfs counts them) and
    // pages against the size= limit.
    Status reserve_inode();
    void release_inode();
    Status reserve_pages(u64 n);
    void release_pages(u64 n);

protected:
    void kill() override;

private:
    TmpfsOptions opts_;
    u64 next_ino_ = 1;
    u64 used_inodes_ = 0;
    u64 used_pages_ = 0;
    RefPtr<TmpfsInode> root_inode_;
    bool killed_ = false;
};

}  // namespace keel::fs
