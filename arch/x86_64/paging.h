// x86-64 4-level page tables. Tables are reached through the direct map.
#pragma once

#include "lib/result.h"

namespace keel::mm {
class BootMemory;
}

namespace keel::arch {

namespace pte {
constexpr u64 P = 1ull << 0;
constexpr u64 W = 1ull << 1;
constexpr u64 U = 1ull << 2;
constexpr u64 PWT = 1ull << 3;
constexpr u64 PCD = 1ull << 4;
constexpr u64 A = 1ull << 5;
constexpr u64 D = 1ull << 6;
constexpr u64 PS = 1ull << 7;
constexpr u64 G = 1ull << 8;
constexpr u64 NX = 1ull << 63;
constexpr u64 ADDR_MASK = 0x000ffffffffff000ull;
}  // namespace pte

// Source of zeroed page-table pages (physical addresses). Boot code uses the
// boot allocator; later the page allocator.
using TablePageSource = Result<u64> (*)();
void set_table_page_source(TablePageSource src);
void set_table_page_release(void (*release)(u64 pa));

struct PagingFeatures {
    bool nx = false;
    bool gb_pages = false;
    bool global = true;
};
const PagingFeatures& paging_features();
void detect_paging_features();

// Maps [va, va+size) to [pa, pa+size) with `flags` (P is implied), using
// 2 MiB or 1 GiB pages where alignment allows and `large` is set.
Status map_range(u64 pml4_phys, uptr va, u64 pa, u64 size, u64 flags, bool large);
// Removes 4 KiB mappings; returns the physical address that was mapped at va
// (0 if none). The caller flushes TLBs.
u64 unmap_page(u64 pml4_phys, uptr va);
// Physical address mapped at va, or 0.
u64 translate(u64 pml4_phys, uptr va);

// The 4 KiB leaf entry for va, or nullptr when no table covers it.
u64* pte_lookup(u64 pml4_phys, uptr va);
// The 4 KiB leaf entry for va, creating the tables on the way.
Result<u64*> pte_create(u64 pml4_phys, uptr va);
// A new top-level table sharing the kernel half with kernel_pml4().
Result<u64> new_user_pml4();
// Frees every table of the user half, calling leaf(pa) for each mapped page.
void free_user_half(u64 pml4_phys, void (*leaf)(u64 pa));

u64 kernel_pml4();
// Builds the final kernel tables (direct map of all RAM, W^X kernel image,
// guard page below the boot stack) and switches to them.
Status init_kernel_paging(const mm::BootMemory& mem);

inline void flush_tlb_local() {
    u64 cr3;
    asm volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

}  // namespace keel::arch
