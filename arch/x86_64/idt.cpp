// The interrupt descriptor table, shared by all CPUs. Every vector goes to a
// stub in isr.S; NMI, double fault and machine check run on IST stacks so a
// broken kernel stack still reports.
#include "arch/x86_64/segments.h"

extern "C" const keel::u64 isr_stub_table[256];

namespace keel::arch {

namespace {

struct Gate {
    u16 offset_low;
    u16 selector;
    u8 ist;
    u8 type_attr;
    u16 offset_mid;
    u32 offset_high;
    u32 zero;
};
static_assert(sizeof(Gate) == 16);

alignas(16) Gate idt[256];

struct [[gnu::packed]] DescriptorPointer {
    u16 limit;
    u64 base;
};

void set_gate(int v, u64 handler, int ist, int dpl) {
    idt[v] = Gate{static_cast<u16>(handler), KERNEL_CS, static_cast<u8>(ist),
                  static_cast<u8>(0x8e | (dpl << 5)),  // present, interrupt gate
                  static_cast<u16>(handler >> 16), static_cast<u32>(handler >> 32), 0};
}

}  // namespace

void init_idt() {
    for (int v = 0; v < 256; ++v) set_gate(v, isr_stub_table[v], 0, 0);
    set_gate(2, isr_stub_table[2], IST_NMI, 0);
    set_gate(8, isr_stub_table[8], IST_DOUBLE_FAULT, 0);
    set_gate(18, isr_stub_table[18], IST_MACHINE_CHECK, 0);
    set_gate(3, isr_stub_table[3], 0, 3);  // int3 from user mode gives SIGTRAP
}

void load_idt() {
    DescriptorPointer idtr{sizeof(idt) - 1, reinterpret_cast<u64>(&idt)};
    asm volatile("lidt %0" ::"m"(idtr));
}

}  // namespace keel::arch
