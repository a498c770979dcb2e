#include "fs/console.h"

#include "drivers/tty/tty.h"

namespace keel::fs {

void console_init_input() { tty::serial_init_input(); }

OpenFile* console_open() { return tty::open_initial_console(); }

}  // namespace keel::fs
