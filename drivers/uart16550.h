// 16550 UART on an I/O port: the serial console (COM1, 0x3f8).
#pragma once

#include "lib/types.h"

namespace keel::drivers {

class Uart16550 {
public:
    explicit constexpr Uart16550(u16 base) : base_(base) {}
    // Returns false when no UART answers at this port.
    bool init();
    void put(char c);
    void write(const char* s, usize n);
    // Non-blocking read: -1 when nothing is waiting.
    int try_get();
    bool present() const { return present_; }

    // Interrupt enable register bits.
    static constexpr u8 IER_RX = 0x01;
    static constexpr u8 IER_TX_EMPTY = 0x02;
    void set_interrupts(u8 ier);
    // The interrupt identification register; reading it acknowledges a
    // transmitter-empty interrupt. Bit 0 set means none pending.
    u8 interrupt_id();

private:
    u16 base_;
    bool present_ = false;
};

Uart16550& com1();

}  // namespace keel::drivers
