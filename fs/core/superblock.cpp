#include "fs/core/superblock.h"

namespace keel::fs {

// ---- File system types --------------------------------------------------

namespace {

FsType* g_types = nullptr;
FsMutex g_types_lock;

// Anonymous device minors, 1 and up (major 0), smallest free first as
// Linux's IDA hands them out.
constexpr u32 ANON_DEVS = 8192;
u64 g_anon_bitmap[ANON_DEVS / 64] = {1};  // minor 0 is never used
FsMutex g_anon_lock;

}  // namespace

void register_fs_type(FsType& type) {
    FsLockGuard g(g_types_lock);
    for (FsType* t = g_types; t; t = t->next)
        if (t == &type) return;
    type.next = g_types;
    g_types = &type;
}

const FsType* find_fs_type(StringView name) {
    FsLockGuard g(g_types_lock);
    for (FsType* t = g_types; t; t = t->next)
        if (StringView(t->name) == name) return t;
    return nullptr;
}

Result<DevId> alloc_anon_dev() {
    FsLockGuard g(g_anon_lock);
    for (u32 w = 0; w < ANON_DEVS / 64; ++w) {
        if (g_anon_bitmap[w] == ~0ull) continue;
        u32 bit = static_cast<u32>(__builtin_ctzll(~g_anon_bitmap[w]));
        g_anon_bitmap[w] |= 1ull << bit;
        return make_dev(0, w * 64 + bit);
    }
    return Error(EMFILE);
}

void free_anon_dev(DevId dev) {
    u32 minor = dev_minor(dev);
    if (dev_major(dev) != 0 || minor == 0 || minor >= ANON_DEVS) return;
    FsLockGuard g(g_anon_lock);
    g_anon_bitmap[minor / 64] &= ~(1ull << (minor % 64));
}

// ---- Superblock -----------------------------------------------------------

Superblock::Superblock(const FsType& type, DevId dev) : type_(type), dev_(dev) {}

Superblock::~Superblock() {
    if (dev_major(dev_) == 0) free_anon_dev(dev_);
}

Status Superblock::statfs(StatFs& out) {
    out.type = magic();
    out.bsize = block_size_;
    out.namelen = NAME_MAX;
    return {};
}

usize Superblock::show_options(char* buf, usize size) const {
    if (size) buf[0] = 0;
    return 0;
}

Status Superblock::set_root(RefPtr<Inode> root_inode) {
    root_ = TRY(Dentry::make_root(*this, move(root_inode)));
    return {};
}

void Superblock::deactivate() {
    if (__atomic_sub_fetch(&active_, 1, __ATOMIC_ACQ_REL) == 0) kill();
}

void Superblock::kill() {
    {
        FsLockGuard g(lock_);
        shrink_dcache_locked(0);
    }
    root_ = nullptr;
}

void Superblock::dcache_insert_locked(Dentry& d) {
    lru_.push_back(d);
    if (lru_.size() > dcache_limit_) shrink_dcache_locked(dcache_limit_ - dcache_limit_ / 4);
}

void Superblock::dcache_remove_locked(Dentry& d) { lru_.remove(d); }

void Superblock::dcache_touch_locked(Dentry& d) {
    lru_.remove(d);
    lru_.push_back(d);
}

void Superblock::shrink_dcache_locked(usize keep) {
    // Oldest first. Only the cache holding the single reference makes a
    // dentry evictable; evicting a child can make its parent evictable, so
    // keep passing while passes make progress.
    bool progress = true;
    while (progress && lru_.size() > keep) {
        progress = false;
        for (Dentry* d = lru_.front(); d && lru_.size() > keep;) {
            Dentry* next = lru_.next(*d);
            if (d->ref_count() == 1) {
                d->unhash_locked();
                progress = true;
            }
            d = next;
        }
    }
}

}  // namespace keel::fs
