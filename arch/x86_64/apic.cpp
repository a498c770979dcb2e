#include "arch/x86_64/apic.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/traps.h"
#include "kernel/panic.h"
#include "mm/ioremap.h"

namespace keel::arch {

namespace {

// Register offsets in xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16.
enum Reg : u32 {
    ID = 0x20,
    EOI = 0xb0,
    SVR = 0xf0,
    ICR_LOW = 0x300,
    ICR_HIGH = 0x310,
    LVT_TIMER = 0x320,
    LVT_LINT0 = 0x350,
    LVT_LINT1 = 0x360,
    LVT_ERROR = 0x370,
    TIMER_INITIAL = 0x380,
    TIMER_CURRENT = 0x390,
    TIMER_DIVIDE = 0x3e0,
};

constexpr u64 APIC_BASE_ENABLE = 1u << 11;
constexpr u64 APIC_BASE_X2 = 1u << 10;
constexpr u32 LVT_MASKED = 1u << 16;
constexpr u32 LVT_NMI = 4u << 8;
constexpr u32 TIMER_PERIODIC = 1u << 17;

bool x2 = false;
volatile u32* mmio = nullptr;

u32 read(Reg r) {
    if (x2) return static_cast<u32>(rdmsr(0x800 + r / 16));
    return mmio[r / 4];
}

void write(Reg r, u32 v) {
    if (x2) wrmsr(0x800 + r / 16, v);
    else mmio[r / 4] = v;
}

u32 kind_bits(IpiKind k) {
    switch (k) {
    case IpiKind::Fixed: return 0;
    case IpiKind::Nmi: return 4u << 8;
    case IpiKind::Init: return (5u << 8) | (1u << 14);  // assert
    case IpiKind::Startup: return 6u << 8;
    }
    return 0;
}

void send_icr(u32 dest, u32 low) {
    if (x2) {
        wrmsr(0x830, (u64(dest) << 32) | low);
        return;
    }
    // An interrupt between the two writes could send its own IPI and leave
    // its destination in ICR_HIGH for ours.
    InterruptGuard ig;
    write(ICR_HIGH, dest << 24);
    write(ICR_LOW, low);
    for (int i = 0; i < 1000000 && (read(ICR_LOW) & (1u << 12)); ++i) cpu_relax();
}

}  // namespace

void pic_disable() {
    // Remap first so a stray legacy interrupt cannot pose as an exception.
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 4);
    outb(0xa1, 2);
    outb(0x21, 1);
    outb(0xa1, 1);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

void lapic_init_bsp() {
    if (!(cpuid(1).edx & (1u << 9))) panic("this CPU has no local APIC");
    x2 = cpuid(1).ecx & (1u << 21);
    if (!x2) {
        u64 base = rdmsr(msr::APIC_BASE) & 0xffffff000ull;
        auto va = ioremap(base, 4096);
        if (va.is_error()) panic("cannot map the local APIC");
        mmio = static_cast<volatile u32*>(va.value());
    }
}

void lapic_init_cpu() {
    u64 base = rdmsr(msr::APIC_BASE) | APIC_BASE_ENABLE;
    if (x2) base |= APIC_BASE_X2;
    wrmsr(msr::APIC_BASE, base);
    write(SVR, 0x100 | VEC_SPURIOUS);
    write(LVT_LINT0, LVT_MASKED);
    write(LVT_LINT1, LVT_NMI);
    write(LVT_ERROR, LVT_MASKED);
    write(TIMER_DIVIDE, 0xb);  // divide by 1
    write(LVT_TIMER, LVT_MASKED | VEC_TIMER);
    write(EOI, 0);
}

u32 lapic_id() { return x2 ? read(ID) : read(ID) >> 24; }
bool x2apic_enabled() { return x2; }
void lapic_eoi() { write(EOI, 0); }

void lapic_timer_oneshot(u32 ticks) {
    write(LVT_TIMER, VEC_TIMER);
    write(TIMER_INITIAL, ticks);
}

void lapic_timer_set_count(u32 ticks) { write(TIMER_INITIAL, ticks); }

void lapic_timer_start_free_running() {
    write(LVT_TIMER, LVT_MASKED | TIMER_PERIODIC | VEC_TIMER);
    write(TIMER_INITIAL, 0xffffffffu);
}

u32 lapic_timer_current() { return read(TIMER_CURRENT); }

void lapic_send_ipi(u32 apic_id, u8 vector, IpiKind kind) { send_icr(apic_id, kind_bits(kind) | vector); }

void lapic_send_ipi_all_but_self(u8 vector, IpiKind kind) {
    send_icr(0, kind_bits(kind) | vector | (3u << 18));
}

}  // namespace keel::arch
