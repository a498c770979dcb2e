// Segment selectors: the same values Linux uses, because user space can see
// them (signal frames, ptrace), and the SYSCALL/SYSRET layout needs user data
// right below user code.
#pragma once

#include "lib/types.h"

namespace keel::arch {

constexpr u16 KERNEL_CS = 0x10;
constexpr u16 KERNEL_DS = 0x18;
constexpr u16 USER32_CS = 0x23;
constexpr u16 USER_DS = 0x2b;
constexpr u16 USER_CS = 0x33;
constexpr u16 TSS_SEL = 0x40;

// Interrupt stack table slots (1-based as the CPU numbers them).
constexpr int IST_DOUBLE_FAULT = 1;
constexpr int IST_NMI = 2;
constexpr int IST_MACHINE_CHECK = 3;
constexpr int IST_COUNT = 3;

struct [[gnu::packed]] Tss {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
};
static_assert(sizeof(Tss) == 104);

// One CPU's descriptor tables and exception stacks.
struct CpuTables {
    alignas(16) u64 gdt[10];
    Tss tss;
};

// Loads the GDT and TSS of this CPU; ist_tops are the tops of its IST stacks.
void load_cpu_tables(CpuTables& t, const uptr (&ist_tops)[IST_COUNT]);
// Loads the (shared) IDT on this CPU.
void load_idt();
void init_idt();

}  // namespace keel::arch
