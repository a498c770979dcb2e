// The kernel's physical page allocator: the buddy allocator behind a global
// lock, with a per-CPU cache of single pages in front, and the kernel heap
// (kmalloc) wired on top.
#pragma once

#include "lib/result.h"
#include "mm/buddy.h"

namespace keel::mm {

class BootMemory;

// Takes over all free RAM from the boot allocator. After this, the boot
// allocator must not be used.
Status page_alloc_init(BootMemory& boot, bool debug_checks);
void page_alloc_init_cpu(u32 cpu);

Result<u64> alloc_pages(unsigned order);  // physical address
void free_pages(u64 phys, unsigned order);
Result<void*> alloc_page_zeroed();  // direct-map address
void free_page(void* va);

// The metadata of the page at `phys` (for user-page reference counts).
PageFrame& page_frame(u64 phys);

struct MemStats {
    u64 total_pages;
    u64 free_pages;
    u64 slab_pages;
};
MemStats mem_stats();

}  // namespace keel::mm
