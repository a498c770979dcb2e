// The I/O APIC: routes device interrupt lines (GSIs) to local APIC vectors.
#pragma once

#include "arch/x86_64/traps.h"
#include "lib/result.h"

namespace keel::arch {

// Maps and masks the I/O APIC the firmware tables describe.
void ioapic_init();
bool ioapic_present();

// Routes legacy ISA interrupt `irq` (after firmware overrides) to a newly
// allocated vector on the boot CPU and installs handler for it.
Result<u8> ioapic_route_isa_irq(u8 irq, IrqHandler handler, void* ctx);
void ioapic_mask_isa_irq(u8 irq, bool masked);

}  // namespace keel::arch
