// The process-wide signal state, shared by the threads of a process (with
// CLONE_SIGHAND). Apart from signal.h so that it may use wait queues.
#pragma once

#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"

namespace keel::sig {

struct Handlers {
    Spinlock lock{LockRank::Signal};
    KSigaction actions[NSIG_ALL] = {};
    Pending shared;             // process-directed signals
    sched::WaitQueue arrivals;  // woken on every new signal (signalfd waits here)
};

}  // namespace keel::sig
