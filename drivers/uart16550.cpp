#include "drivers/uart16550.h"

#include "arch/x86_64/cpu.h"

namespace keel::drivers {

namespace {
enum Reg : u16 { DATA = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
constexpr u8 LSR_DATA_READY = 0x01;
constexpr u8 LSR_THR_EMPTY = 0x20;
constexpr u8 LCR_DLAB = 0x80;
constexpr u8 LCR_8N1 = 0x03;
}  // namespace

bool Uart16550::init() {
    // The scratch register tells a UART from an empty port.
    arch::outb(base_ + SCR, 0x5a);
    if (arch::inb(base_ + SCR) != 0x5a) return false;
    arch::outb(base_ + IER, 0);
    arch::outb(base_ + LCR, LCR_DLAB);
    arch::outb(base_ + DATA, 1);  // divisor 1: 115200 baud
    arch::outb(base_ + IER, 0);
    arch::outb(base_ + LCR, LCR_8N1);
    arch::outb(base_ + FCR, 0xc7);  // enable and clear FIFOs
    arch::outb(base_ + MCR, 0x0b);  // DTR, RTS, OUT2 (IRQ gate)
    present_ = true;
    return true;
}

void Uart16550::put(char c) {
    if (!present_) return;
    // Bounded wait: a wedged UART must not hang the kernel.
    for (int i = 0; i < 100000 && !(arch::inb(base_ + LSR) & LSR_THR_EMPTY); ++i) arch::cpu_relax();
    arch::outb(base_ + DATA, static_cast<u8>(c));
}

void Uart16550::write(const char* s, usize n) {
    for (usize i = 0; i < n; ++i) {
        if (s[i] == '\n') put('\r');
        put(s[i]);
    }
}

void Uart16550::set_interrupts(u8 ier) {
    if (present_) arch::outb(base_ + IER, ier);
}

u8 Uart16550::interrupt_id() { return present_ ? arch::inb(base_ + FCR) : 1; }  // IIR shares FCR's port

int Uart16550::try_get() {
    if (!present_ || !(arch::inb(base_ + LSR) & LSR_DATA_READY)) return -1;
    return arch::inb(base_ + DATA);
}

Uart16550& com1() {
    static constinit Uart16550 uart(0x3f8);
    return uart;
}

}  // namespace keel::drivers
