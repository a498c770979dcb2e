#include "mm/file_map.h"

#include "lib/alloc.h"

namespace keel::mm {

Result<FileMap*> FileMap::of(fs::Inode& inode) {
    fs::FsLockGuard g(inode.lock());
    if (auto* h = inode.page_map_locked()) return static_cast<FileMap*>(h);
    FileMap* m = TRY(make<FileMap>());
    inode.set_page_map_locked(m);
    return m;
}

void FileMap::release() { destroy(this); }

void FileMap::add(Vma& v) {
    SpinlockGuard g(lock_);
    vmas_.push_back(v);
    if (vma_may_write_shared(v)) ++writable_;
}

void FileMap::remove(Vma& v) {
    SpinlockGuard g(lock_);
    vmas_.remove(v);
    if (vma_may_write_shared(v)) --writable_;
}

void FileMap::unmap_pages(u64 first, u64 end, bool private_copies) {
    __atomic_add_fetch(&gen_, 1, __ATOMIC_ACQ_REL);
    u64 seq = ++seq_;
    // Address spaces are visited one at a time with only their own lock
    // held (it ranks below this map's). Each visit marks the VMAs of that
    // space; the scan starts over until none is left unmarked, which also
    // catches VMAs a concurrent fork or mmap added meanwhile.
    for (;;) {
        AddressSpace* as = nullptr;
        {
            SpinlockGuard g(lock_);
            for (Vma* v = vmas_.front(); v; v = vmas_.next(*v)) {
                if (v->zap_seq == seq) continue;
                if (v->as->try_get()) {
                    as = v->as;
                    break;
                }
                v->zap_seq = seq;  // a dying space: its teardown drops the pages
            }
        }
        if (!as) return;
        as->zap_file_pages(this, seq, first, end, private_copies);
        as->put();
    }
}

}  // namespace keel::mm
