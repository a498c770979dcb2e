// Core dumps: the default action of SIGQUIT, SIGSEGV, SIGABRT & co.
// writes an ELF core file of the dying process, as Linux does with
// core_pattern "core" (in the process's working directory) and the default
// coredump_filter.
#pragma once

#include <asm/siginfo.h>

#include "arch/x86_64/trapframe.h"

namespace keel::coredump {

// Writes the core file of the current process, which is dying of
// info.si_signo with the user registers `regs`. True when a core was
// written (the wait status then carries WCOREDUMP): not when RLIMIT_CORE is
// below one page, the process is not dumpable, or the file cannot be made.
bool dump(const siginfo_t& info, const arch::TrapFrame& regs);

}  // namespace keel::coredump
