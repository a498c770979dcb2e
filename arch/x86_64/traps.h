// Interrupt and exception dispatch.
#pragma once

#include "arch/x86_64/trapframe.h"

namespace keel::arch {

// Vectors: 0-31 exceptions, 32-47 legacy range (unused: the PIC is masked),
// 48-239 device interrupts, 240+ local APIC and IPIs.
constexpr u8 VEC_DEVICE_FIRST = 48;
constexpr u8 VEC_TIMER = 0xf0;
constexpr u8 VEC_IPI_RESCHEDULE = 0xf1;
constexpr u8 VEC_IPI_CALL = 0xf2;
constexpr u8 VEC_IPI_TLB = 0xf3;
constexpr u8 VEC_IPI_STOP = 0xf4;
constexpr u8 VEC_SPURIOUS = 0xff;

using IrqHandler = void (*)(TrapFrame& frame, void* ctx);
void set_irq_handler(u8 vector, IrqHandler handler, void* ctx);
// Allocates a free device vector; 0 when none is left.
u8 alloc_irq_vector();

// An exception-table entry: a fault at `insn` resumes at `fixup` (user copies).
struct ExtableEntry {
    u64 insn;
    u64 fixup;
};

}  // namespace keel::arch
