// In-kernel tests of memory management on the real machine.
#include "arch/x86_64/paging.h"
#include "kernel/ktest.h"
#include "mm/layout.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "mm/vmalloc.h"
#include "kernel/percpu.h"
#include "kernel/sched/scheduler.h"
#include "kernel/smp.h"
#include "mm/address_space.h"

extern "C" char __text_start[], __rodata_start[], __data_start[];

using namespace keel;

KTEST(mm, pages_alloc_free_roundtrip) {
    auto before = mm::mem_stats().free_pages;
    auto a = mm::alloc_pages(0);
    auto b = mm::alloc_pages(3);
    KASSERT_TRUE(a.is_ok() && b.is_ok());
    KEXPECT(a.value() != b.value());
    KEXPECT_EQ(b.value() % (8 * mm::PAGE_SIZE), 0);
    mm::free_pages(a.value(), 0);
    mm::free_pages(b.value(), 3);
    KEXPECT_EQ(mm::mem_stats().free_pages, before);
}

KTEST(mm, exhaustion_is_enomem) {
    // Take every 4 MiB block; the next request must fail cleanly.
    static u64 blocks[4096];
    usize n = 0;
    for (; n < 4096; ++n) {
        auto r = mm::alloc_pages(mm::MAX_ORDER);
        if (r.is_error()) {
            KEXPECT_EQ(r.error().code(), ENOMEM);
            break;
        }
        blocks[n] = r.value();
    }
    KEXPECT(n > 0 && n < 4096);
    for (usize i = 0; i < n; ++i) mm::free_pages(blocks[i], mm::MAX_ORDER);
    KEXPECT(mm::alloc_pages(mm::MAX_ORDER).is_ok());
}

KTEST(mm, kmalloc_sizes) {
    const usize sizes[] = {1, 8, 24, 100, 500, 4096, 10000, 100000};
    for (usize size : sizes) {
        auto r = mm::kmalloc(size);
        KASSERT_TRUE(r.is_ok());
        KEXPECT(mm::ksize(r.value()) >= size);
        __builtin_memset(r.value(), 0x5a, size);
        mm::kfree(r.value());
    }
    auto z = mm::kzalloc(256);
    KASSERT_TRUE(z.is_ok());
    bool zero = true;
    for (usize i = 0; i < 256; ++i) zero &= static_cast<u8*>(z.value())[i] == 0;
    KEXPECT(zero);
    mm::kfree(z.value());
}

KTEST(mm, kernel_stack_has_guard_page) {
    auto s = mm::alloc_kernel_stack();
    KASSERT_TRUE(s.is_ok());
    u64 pml4 = arch::kernel_pml4();
    KEXPECT(arch::translate(pml4, s.value().bottom) != 0);
    KEXPECT(arch::translate(pml4, s.value().top - 8) != 0);
    KEXPECT_EQ(arch::translate(pml4, s.value().bottom - mm::PAGE_SIZE), 0);
    mm::free_kernel_stack(s.value());
    KEXPECT_EQ(arch::translate(pml4, s.value().bottom), 0);
}

namespace {
u64 leaf_pte(uptr va) {
    // Walk by hand: translate() hides the permission bits.
    u64* t = mm::phys_to_ptr<u64>(arch::kernel_pml4());
    for (int level = 3; level >= 0; --level) {
        u64 e = t[(va >> (12 + 9 * level)) & 511];
        if (!(e & arch::pte::P)) return 0;
        if (level == 0 || (e & arch::pte::PS)) return e;
        t = mm::phys_to_ptr<u64>(e & arch::pte::ADDR_MASK);
    }
    return 0;
}
}  // namespace

KTEST(mm, kernel_image_is_w_xor_x) {
    u64 text = leaf_pte(reinterpret_cast<uptr>(__text_start));
    u64 ro = leaf_pte(reinterpret_cast<uptr>(__rodata_start));
    u64 data = leaf_pte(reinterpret_cast<uptr>(__data_start));
    KEXPECT(text && !(text & arch::pte::W) && !(text & arch::pte::NX));
    KEXPECT(ro && !(ro & arch::pte::W));
    KEXPECT(data && (data & arch::pte::W));
    if (arch::paging_features().nx) {
        KEXPECT(ro & arch::pte::NX);
        KEXPECT(data & arch::pte::NX);
    }
    KEXPECT_EQ(leaf_pte(0x1000), 0);  // no identity map left behind
}

KTEST(mm, vmalloc_roundtrip) {
    auto r = mm::vmalloc(5 * mm::PAGE_SIZE);
    KASSERT_TRUE(r.is_ok());
    auto* p = static_cast<u8*>(r.value());
    p[0] = 1;
    p[5 * mm::PAGE_SIZE - 1] = 2;
    KEXPECT_EQ(p[0] + p[5 * mm::PAGE_SIZE - 1], 3);
    mm::vfree(r.value());
}

namespace {
void cache_some_pages(void*) {
    // Allocated and freed here, these pages stay in this CPU's page cache.
    u64 pages[32];
    for (auto& p : pages) p = MUST(mm::alloc_pages(0));
    for (auto p : pages) mm::free_pages(p, 0);
}
}  // namespace

// Pages parked in other CPUs' caches are reclaimed before ENOMEM: every
// page the allocator reports free can actually be allocated.
KTEST(mm, enomem_only_after_draining_cpu_caches) {
    smp_call_others(cache_some_pages, nullptr);
    u64 reported_free = mm::mem_stats().free_pages;
    static u64 taken[1 << 17];
    usize n = 0;
    for (unsigned order = mm::MAX_ORDER + 1; order-- > 0;) {
        while (n < (1u << 17)) {
            auto r = mm::alloc_pages(order);
            if (r.is_error()) break;
            taken[n++] = r.value() | order;  // pages are aligned: the low bits hold the order
        }
    }
    u64 got = 0;
    for (usize i = 0; i < n; ++i) got += 1ull << (taken[i] & 0xfff);
    KEXPECT_EQ(got, reported_free);
    for (usize i = 0; i < n; ++i) mm::free_pages(taken[i] & ~0xfffull, static_cast<unsigned>(taken[i] & 0xfff));
}

namespace {
void load_tables(void* pml4) { arch::write_cr3(reinterpret_cast<u64>(pml4)); }
void read_tables(void* out) { *static_cast<u64*>(out) = arch::read_cr3() & arch::pte::ADDR_MASK; }
}  // namespace

// An idle CPU keeps the last user tables loaded (lazy, as Linux's idle):
// an address space that goes away must first move every CPU still on its
// tables to the kernel's, or an idle CPU runs on freed page tables.
KTEST(mm, freed_address_space_leaves_no_cpu_on_its_tables) {
    if (sched::online_cpus() < 2) {
        t.skip("needs a second CPU");
        return;
    }
    auto made = mm::AddressSpace::create();
    KASSERT_TRUE(made.is_ok());
    mm::AddressSpace* as = made.value();
    u64 pml4 = as->page_table();
    u32 other = this_cpu_id_unstable() == 0 ? 1 : 0;
    // As if CPU `other` had run a thread of `as` and then gone idle.
    smp_call_on(other, load_tables, reinterpret_cast<void*>(pml4));
    u64 before = 0;
    smp_call_on(other, read_tables, &before);
    KEXPECT_EQ(before, pml4);
    as->put();
    u64 after = 0;
    smp_call_on(other, read_tables, &after);
    KEXPECT(after != pml4);
}

// The VMA tree (lookups, mmap's gap search by each subtree's largest gap)
// agrees with the address-ordered list through random maps, unmaps,
// protection changes that split and merge, and fixed maps into holes.
KTEST(mm, vma_tree_matches_the_list) {
    auto made = mm::AddressSpace::create();
    KASSERT_TRUE(made.is_ok());
    mm::AddressSpace* as = made.value();
    constexpr usize P = mm::PAGE_SIZE;
    uptr mapped[64] = {};
    usize lens[64] = {};
    u32 seed = 12345;
    auto rnd = [&](u32 n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) % n;
    };
    bool ok = true;
    for (int step = 0; step < 1500 && ok; ++step) {
        u32 slot = rnd(64);
        u32 op = rnd(10);
        if (!mapped[slot]) {
            usize len = (1 + rnd(6)) * P;
            u32 prot = rnd(2) ? PROT_READ : PROT_READ | PROT_WRITE;
            uptr hint = op < 2 && step ? mm::USER_MMAP_BASE - (1 + rnd(4096)) * P : 0;
            auto a = as->map(hint, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, nullptr, 0);
            if (a.is_ok()) {
                mapped[slot] = a.value();
                lens[slot] = len;
            }
        } else if (op < 6) {
            (void)as->unmap(mapped[slot], lens[slot]);
            mapped[slot] = 0;
        } else {
            // A page in the middle or at an edge: splits, and merges back.
            uptr at = mapped[slot] + rnd(static_cast<u32>(lens[slot] / P)) * P;
            (void)as->protect(at, P, rnd(2) ? PROT_READ : PROT_READ | PROT_WRITE);
        }
        for (usize len : {P, 3 * P, 64 * P}) ok = ok && as->vma_index_consistent(len);
    }
    KEXPECT(ok);
    as->put();
}
