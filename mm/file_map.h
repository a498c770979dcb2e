// The reverse map of one inode's pages: every VMA that maps the inode (the
// page cache pages themselves stay the file system's). Before the file
// system frees pages (truncate, hole punch) it calls unmap_pages, which
// removes them from every address space, so a later touch faults again and
// finds the hole or the end of the file (SIGBUS).
#pragma once

#include "fs/core/inode.h"
#include "kernel/spinlock.h"
#include "mm/address_space.h"

namespace keel::mm {

class FileMap final : public fs::PageMapHook {
public:
    // The inode's map, made on first use (ENOMEM). Takes the inode lock.
    static Result<FileMap*> of(fs::Inode& inode);

    void unmap_pages(u64 first, u64 end, bool private_copies) override;
    void release() override;

    // Bumped before pages go: a fault that looked a page up under an older
    // generation must look again.
    u64 generation() const { return __atomic_load_n(&gen_, __ATOMIC_ACQUIRE); }

    // VMAs join and leave under their address space's lock.
    void add(Vma& v);
    void remove(Vma& v);

    // Shared mappings that may become writable (F_SEAL_WRITE needs none).
    u32 writable_maps() const { return __atomic_load_n(&writable_, __ATOMIC_RELAXED); }

private:
    Spinlock lock_;
    IntrusiveList<Vma, &Vma::file_node> vmas_;
    u64 gen_ = 0;
    u64 seq_ = 0;  // zap passes; serialised by the inode lock
    u32 writable_ = 0;
};

// Whether v counts in FileMap::writable_maps.
inline bool vma_may_write_shared(const Vma& v) { return v.shared() && (v.vm & VM_MAYWRITE); }

}  // namespace keel::mm
