#include "arch/x86_64/paging.h"

#include "arch/x86_64/cpu.h"
#include "mm/boot_mem.h"
#include "mm/layout.h"

extern "C" char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern "C" char __data_start[], __kernel_end[], boot_stack_guard[], boot_stack_bottom[];

namespace keel::arch {

namespace {

TablePageSource table_source = nullptr;
void (*table_release)(u64 pa) = nullptr;
PagingFeatures features;
u64 kernel_pml4_phys = 0;

constexpr u64 SIZE_2M = 2 * MiB;
constexpr u64 SIZE_1G = GiB;

u64* table(u64 phys) { return mm::phys_to_ptr<u64>(phys); }
unsigned index(uptr va, int level) { return (va >> (12 + 9 * level)) & 511; }
void free_table_page(u64 pa) {
    if (table_release) table_release(pa);
}

// Returns the entry for va at `level` (0 = PT), creating intermediate tables.
Result<u64*> walk_create(u64 pml4_phys, uptr va, int level) {
    u64* t = table(pml4_phys);
    for (int l = 3; l > level; --l) {
        u64& e = t[index(va, l)];
        if (!(e & pte::P)) {
            u64 page = TRY(table_source());
            // Intermediate entries are permissive; leaves decide access.
            e = page | pte::P | pte::W | (va < mm::USER_END ? pte::U : 0);
        }
        KASSERT(!(e & pte::PS));
        t = table(e & pte::ADDR_MASK);
    }
    return &t[index(va, level)];
}

u64* walk_find(u64 pml4_phys, uptr va, int* level_out) {
    u64* t = table(pml4_phys);
    for (int l = 3; l >= 0; --l) {
        u64& e = t[index(va, l)];
        if (!(e & pte::P)) return nullptr;
        if (l == 0 || (e & pte::PS)) {
            *level_out = l;
            return &e;
        }
        t = table(e & pte::ADDR_MASK);
    }
    return nullptr;
}

u64 effective(u64 flags) {
    if (!features.nx) flags &= ~pte::NX;
    if (!features.global) flags &= ~pte::G;
    return flags | pte::P;
}

}  // namespace

void set_table_page_source(TablePageSource src) { table_source = src; }
void set_table_page_release(void (*release)(u64 pa)) { table_release = release; }
const PagingFeatures& paging_features() { return features; }
u64 kernel_pml4() { return kernel_pml4_phys; }

void detect_paging_features() {
    auto ext = cpuid(0x80000001);
    features.nx = ext.edx & (1u << 20);
    features.gb_pages = ext.edx & (1u << 26);
    features.global = cpuid(1).edx & (1u << 13);
}

Status map_range(u64 pml4_phys, uptr va, u64 pa, u64 size, u64 flags, bool large) {
    if ((va | pa | size) & (mm::PAGE_SIZE - 1)) return Error(EINVAL);
    flags = effective(flags);
    u64 done = 0;
    while (done < size) {
        uptr v = va + done;
        u64 p = pa + done;
        u64 left = size - done;
        if (large && features.gb_pages && !((v | p) & (SIZE_1G - 1)) && left >= SIZE_1G) {
            *TRY(walk_create(pml4_phys, v, 2)) = p | flags | pte::PS;
            done += SIZE_1G;
        } else if (large && !((v | p) & (SIZE_2M - 1)) && left >= SIZE_2M) {
            *TRY(walk_create(pml4_phys, v, 1)) = p | flags | pte::PS;
            done += SIZE_2M;
        } else {
            *TRY(walk_create(pml4_phys, v, 0)) = p | flags;
            done += mm::PAGE_SIZE;
        }
    }
    return {};
}

u64 unmap_page(u64 pml4_phys, uptr va) {
    int level;
    u64* e = walk_find(pml4_phys, va, &level);
    if (!e) return 0;
    KASSERT(level == 0);
    u64 old = *e;
    *e = 0;
    return old & pte::ADDR_MASK;
}

u64 translate(u64 pml4_phys, uptr va) {
    int level;
    u64* e = walk_find(pml4_phys, va, &level);
    if (!e) return 0;
    u64 page_mask = (1ull << (12 + 9 * level)) - 1;
    return ((*e & pte::ADDR_MASK) & ~page_mask) | (va & page_mask);
}

u64* pte_lookup(u64 pml4_phys, uptr va) {
    u64* t = table(pml4_phys);
    for (int l = 3; l > 0; --l) {
        u64 entry = t[index(va, l)];
        if (!(entry & pte::P) || (entry & pte::PS)) return nullptr;
        t = table(entry & pte::ADDR_MASK);
    }
    return &t[index(va, 0)];
}

Result<u64*> pte_create(u64 pml4_phys, uptr va) { return walk_create(pml4_phys, va, 0); }

Result<u64> new_user_pml4() {
    u64 p = TRY(table_source());
    // The kernel half's PDPTs were all created at boot, so copying the
    // top-level entries shares every later kernel mapping too.
    for (int i = 256; i < 512; ++i) table(p)[i] = table(kernel_pml4_phys)[i];
    return p;
}

void free_user_half(u64 pml4_phys, void (*leaf)(u64 pa)) {
    u64* l4 = table(pml4_phys);
    for (int i = 0; i < 256; ++i) {
        if (!(l4[i] & pte::P)) continue;
        u64* l3 = table(l4[i] & pte::ADDR_MASK);
        for (int j = 0; j < 512; ++j) {
            if (!(l3[j] & pte::P)) continue;
            u64* l2 = table(l3[j] & pte::ADDR_MASK);
            for (int k = 0; k < 512; ++k) {
                if (!(l2[k] & pte::P)) continue;
                u64* l1 = table(l2[k] & pte::ADDR_MASK);
                for (int m = 0; m < 512; ++m)
                    if (l1[m] & pte::P) leaf(l1[m] & pte::ADDR_MASK);
                free_table_page(l2[k] & pte::ADDR_MASK);
            }
            free_table_page(l3[j] & pte::ADDR_MASK);
        }
        free_table_page(l4[i] & pte::ADDR_MASK);
        l4[i] = 0;
    }
}

Status init_kernel_paging(const mm::BootMemory& mem) {
    u64 ram_end = mem.max_ram_end();
    kernel_pml4_phys = TRY(table_source());

    // Every upper-half PML4 slot the kernel will use gets its PDPT now, so
    // that user address spaces can share them by copying the upper half once.
    const uptr shared_slots[] = {mm::DIRECT_MAP_BASE, mm::VMALLOC_BASE, mm::VMALLOC_BASE + (mm::VMALLOC_SIZE - 1),
                                 mm::KERNEL_VIRT_BASE};
    for (uptr va : shared_slots) TRY(walk_create(kernel_pml4_phys, va, 2));
    for (u64 off = 0; off < ram_end; off += 512 * GiB) TRY(walk_create(kernel_pml4_phys, mm::DIRECT_MAP_BASE + off, 2));

    // Only RAM is direct-mapped: MMIO holes must not get write-back aliases.
    for (usize i = 0; i < mem.ram_count(); ++i) {
        const mm::PhysRange& r = mem.ram(i);
        TRY(map_range(kernel_pml4_phys, mm::DIRECT_MAP_BASE + r.base, r.base, r.size, pte::W | pte::NX | pte::G,
                      true));
    }

    auto map_image = [&](char* start, char* end, u64 flags) {
        uptr s = reinterpret_cast<uptr>(start), e = reinterpret_cast<uptr>(end);
        return map_range(kernel_pml4_phys, s, s - mm::KERNEL_VIRT_BASE, align_up(e - s, u64(mm::PAGE_SIZE)),
                         flags | pte::G, false);
    };
    TRY(map_image(__text_start, __text_end, 0));
    TRY(map_image(__rodata_start, __rodata_end, pte::NX));
    TRY(map_image(__data_start, boot_stack_guard, pte::W | pte::NX));
    TRY(map_image(boot_stack_bottom, __kernel_end, pte::W | pte::NX));

    write_cr3(kernel_pml4_phys);
    return {};
}

}  // namespace keel::arch
