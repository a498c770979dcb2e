// QEMU's isa-debug-exit device (iobase 0xf4): writing v makes QEMU exit with
// status (v << 1) | 1. Tests use 0x10 (pass, exit 33) and 0x20 (fail, 65).
// Without the device the write is ignored and the caller halts instead.
#pragma once

#include "arch/x86_64/cpu.h"

namespace keel::arch {

constexpr u16 DEBUG_EXIT_PORT = 0xf4;
constexpr u32 DEBUG_EXIT_PASS = 0x10;
constexpr u32 DEBUG_EXIT_FAIL = 0x20;

inline void qemu_debug_exit(u32 code) { outl(DEBUG_EXIT_PORT, code); }

}  // namespace keel::arch
