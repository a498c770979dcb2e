// Helpers shared by the address-space files (address_space.cpp,
// vm_fault.cpp, vm_calls.cpp, vma_merge.cpp).
#pragma once

#include "arch/x86_64/paging.h"
#include "lib/ref_ptr.h"
#include "mm/address_space.h"
#include "mm/layout.h"

namespace keel::fs {
class File;
}

namespace keel::mm {

inline bool page_aligned(uptr v) { return (v & (PAGE_SIZE - 1)) == 0; }

// A PTE bit the MMU ignores: a PROT_NONE page, kept not-present with its
// frame so the rights can come back without losing it.
constexpr u64 PTE_PROTNONE = 1ull << 10;

// Whether a PTE holds a page (present, or parked by PROT_NONE).
inline bool pte_has_page(u64 e) { return e & (arch::pte::P | PTE_PROTNONE); }

// The Vma::vm marks `v` has once given rights `prot` (mm/vma_merge.cpp:
// VM_ACCOUNT when private memory first becomes writable, dropped when
// memory that never had a page loses write).
u32 vm_after_protect(const Vma& v, u32 prot);

// Drops one address space's use of an owned page.
void release_user_page(u64 pa);
// After changing live translations of the user page tables at `pml4`.
void flush_user(u64 pml4, uptr va, usize pages);
// Drops a reference to a VFS file.
void put_file(fs::File* f);

// Calls fn(va, pte) for every leaf entry of [start, end) that has a page
// table, skipping 2 MiB ranges without one.
template <typename Fn>
void for_each_pte(u64 pml4, uptr start, uptr end, Fn fn) {
    for (uptr va = start; va < end; va += PAGE_SIZE) {
        u64* pte = arch::pte_lookup(pml4, va);
        if (!pte) {
            va = align_up<uptr>(va + 1, 2 * MiB) - PAGE_SIZE;
            continue;
        }
        fn(va, pte);
    }
}

}  // namespace keel::mm
