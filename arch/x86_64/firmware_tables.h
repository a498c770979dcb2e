// CPU and I/O APIC discovery from firmware tables: ACPI's MADT, or the
// MultiProcessor Specification table where there is no ACPI (microvm,acpi=off).
#pragma once

#include "lib/types.h"

namespace keel::arch {

struct PlatformTopology {
    static constexpr int MAX = 64;
    u32 apic_ids[MAX];
    u32 ncpus = 0;
    u64 ioapic_phys = 0;
    u32 ioapic_gsi_base = 0;
    bool have_ioapic = false;
    // ISA IRQ -> GSI overrides (MADT type 2); identity where absent.
    u32 isa_gsi[16];
    u16 isa_flags[16];  // MPS INTI flags of the override: polarity bits 0-1, trigger 2-3
    const char* source = "none";
};

// Reads the tables once; rsdp_hint may be 0.
const PlatformTopology& platform_topology(u64 rsdp_hint);

// Enters ACPI S5 through what the FADT described; returns only if that
// failed (no ACPI, or the platform ignored it).
bool acpi_power_off();

}  // namespace keel::arch
