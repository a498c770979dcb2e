// Capabilities: the five per-process sets of Linux (effective, permitted,
// inheritable, bounding, ambient) and the securebits, with the changes
// Linux makes to them when the uids change (setuid family) and on exec.
// Every permission check in Keel asks the effective set, never the uid.
#pragma once

#include <linux/capability.h>

#include "lib/types.h"

namespace keel::proc {
struct Cred;
struct Process;
}  // namespace keel::proc

namespace keel::caps {

// Every capability this ABI knows (0..CAP_LAST_CAP).
constexpr u64 ALL = (1ull << (CAP_LAST_CAP + 1)) - 1;
constexpr u64 bit(int cap) { return 1ull << cap; }
constexpr bool valid(unsigned long cap) { return cap <= CAP_LAST_CAP; }

// Does the current process hold cap in its effective set?
bool capable(int cap);
bool has(const proc::Cred& c, int cap);

// After a change of real/effective/saved uids from `old` to `c` (setuid,
// setreuid, setresuid): Linux's "setuid fixup" of the capability sets.
void fix_setuid(proc::Cred& c, const proc::Cred& old);
// After a change of the filesystem uid alone (setfsuid).
void fix_setfsuid(proc::Cred& c, const proc::Cred& old);
// Would Linux mark the process non-dumpable for this change (suid_dumpable
// is 0): another effective or filesystem id, or permitted capabilities
// gained.
bool loses_dumpable(const proc::Cred& c, const proc::Cred& old);

// execve of a file without file capabilities or set-id bits: the new sets
// (root gets its bounding set unless SECBIT_NOROOT; others keep only the
// ambient set) and KEEP_CAPS cleared.
void exec(proc::Process& p);

}  // namespace keel::caps
