// pid 1's console: the serial tty (drivers/tty) opened as /dev/console.
#pragma once

#include "fs/file.h"

namespace keel::fs {

// Starts serial input: the UART's receive interrupt feeds the console's
// line discipline.
void console_init_input();

// A new description of /dev/console (one reference).
OpenFile* console_open();

}  // namespace keel::fs
