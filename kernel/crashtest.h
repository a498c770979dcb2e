#pragma once

#include "lib/string_view.h"

namespace keel {

// keel.crashtest=NAME: deliberately breaks the kernel in one way so that
// tests can check the panic path reports it (pagefault, divide, stackoverflow,
// doublefree, useafterfree, lockrank, assert). Returns only for an unknown name.
void crashtest_run(StringView name);

}  // namespace keel
