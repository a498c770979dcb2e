#pragma once

#include "arch/x86_64/trapframe.h"

namespace keel::proc {

// Resolves a page fault on a user address of the current process (demand
// paging, copy-on-write). True if the access may be retried. A fault user
// mode cannot recover from ends the process here.
bool handle_page_fault(arch::TrapFrame& frame, uptr addr);

}  // namespace keel::proc
