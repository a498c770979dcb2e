#include "drivers/uart16550.h"
#include "lib/result.h"

extern "C" [[noreturn]] void kmain(keel::u32 start_info_phys);

extern "C" void kmain(keel::u32 start_info_phys) {
    (void)start_info_phys;
    auto& uart = keel::drivers::com1();
    uart.init();
    uart.write("keel: hello\n", 12);
    for (;;) asm volatile("cli; hlt");
}

namespace keel {
void assert_failed(const char*, const char*, int) {
    for (;;) asm volatile("cli; hlt");
}
}
