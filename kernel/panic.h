// The panic path: say why, show the registers and a symbolized backtrace,
// stop the other CPUs, then do what panic= asks (Linux semantics: N > 0
// reboots after N seconds, 0 waits forever, N < 0 reboots at once).
#pragma once

#include "arch/x86_64/trapframe.h"
#include "lib/types.h"

namespace keel {

[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void panic_with_frame(const arch::TrapFrame& frame, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

void set_panic_timeout(long seconds);
void print_backtrace(uptr rbp, int level);
// Reboots the machine (with QEMU -no-reboot: QEMU exits).
[[noreturn]] void machine_reboot();

// Symbol containing addr, or nullptr; *offset gets addr - symbol start.
const char* ksym_lookup(uptr addr, uptr* offset);

}  // namespace keel
