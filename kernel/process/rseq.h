// Restartable sequences: a thread registers a struct rseq; before it
// returns to user mode after a switch the kernel writes its CPU there, and
// a critical section it was preempted, migrated or signalled in is
// abandoned by resuming at the section's abort handler.
#pragma once

#include "arch/x86_64/trapframe.h"
#include "lib/result.h"

namespace keel::sched {
struct Thread;
}

namespace keel::rseq {

Status register_area(uptr area, u32 len, u32 sig);
Status unregister_area(uptr area, u32 len, u32 sig);

// On the way to user mode, when the thread's rseq_resume is set.
void notify_resume(arch::TrapFrame& frame);
// A signal handler is about to be entered with `frame` saved for it.
void signal_deliver(arch::TrapFrame& frame);

// fork keeps the parent thread's registration (not for CLONE_VM);
// exec drops it.
void fork(sched::Thread& child, const sched::Thread& parent);
void exec(sched::Thread& t);

}  // namespace keel::rseq
