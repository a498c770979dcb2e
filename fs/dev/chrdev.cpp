#include "fs/dev/chrdev.h"

#include "fs/vfs_file.h"
#include "kernel/spinlock.h"

namespace keel::fs {

namespace {

struct ChrdevRange {
    u32 major = 0;
    u32 first = 0;
    u32 count = 0;
    const char* name = nullptr;
    ChrdevOpen open = nullptr;
};

// Registration happens at boot and never undone, so a fixed table read
// without a lock after boot is enough; the lock orders registrations.
constexpr usize kMaxRanges = 32;
ChrdevRange g_ranges[kMaxRanges];
usize g_count = 0;
Spinlock g_lock{LockRank::Device};

const ChrdevRange* find(u32 major, u32 minor) {
    usize n = __atomic_load_n(&g_count, __ATOMIC_ACQUIRE);
    for (usize i = 0; i < n; ++i) {
        const ChrdevRange& r = g_ranges[i];
        if (r.major == major && minor >= r.first && minor - r.first < r.count) return &r;
    }
    return nullptr;
}

}  // namespace

Status register_chrdev(u32 major, u32 first, u32 count, const char* name, ChrdevOpen open) {
    SpinlockGuard guard(g_lock);
    usize n = g_count;
    for (usize i = 0; i < n; ++i) {
        const ChrdevRange& r = g_ranges[i];
        if (r.major == major && first < r.first + r.count && r.first < first + count) return Error(EBUSY);
    }
    if (n == kMaxRanges) return Error(ENOSPC);
    g_ranges[n] = ChrdevRange{major, first, count, name, open};
    __atomic_store_n(&g_count, n + 1, __ATOMIC_RELEASE);
    return {};
}

Result<OpenFile*> open_chrdev(RefPtr<File> file) {
    DevId rdev = file->inode().attr().rdev;
    const ChrdevRange* r = find(dev_major(rdev), dev_minor(rdev));
    if (!r) return Error(ENXIO);
    return r->open(move(file), dev_minor(rdev));
}

void for_each_chrdev(void (*fn)(u32 major, const char* name, void* ctx), void* ctx) {
    usize n = __atomic_load_n(&g_count, __ATOMIC_ACQUIRE);
    u32 last = ~0u;
    for (u32 major = 0; major < 4096; ++major) {
        for (usize i = 0; i < n; ++i) {
            if (g_ranges[i].major == major && major != last) {
                fn(major, g_ranges[i].name, ctx);
                last = major;
            }
        }
    }
}

Status DeviceFile::stat(struct stat& st) { return stat_path(file_->path(), st); }

}  // namespace keel::fs
