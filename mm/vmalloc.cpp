#include "mm/vmalloc.h"

#include "arch/x86_64/paging.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "mm/layout.h"
#include "mm/page_alloc.h"
#include "mm/vmem_arena.h"

namespace keel::mm {

namespace {

// The arena covers the vmalloc range below the MMIO window (mm/ioremap.cpp).
constexpr uptr ARENA_END = VMALLOC_BASE + VMALLOC_SIZE - GiB;
constexpr usize BOOT_NODES = 256;

struct Vmalloc {
    VmemArena arena;
    VmemSegment boot_nodes[BOOT_NODES];
};
constinit SpinlockProtected<Vmalloc> state(LockRank::Vmem);

// Keeps spare tracking nodes ahead of demand, from a fresh page when low.
Status ensure_nodes() {
    bool low = state.with([](Vmalloc& v) { return v.arena.spare_nodes() < 4; });
    if (!low) return {};
    void* page = TRY(alloc_page_zeroed());
    state.with([&](Vmalloc& v) {
        v.arena.add_nodes(static_cast<VmemSegment*>(page), PAGE_SIZE / sizeof(VmemSegment));
    });
    return {};
}

void unmap_and_free(uptr va, usize size) {
    for (usize off = 0; off < size; off += PAGE_SIZE) {
        u64 pa = arch::unmap_page(arch::kernel_pml4(), va + off);
        arch::invlpg(va + off);
        if (pa) free_pages(pa, 0);
    }
    tlb_shootdown(va, size / PAGE_SIZE);
}

}  // namespace

void vmalloc_init() {
    Vmalloc& v = state.unsafe_get();
    v.arena.init(VMALLOC_BASE, ARENA_END, v.boot_nodes, BOOT_NODES);
}

Result<void*> vmalloc(usize size) {
    size = align_up(size, PAGE_SIZE);
    TRY(ensure_nodes());
    uptr va = TRY(state.with([&](Vmalloc& v) { return v.arena.alloc(size, PAGE_SIZE); }));
    for (usize off = 0; off < size; off += PAGE_SIZE) {
        auto page = alloc_page_zeroed();
        Status st = page.is_ok() ? arch::map_range(arch::kernel_pml4(), va + off, virt_to_phys(page.value()),
                                                   PAGE_SIZE, arch::pte::W | arch::pte::NX | arch::pte::G, false)
                                 : Status(page.error());
        if (st.is_error()) {
            if (page.is_ok()) free_page(page.value());
            unmap_and_free(va, off);
            state.with([&](Vmalloc& v) { v.arena.free(va); });
            return st.error();
        }
    }
    return reinterpret_cast<void*>(va);
}

void vfree(void* addr) {
    if (!addr) return;
    uptr va = reinterpret_cast<uptr>(addr);
    usize size = state.with([&](Vmalloc& v) { return v.arena.free(va); });
    unmap_and_free(va, size);
}

Result<KernelStack> alloc_kernel_stack() {
    void* p = TRY(vmalloc(KERNEL_STACK_SIZE));
    uptr b = reinterpret_cast<uptr>(p);
    return KernelStack{b, b + KERNEL_STACK_SIZE};
}

void free_kernel_stack(const KernelStack& s) { vfree(reinterpret_cast<void*>(s.bottom)); }

}  // namespace keel::mm
