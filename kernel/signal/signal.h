// POSIX signals as Linux implements them: per-process actions, per-thread
// masks, pending sets with queued siginfo for real-time signals, delivery
// on the way back to user mode (default actions, or a handler entered
// through Linux's rt_sigframe), sigreturn, and system-call restart.
#pragma once

#include <asm/siginfo.h>
#include <asm/signal.h>

#include "arch/x86_64/trapframe.h"
#include "kernel/spinlock.h"
#include "lib/intrusive_list.h"
#include "lib/result.h"

namespace keel::proc {
struct Process;
}
namespace keel::sched {
struct Thread;
}

namespace keel::sig {

constexpr int NSIG_ALL = 64;
using SigSet = u64;  // bit sig-1
constexpr SigSet bit(int sig) { return 1ull << (sig - 1); }
constexpr SigSet UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);

// rt_sigaction's struct on x86-64: handler, flags, restorer, mask.
struct KSigaction {
    u64 handler;
    u64 flags;
    u64 restorer;
    SigSet mask;
};
static_assert(sizeof(KSigaction) == 32);

struct Queued {
    ListNode node;
    siginfo_t info;
};

struct Pending {
    SigSet set = 0;
    siginfo_t standard[32] = {};                  // one instance of each of 1..31
    IntrusiveList<Queued, &Queued::node> queue;   // real-time signals, in arrival order
};

// The process-wide part (actions, shared pending set): kernel/signal/handlers.h.
struct Handlers;

// How a call interrupted by a signal that ran no handler (a stop and
// SIGCONT, say) or by a cgroup freeze goes on: it returns
// ERESTART_RESTARTBLOCK with one of these recorded, and the return to user
// mode backs up over the syscall instruction with restart_syscall(2) as the
// call, which runs fn with the arguments saved here (an absolute deadline
// instead of the relative timeout the call was given). A handler ends the
// call with EINTR instead.
struct RestartBlock {
    Result<u64> (*fn)(const RestartBlock&) = nullptr;
    u64 a[5] = {};
};

// Per thread.
struct ThreadSignals {
    SigSet blocked = 0;
    Pending pending;  // thread-directed signals
    u64 altstack_sp = 0;
    u64 altstack_size = 0;
    u32 altstack_flags = 2;  // SS_DISABLE
    SigSet saved_mask = 0;   // restored after a handler run by sigsuspend & co.
    // rt_sigtimedwait's mask from before it unblocked the awaited signals:
    // one of those arriving then is taken by the wait, never fatal.
    SigSet real_blocked = 0;
    bool restore_mask = false;
    // Parked in the cgroup freezer's trap and counted in its cgroup's
    // nr_frozen (kernel/cgroup/freeze.cpp; the cgroup membership lock).
    bool frozen = false;
    RestartBlock restart;  // for restart_syscall; fn null: it fails with EINTR
};

// Sends sig to process p (kill) or to thread t (tkill). info may be null:
// then a kernel-made siginfo of SI_USER from the current process is used.
Status send_to_process(proc::Process& p, int sig, const siginfo_t* info);
Status send_to_thread(sched::Thread& t, int sig, const siginfo_t* info);
// Sends sig from the kernel (SI_KERNEL, no permission check) to every live
// process of group `pgid`, as Linux's kill_pgrp(..., priv=1) does for the
// terminal's signals. False when the group has no member.
bool kill_pgrp(int pgid, int sig);
// The same for one process.
void send_from_kernel(proc::Process& p, int sig);
// Two signals generated as one, so that the receiver takes both or
// neither (a terminal's session leader gets SIGHUP and SIGCONT on hangup,
// under one lock as on Linux: its SIGHUP handler used to run, and the
// program go on, before SIGCONT was even sent; tests/user/tty_pty).
void send_from_kernel_together(proc::Process& p, int first, int second);
// The same with a siginfo of the caller's making (no permission check).
void send_from_kernel_info(proc::Process& p, int sig, const siginfo_t& info);

// A POSIX timer's signal (no permission check). False when it was not
// queued: ignored, or a standard signal already pending.
bool send_timer_signal(proc::Process& p, sched::Thread* t, const siginfo_t& info);

// A synchronous fault signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) for
// the current thread: unblocked and not ignorable, as Linux forces it.
void force_fault_signal(int sig, int code, u64 addr);
// A signal that kills the current thread's process whatever its handler or
// mask (Linux's force_fatal_sig): an execve that failed past its point of
// no return.
void force_fatal_signal(int sig);
// execve's first step past the point of no return (Linux's de_thread):
// marks the calling thread as the process's exec thread and sends every
// other thread a SIGKILL that ends only that thread (proc::exit_killed). False if
// the process is already exiting or another thread is execing.
bool end_other_threads(proc::Process& p);

// Makes a thread notice pending work (signals, group exit): wakes it from
// an interruptible sleep or interrupts its CPU.
void kick_thread(sched::Thread& t);

// Is a signal pending that would interrupt a sleep of the current thread?
// (Also true while its cgroup is freezing: the sleep ends so that the
// thread reaches the freezer on its way back to user mode.)
bool interrupt_pending();

// A pending, unblocked signal that kills the current process even while
// it is frozen (SIGKILL, or one whose action is to terminate without a
// core dump: Linux makes those fatal to the group when they are sent);
// 0 if none.
int fatal_signal_pending();

// Delivers pending signals before returning to user mode with `frame`
// (which holds the system call's result in rax, for restarts).
void deliver(arch::TrapFrame& frame);

// Dequeues a pending signal of `set` for the current thread (sigtimedwait);
// 0 if none.
int dequeue_from(SigSet set, siginfo_t* info);


// rt_sigreturn: restores the context saved in the signal frame at the
// user stack pointer. Returns the rax value to return with.
Result<u64> sigreturn(arch::TrapFrame& frame);

// Copies the process's handlers for fork; resets handled signals on exec.
Status fork_handlers(proc::Process& child, const proc::Process& parent);
void exec_reset_handlers(proc::Process& p);

// The parent learns about a child's exit (SIGCHLD or its exit_signal) or
// stop (SIGCHLD with CLD_STOPPED, unless SA_NOCLDSTOP).
void notify_parent_of_exit(proc::Process& child);
void notify_parent_of_stop(proc::Process& child, int sig);

// ppoll, pselect6 and epoll_pwait: blocks the user's sigset (size must be
// 8: EINVAL) for the wait, saved so that the return to user mode restores
// the old mask as after sigsuspend. A null mask changes nothing.
Status set_temporary_mask(uptr user_mask, u64 size);
// Does the parent discard its children's exit (SIGCHLD ignored or
// SA_NOCLDWAIT)? Then they are reaped at once and wait() sees none.
bool parent_reaps_automatically(const proc::Process& parent);

// Linux's internal "restart" codes a blocking call returns when a signal
// interrupted it; deliver() turns them into EINTR or a restart.
constexpr int ERESTARTSYS = 512;
constexpr int ERESTARTNOINTR = 513;
constexpr int ERESTARTNOHAND = 514;
constexpr int ERESTART_RESTARTBLOCK = 516;

// Records how the current call goes on after an interruption (see
// RestartBlock) and returns the error that asks for it.
Error restart_with(const RestartBlock& rb);

}  // namespace keel::sig
