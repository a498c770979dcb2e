#include "mm/vmalloc.h"

#include "arch/x86_64/paging.h"
#include "kernel/cgroup/memcg.h"
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
constexpr usize MAX_UNMAP_BATCH = 64;

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
    u64 pages[MAX_UNMAP_BATCH];
    if (size / PAGE_SIZE > MAX_UNMAP_BATCH) {  // large areas: in batches
        unmap_and_free(va, MAX_UNMAP_BATCH * PAGE_SIZE);
        unmap_and_free(va + MAX_UNMAP_BATCH * PAGE_SIZE, size - MAX_UNMAP_BATCH * PAGE_SIZE);
        return;
    }
    for (usize off = 0; off < size; off += PAGE_SIZE) {
        pages[off / PAGE_SIZE] = arch::unmap_page(arch::kernel_pml4(), va + off);
    }
    // No CPU may still reach the pages through its TLB once they are reused.
    tlb_shootdown(va, size / PAGE_SIZE);
    for (usize off = 0; off < size; off += PAGE_SIZE)
        if (pages[off / PAGE_SIZE]) free_pages(pages[off / PAGE_SIZE], 0);
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
    // Unmap before the range goes back to the arena: once it is free,
    // another CPU may map new pages there.
    usize size = MUST(state.with([&](Vmalloc& v) { return v.arena.size_of(va); }));
    unmap_and_free(va, size);
    state.with([&](Vmalloc& v) { v.arena.free(va); });
}

Result<KernelStack> alloc_kernel_stack() {
    void* p = TRY(vmalloc(KERNEL_STACK_SIZE));
    uptr b = reinterpret_cast<uptr>(p);
    // Not charged (yet): memcg::charge_kernel_stack keeps the cgroup of a
    // user thread's stack in this frame.
    page_frame(arch::translate(arch::kernel_pml4(), b)).memcg = nullptr;
    return KernelStack{b, b + KERNEL_STACK_SIZE};
}

void free_kernel_stack(const KernelStack& s) {
    memcg::uncharge_kernel_stack(s.bottom);  // normally done at the thread's exit already
    vfree(reinterpret_cast<void*>(s.bottom));
}

}  // namespace keel::mm
