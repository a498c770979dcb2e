// Local APIC (x2APIC when the CPU has it, else xAPIC through MMIO) and the
// legacy PIC, which is masked: device interrupts go through the I/O APIC.
#pragma once

#include "lib/types.h"

namespace keel::arch {

void lapic_init_bsp();  // detects the mode, maps MMIO if needed
void lapic_init_cpu();  // per-CPU enable (BSP and each AP)
u32 lapic_id();
bool x2apic_enabled();
void lapic_eoi();

// One-shot timer: fire VEC_TIMER after `ticks` APIC timer ticks (0 stops it).
void lapic_timer_oneshot(u32 ticks);        // sets the LVT to one-shot, then the count
void lapic_timer_set_count(u32 ticks);      // the count only: the LVT is one-shot already
void lapic_timer_start_free_running();  // for calibration
u32 lapic_timer_current();

enum class IpiKind { Fixed, Nmi, Init, Startup };
void lapic_send_ipi(u32 apic_id, u8 vector, IpiKind kind = IpiKind::Fixed);
void lapic_send_ipi_all_but_self(u8 vector, IpiKind kind = IpiKind::Fixed);

void pic_disable();

}  // namespace keel::arch
