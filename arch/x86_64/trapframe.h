// The register state saved by arch/x86_64/isr.S on every interrupt and
// exception; field order mirrors the pushes there.
#pragma once

#include "lib/types.h"

namespace keel::arch {

struct TrapFrame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8;
    u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector;
    u64 error_code;
    // Pushed by the CPU.
    u64 rip, cs, rflags, rsp, ss;

    bool from_user() const { return (cs & 3) != 0; }
};
static_assert(sizeof(TrapFrame) == 22 * 8);

}  // namespace keel::arch
