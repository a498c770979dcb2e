#include "mm/page_alloc.h"

#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "mm/boot_mem.h"
#include "mm/slab.h"

namespace keel::mm {

namespace {

// The buddy lock in the lock()/unlock() shape the portable code expects.
struct BuddyLock {
    Spinlock spin{LockRank::PageAlloc};
    bool irq = false;
    void lock() { irq = spin.lock(); }
    void unlock() { spin.unlock(irq); }
};

BuddyAllocator buddy;
BuddyLock buddy_lock;
PageCache page_caches[MAX_CPUS];
bool caches_ready[MAX_CPUS];

void* pfn_to_virt(u64 pfn) { return phys_to_virt(pfn << PAGE_SHIFT); }

Result<void*> provider_alloc(void*, unsigned order) {
    u64 pa = TRY(alloc_pages(order));
    return phys_to_virt(pa);
}
void provider_free(void*, void* va, unsigned order) { free_pages(virt_to_phys(va), order); }
PageFrame* provider_frame(void*, const void* va) {
    u64 pfn = virt_to_phys(va) >> PAGE_SHIFT;
    return buddy.contains(pfn) ? &buddy.frame(pfn) : nullptr;
}

// Slab caches serialise on one spinlock each; kept in a small static pool.
struct SlabLock {
    Spinlock spin{LockRank::Slab};
    bool irq = false;
    void lock() { irq = spin.lock(); }
    void unlock() { spin.unlock(irq); }
};
SlabLock kmalloc_locks[KMALLOC_CLASSES];
SlabLock kmalloc_cg_locks[KMALLOC_CLASSES];

}  // namespace

Status page_alloc_init(BootMemory& boot, bool debug_checks) {
    u64 npages = boot.max_ram_end() >> PAGE_SHIFT;
    u64 meta_bytes = npages * sizeof(PageFrame);
    u64 meta = TRY(boot.alloc(meta_bytes, PAGE_SIZE));
    auto* frames = phys_to_ptr<PageFrame>(meta);
    __builtin_memset(static_cast<void*>(frames), 0, meta_bytes);

    BuddyOptions opts;
    opts.pfn_to_virt = pfn_to_virt;
    opts.poison = debug_checks;
    opts.check_poison = debug_checks;  // a write after free shows up at the next allocation
    buddy.init(frames, 0, npages, opts);
    boot.for_each_free([](u64 base, u64 size) { buddy.add_free_range(base >> PAGE_SHIFT, size >> PAGE_SHIFT); });

    PageProvider provider{nullptr, provider_alloc, provider_free, provider_frame};
    SlabDebug dbg;
    dbg.poison = debug_checks;
    dbg.check_poison = debug_checks;
    kmalloc_init(provider, dbg);
    for (usize i = 0; i < KMALLOC_CLASSES; ++i) {
        kmalloc_heap().cache(i).set_lock(kmalloc_locks[i]);
        kmalloc_heap().accounted_cache(i).set_lock(kmalloc_cg_locks[i]);
    }
    return {};
}

void page_alloc_init_cpu(u32 cpu) {
    page_caches[cpu].init(buddy, 64, 16);
    caches_ready[cpu] = true;
}

namespace {

// Gives this CPU's cached single pages back to the buddy allocator.
void drain_local_cache(void*) {
    arch::InterruptGuard ig;
    IrqsOffProof proof;
    u32 cpu = this_cpu(proof).id;
    if (!caches_ready[cpu]) return;
    buddy_lock.lock();
    page_caches[cpu].drain_all_locked();
    buddy_lock.unlock();
}

Result<u64> buddy_alloc(unsigned order) {
    buddy_lock.lock();
    auto r = buddy.alloc(order);
    buddy_lock.unlock();
    if (r.is_error()) return r.error();
    return r.value() << PAGE_SHIFT;
}

}  // namespace

Result<u64> alloc_pages(unsigned order) {
    if (order == 0) {
        arch::InterruptGuard ig;
        IrqsOffProof proof;
        u32 cpu = this_cpu(proof).id;
        if (caches_ready[cpu]) {
            auto r = page_caches[cpu].alloc(buddy_lock);
            if (r.is_ok()) return r.value() << PAGE_SHIFT;
        }
    }
    auto r = buddy_alloc(order);
    if (r.is_ok() || !arch::irqs_enabled()) return r;
    // Before saying ENOMEM, take back the pages parked in every CPU's cache.
    // (Waiting for other CPUs needs interrupts on; without, ENOMEM stands.)
    drain_local_cache(nullptr);
    smp_call_others(drain_local_cache, nullptr);
    return buddy_alloc(order);
}

void free_pages(u64 phys, unsigned order) {
    u64 pfn = phys >> PAGE_SHIFT;
    if (order == 0) {
        arch::InterruptGuard ig;
        IrqsOffProof proof;
        u32 cpu = this_cpu(proof).id;
        if (caches_ready[cpu]) {
            page_caches[cpu].free(pfn, buddy_lock);
            return;
        }
    }
    buddy_lock.lock();
    buddy.free(pfn, order);
    buddy_lock.unlock();
}

Result<void*> alloc_page_zeroed() {
    u64 pa = TRY(alloc_pages(0));
    void* va = phys_to_virt(pa);
    __builtin_memset(va, 0, PAGE_SIZE);
    return va;
}

void free_page(void* va) { free_pages(virt_to_phys(va), 0); }

PageFrame& page_frame(u64 phys) { return buddy.frame(phys >> PAGE_SHIFT); }

MemStats mem_stats() {
    MemStats s{};
    buddy_lock.lock();
    s.total_pages = buddy.managed_pages();
    s.free_pages = buddy.free_pages();
    buddy_lock.unlock();
    for (u32 i = 0; i < MAX_CPUS; ++i)
        if (caches_ready[i]) s.free_pages += page_caches[i].count();
    s.slab_pages = slab_total_pages();
    return s;
}

}  // namespace keel::mm
