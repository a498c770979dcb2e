#include "arch/x86_64/ioapic.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/firmware_tables.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "mm/ioremap.h"

namespace keel::arch {

namespace {

// Indirect register access: select through IOREGSEL, then IOWIN.
constexpr u32 IOREGSEL = 0x00;
constexpr u32 IOWIN = 0x10 / 4;
constexpr u32 REG_VERSION = 0x01;
constexpr u32 REG_REDIR = 0x10;
constexpr u64 REDIR_MASKED = 1u << 16;
constexpr u64 REDIR_LEVEL = 1u << 15;
constexpr u64 REDIR_ACTIVE_LOW = 1u << 13;

volatile u32* regs = nullptr;
u32 gsi_base = 0;
u32 pins = 0;
Spinlock lock{LockRank::None};

u32 read(u32 reg) {
    regs[IOREGSEL] = reg;
    return regs[IOWIN];
}
void write(u32 reg, u32 v) {
    regs[IOREGSEL] = reg;
    regs[IOWIN] = v;
}
void write_redir(u32 pin, u64 entry) {
    // High half first, so the entry never points at a half-written target.
    write(REG_REDIR + 2 * pin + 1, static_cast<u32>(entry >> 32));
    write(REG_REDIR + 2 * pin, static_cast<u32>(entry));
}
u64 read_redir(u32 pin) {
    return (u64(read(REG_REDIR + 2 * pin + 1)) << 32) | read(REG_REDIR + 2 * pin);
}

Result<u32> isa_pin(u8 irq) {
    if (!regs || irq >= 16) return Error(ENODEV);
    u32 gsi = platform_topology(boot_info.rsdp_phys).isa_gsi[irq];
    if (gsi < gsi_base || gsi - gsi_base >= pins) return Error(ENODEV);
    return gsi - gsi_base;
}

}  // namespace

void ioapic_init() {
    const auto& topo = platform_topology(boot_info.rsdp_phys);
    if (!topo.have_ioapic) {
        pr_warn("ioapic: none described by the firmware; device interrupts are unavailable");
        return;
    }
    auto va = ioremap(topo.ioapic_phys, 0x20);
    if (va.is_error()) {
        pr_err("ioapic: cannot map %llx", static_cast<unsigned long long>(topo.ioapic_phys));
        return;
    }
    regs = static_cast<volatile u32*>(va.value());
    gsi_base = topo.ioapic_gsi_base;
    pins = ((read(REG_VERSION) >> 16) & 0xff) + 1;
    for (u32 p = 0; p < pins; ++p) write_redir(p, REDIR_MASKED);
    pr_info("ioapic: %u pins at %llx, GSI base %u", pins, static_cast<unsigned long long>(topo.ioapic_phys), gsi_base);
}

bool ioapic_present() { return regs != nullptr; }

Result<u8> ioapic_route_isa_irq(u8 irq, IrqHandler handler, void* ctx) {
    u32 pin = TRY(isa_pin(irq));
    u8 vector = alloc_irq_vector();
    if (!vector) return Error(ENOSPC);
    set_irq_handler(vector, handler, ctx);
    const auto& topo = platform_topology(boot_info.rsdp_phys);
    u64 entry = vector | (u64(lapic_id()) << 56);  // fixed delivery, physical destination
    u16 flags = topo.isa_flags[irq];
    if ((flags & 3) == 3) entry |= REDIR_ACTIVE_LOW;  // MPS INTI polarity: 3 = active low
    if (((flags >> 2) & 3) == 3) entry |= REDIR_LEVEL;  // trigger: 3 = level
    SpinlockGuard g(lock);
    write_redir(pin, entry);
    return vector;
}

void ioapic_mask_isa_irq(u8 irq, bool masked) {
    auto pin = isa_pin(irq);
    if (pin.is_error()) return;
    SpinlockGuard g(lock);
    u64 e = read_redir(pin.value());
    write_redir(pin.value(), masked ? (e | REDIR_MASKED) : (e & ~REDIR_MASKED));
}

}  // namespace keel::arch
