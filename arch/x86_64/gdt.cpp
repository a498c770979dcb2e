// Per-CPU GDT and TSS. Each CPU has its own TSS (for its IST stacks and the
// ring-0 stack of the thread it runs), hence its own GDT.
#include "arch/x86_64/segments.h"

namespace keel::arch {

namespace {

constexpr u64 code64(int dpl) { return 0x00af9a000000ffffull | (u64(dpl) << 45); }
constexpr u64 data(int dpl) { return 0x00cf92000000ffffull | (u64(dpl) << 45); }
constexpr u64 code32(int dpl) { return 0x00cf9a000000ffffull | (u64(dpl) << 45); }

struct [[gnu::packed]] DescriptorPointer {
    u16 limit;
    u64 base;
};

}  // namespace

void load_cpu_tables(CpuTables& t, const uptr (&ist_tops)[IST_COUNT]) {
    t.tss = {};
    for (int i = 0; i < IST_COUNT; ++i) t.tss.ist[i] = ist_tops[i];
    t.tss.iomap_base = sizeof(Tss);  // no I/O permission bitmap

    t.gdt[0] = 0;
    t.gdt[1] = 0;
    t.gdt[KERNEL_CS >> 3] = code64(0);
    t.gdt[KERNEL_DS >> 3] = data(0);
    t.gdt[USER32_CS >> 3] = code32(3);
    t.gdt[USER_DS >> 3] = data(3);
    t.gdt[USER_CS >> 3] = code64(3);
    t.gdt[7] = 0;
    uptr base = reinterpret_cast<uptr>(&t.tss);
    u64 limit = sizeof(Tss) - 1;
    t.gdt[TSS_SEL >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                          (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    t.gdt[(TSS_SEL >> 3) + 1] = base >> 32;

    DescriptorPointer gdtr{sizeof(t.gdt) - 1, reinterpret_cast<u64>(&t.gdt)};
    asm volatile(
        "lgdt %0\n"
        "pushq %1\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"
        "1:\n"
        "movw %w2, %%ds\n"
        "movw %w2, %%es\n"
        "movw %w2, %%ss\n"
        "ltr %w3\n"
        :
        : "m"(gdtr), "i"(u64(KERNEL_CS)), "r"(u32(KERNEL_DS)), "r"(u32(TSS_SEL))
        : "rax", "memory");
}

}  // namespace keel::arch
