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

private:
    u16 base_;
    bool present_ = false;
};

Uart16550& com1();

}  // namespace keel::drivers
