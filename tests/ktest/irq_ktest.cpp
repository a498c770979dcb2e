// Device interrupts through the I/O APIC: COM1's transmitter-empty
// interrupt (ISA IRQ 4) must arrive at the vector it was routed to.
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "drivers/uart16550.h"
#include "kernel/ktest.h"
#include "kernel/sched/scheduler.h"
#include "kernel/percpu.h"
#include "kernel/time.h"

using namespace keel;

namespace {

volatile u32 uart_irqs = 0;

void on_uart_irq(arch::TrapFrame&, void*) {
    auto& uart = drivers::com1();
    (void)uart.interrupt_id();
    uart.set_interrupts(0);  // the line stays asserted while THR is empty
    uart_irqs = uart_irqs + 1;
}

}  // namespace

KTEST(irq, isa_irq_routed_through_ioapic) {
    KASSERT_TRUE(arch::ioapic_present());
    auto vector = arch::ioapic_route_isa_irq(4, on_uart_irq, nullptr);
    KASSERT_TRUE(vector.is_ok());
    KEXPECT(vector.value() >= arch::VEC_DEVICE_FIRST && vector.value() < arch::VEC_TIMER);
    uart_irqs = 0;
    drivers::com1().set_interrupts(drivers::Uart16550::IER_TX_EMPTY);
    u64 giveup = time::monotonic_ns() + 500000000;
    while (uart_irqs == 0 && time::monotonic_ns() < giveup) arch::cpu_relax();
    drivers::com1().set_interrupts(0);
    arch::ioapic_mask_isa_irq(4, true);
    KEXPECT(uart_irqs > 0);
}

// Tickless: a CPU with nothing to run takes no timer interrupts.
KTEST(irq, idle_cpu_takes_no_ticks) {
    if (cpu_count < 2 || !cpus[1] || !cpus[1]->online) {
        t.skip("needs a second CPU");
        return;
    }
    // Threads that earlier tests left dead are freed by idle CPUs, and each
    // freed stack costs every CPU a TLB shootdown IPI: let that happen
    // first (three in the window once failed the bound below).
    sched::sleep_ns(20000000);
    u64 before = __atomic_load_n(&cpus[1]->irq_count, __ATOMIC_RELAXED);
    u64 until = time::monotonic_ns() + 50000000;
    while (time::monotonic_ns() < until) arch::cpu_relax();
    u64 after = __atomic_load_n(&cpus[1]->irq_count, __ATOMIC_RELAXED);
    KEXPECT(after - before <= 2);  // a stray IPI at most, never a periodic tick
}
