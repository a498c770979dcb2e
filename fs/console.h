// /dev/console until the tty layer exists: writes go to the serial port,
// reads take what the serial port has received.
#pragma once

#include "fs/file.h"

namespace keel::fs {

// Routes the UART's receive interrupt to the console's input buffer.
void console_init_input();

// A new reference to the console's open file description.
OpenFile* console_open();

}  // namespace keel::fs
