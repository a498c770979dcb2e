// Character classes as the Linux kernel's <linux/ctype.h> sees them (its
// Latin-1 table), and N_TTY's EOF marker. They decide ^X echo, word erase
// and IUCLC/OLCUC, and differ from the C locale above 0x7f.
#pragma once

#include "lib/types.h"

namespace keel::tty {

// N_TTY stores an EOF character in the buffer as this byte, flagged as a
// line end, so that a read can tell it from a typed NUL.
constexpr u8 kDisabledChar = 0;

constexpr bool k_iscntrl(u8 c) { return c < 0x20 || c == 0x7f; }
constexpr bool k_isupper(u8 c) { return (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7); }
constexpr bool k_islower(u8 c) { return (c >= 'a' && c <= 'z') || (c >= 0xdf && c != 0xf7); }
constexpr bool k_isalnum(u8 c) { return k_isupper(c) || k_islower(c) || (c >= '0' && c <= '9'); }
constexpr u8 k_tolower(u8 c) { return k_isupper(c) ? static_cast<u8>(c + 0x20) : c; }
constexpr u8 k_toupper(u8 c) { return k_islower(c) ? static_cast<u8>(c - 0x20) : c; }

}  // namespace keel::tty
