// The cgroup v2 freezer (cgroup.freeze). A thread of a freezing cgroup
// (its own cgroup.freeze or an ancestor's is 1) parks in the freezer trap
// on its way back to user mode, the way a stopped thread waits for SIGCONT
// but without job control: no SIGCHLD, no wait status, and only a fatal
// signal gets it out before the thaw. A sleeping thread is woken to get
// there (its call restarts or fails with EINTR as for a signal). A cgroup
// reports "frozen 1" in cgroup.events once every thread of its subtree is
// in the trap.
#pragma once

#include "kernel/cgroup/cgroup.h"
#include "kernel/sched/thread.h"

namespace keel::cgroup {

// Is `t`'s cgroup freezing? Lock-free: the exit-to-user fast path.
inline bool freeze_wanted(const sched::Thread& t) {
    Cgroup* c = __atomic_load_n(&t.cgroup, __ATOMIC_ACQUIRE);
    return c && __atomic_load_n(&c->e_freeze, __ATOMIC_ACQUIRE);
}

// The current user thread parks until its cgroup thaws, it leaves it, its
// process exits, or a fatal signal arrives (then it dies here).
void freezer_trap();

// A thread stopped by job control counts as frozen while it is stopped
// (kernel/signal's do_stop).
void freeze_stopped(sched::Thread& t, bool stopped);

// A vfork parent counts as frozen while it waits for its child, freezing
// or not (Linux counts it so that a freeze can complete).
void freeze_vfork_wait(sched::Thread& t, bool waiting);

// cgroup.freeze's write (tree mutex held).
void set_freeze(Cgroup& c, bool on);

// ---- For the rest of kernel/cgroup ----
// Tree changes (tree mutex held): a new cgroup inherits its parent's
// freezing; a removed one no longer counts.
void freeze_child_created(Cgroup& c);
void freeze_child_removed(Cgroup& c);
// Membership lock held: recomputes cgroup.events "frozen" of `c` and, as
// it changes, of its ancestors (after thread counts change).
void update_frozen(Cgroup* c);
// Membership lock held: a thread moves from `src` to `dst`; its place in
// the trap's counts follows it if `dst` freezes too. The caller kicks the
// thread afterwards when either cgroup is freezing (kick_if_freezing).
void freeze_moved(sched::Thread& t, Cgroup& src, Cgroup& dst);
void kick_if_freezing(sched::Thread& t, const Cgroup& src, const Cgroup& dst);

}  // namespace keel::cgroup
