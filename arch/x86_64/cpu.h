// Thin wrappers over x86-64 instructions. Everything that needs inline
// assembly for the CPU itself lives here or in arch/x86_64/*.S.
#pragma once

#include "lib/types.h"

namespace keel::arch {

inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
inline u8 inb(u16 port) {
    u8 v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
inline u32 inl(u16 port) {
    u32 v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

inline u64 rdmsr(u32 msr) {
    u32 lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (u64(hi) << 32) | lo;
}
inline void wrmsr(u32 msr, u64 v) {
    asm volatile("wrmsr" ::"c"(msr), "a"(u32(v)), "d"(u32(v >> 32)) : "memory");
}

struct CpuidRegs {
    u32 eax, ebx, ecx, edx;
};
inline CpuidRegs cpuid(u32 leaf, u32 subleaf = 0) {
    CpuidRegs r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

inline u64 rdtsc() {
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64(hi) << 32) | lo;
}

#define KEEL_CR_ACCESSORS(n)                                                     \
    inline u64 read_cr##n() {                                                    \
        u64 v;                                                                   \
        asm volatile("mov %%cr" #n ", %0" : "=r"(v));                            \
        return v;                                                                \
    }                                                                            \
    inline void write_cr##n(u64 v) { asm volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
KEEL_CR_ACCESSORS(0)
KEEL_CR_ACCESSORS(2)
KEEL_CR_ACCESSORS(3)
KEEL_CR_ACCESSORS(4)
#undef KEEL_CR_ACCESSORS

inline void cpu_relax() { asm volatile("pause" ::: "memory"); }
inline void halt() { asm volatile("hlt" ::: "memory"); }
inline void irq_disable() { asm volatile("cli" ::: "memory"); }
inline void irq_enable() { asm volatile("sti" ::: "memory"); }
// sti takes effect after the next instruction, so "sti; hlt" cannot lose a
// wake-up interrupt between the check and the halt.
inline void irq_enable_and_halt() { asm volatile("sti; hlt" ::: "memory"); }
inline void invlpg(uptr va) { asm volatile("invlpg (%0)" ::"r"(va) : "memory"); }

inline u64 read_flags() {
    u64 f;
    asm volatile("pushfq; popq %0" : "=r"(f)::"memory");
    return f;
}
constexpr u64 FLAGS_IF = 1u << 9;
inline bool irqs_enabled() { return read_flags() & FLAGS_IF; }

// Saves the interrupt flag, disables interrupts, restores it on scope exit.
class InterruptGuard {
public:
    InterruptGuard() : was_enabled_(irqs_enabled()) { irq_disable(); }
    ~InterruptGuard() {
        if (was_enabled_) irq_enable();
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

private:
    bool was_enabled_;
};

[[noreturn]] inline void halt_forever() {
    for (;;) {
        irq_disable();
        halt();
    }
}

// MSRs and control-register bits Keel uses.
namespace msr {
constexpr u32 APIC_BASE = 0x1b;
constexpr u32 EFER = 0xc0000080;
constexpr u32 STAR = 0xc0000081;
constexpr u32 LSTAR = 0xc0000082;
constexpr u32 FMASK = 0xc0000084;
constexpr u32 FS_BASE = 0xc0000100;
constexpr u32 GS_BASE = 0xc0000101;
constexpr u32 KERNEL_GS_BASE = 0xc0000102;
constexpr u32 TSC_AUX = 0xc0000103;
}  // namespace msr

constexpr u64 CR0_WP = 1u << 16;
constexpr u64 CR4_PGE = 1u << 7;
constexpr u64 CR4_UMIP = 1u << 11;
constexpr u64 CR4_FSGSBASE = 1u << 16;
constexpr u64 CR4_SMEP = 1u << 20;
constexpr u64 CR4_SMAP = 1u << 21;
constexpr u64 EFER_NXE = 1u << 11;

}  // namespace keel::arch
