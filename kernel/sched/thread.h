// A kernel thread: its saved context, its kernel stack (with an unmapped
// guard page below), and its scheduling entity.
#pragma once

#include "kernel/sched/eevdf.h"
#include "kernel/signal/signal.h"
#include "kernel/timer.h"
#include "lib/intrusive_list.h"

namespace keel::proc {
struct Process;
}
namespace keel::mm {
class AddressSpace;
}
namespace keel::cgroup {
struct Cgroup;
}

namespace keel::sched {

struct GroupQueue;

enum class ThreadState : u8 { Runnable, Blocked, Dead };

struct Thread {
    SchedEntity se;
    u64 saved_rsp = 0;
    uptr stack_bottom = 0;  // lowest mapped byte
    uptr stack_top = 0;
    ThreadState state = ThreadState::Runnable;
    bool on_cpu = false;          // its context is live on some CPU
    bool migrating = false;       // dequeued for an affinity move
    // Taken off one run queue and not yet on another: lock_task_rq waits,
    // so nothing changes a thread no queue lock covers. Set and cleared
    // with interrupts off (a waiter on this CPU would spin forever).
    bool in_flight = false;
    u32 cpu = 0;                  // run queue it belongs to
    u32 tid = 0;
    int nice = 0;
    // Scheduling policy (SCHED_NORMAL, _FIFO, _RR, _BATCH, _IDLE as in
    // <linux/sched.h>) and, for FIFO/RR, the priority 1..99. Changed only
    // under the run-queue lock (kernel/sched/policy.cpp).
    u8 policy = 0;
    u8 rt_priority = 0;
    bool reset_on_fork = false;   // SCHED_RESET_ON_FORK
    bool on_rt = false;           // queued in an RT priority list
    ListNode rt_node;
    u64 rr_left_ns = 0;           // SCHED_RR: what is left of its time slice
    // schedstat: time spent runnable but waiting, and how often it ran.
    u64 run_delay_ns = 0;
    u64 pcount = 0;
    u64 queued_since_ns = 0;      // when it last became runnable and not running
    u64 nr_migrations = 0;
    u64 affinity = ~0ull;         // allowed CPUs (bit per CPU id), as sched_setaffinity asked
    u64 cpuset_mask = ~0ull;      // its cgroup's cpuset.cpus.effective (sched::set_cpuset_mask)
    char name[16] = {};
    void (*entry)(void*) = nullptr;
    void* arg = nullptr;

    ListNode all_node;            // in the global thread list
    Timer sleep_timer;            // for sleep_ns and timeouts
    bool woken_by_timer = false;

    u64 nvcsw = 0;                // voluntary context switches
    u64 nivcsw = 0;               // involuntary
    u64 exec_start_ns = 0;

    // User threads only.
    proc::Process* process = nullptr;
    // The page tables this thread runs on, with a reference of its own: a
    // CPU switching to the thread loads them, so they must outlive every
    // switch, not just the process's use (see proc::leave()).
    mm::AddressSpace* mm = nullptr;
    int user_tid = 0;             // gettid(): from the pid space, as in Linux
    ListNode group_node;          // in process->threads
    void* fpu = nullptr;          // FPU/SSE/AVX state while switched out
    u64 fs_base = 0;              // arch_prctl(ARCH_SET_FS): the TLS pointer
    u64 gs_base = 0;
    uptr clear_child_tid = 0;     // set_tid_address
    uptr robust_list = 0;         // set_robust_list
    u64 timer_slack_ns = 50000;   // PR_SET_TIMERSLACK (recorded; timers are exact)
    u64 default_timer_slack_ns = 50000;  // what PR_SET_TIMERSLACK 0 restores
    sig::ThreadSignals signals;
    bool interruptible = false;   // asleep in a wait a signal may end
    // The user/system split of this thread's CPU time (kernel/process/
    // cputime.h), in raw TSC units so the system-call path only stamps:
    // user time so far, and the TSC when it last entered user mode (0 while
    // in the kernel); readers on other CPUs retry on utime_seq.
    u64 utime_tsc = 0;
    u64 user_since_tsc = 0;
    u32 utime_seq = 0;
    // rseq registration (kernel/process/rseq.cpp). rseq_resume: cpu_id is
    // to be rewritten before user mode; rseq_event: preempted, migrated or
    // signalled since, so a critical section in progress must abort.
    uptr rseq_area = 0;
    u32 rseq_len = 0;
    u32 rseq_sig = 0;
    bool rseq_resume = false;
    bool rseq_event = false;

    // The cgroup the thread belongs to (kernel/cgroup), with a reference;
    // null before cgroups are set up (then: the root).
    cgroup::Cgroup* cgroup = nullptr;
    // Pages charged since the last return to user mode while the cgroup
    // (or an ancestor) was over memory.high: what that return pays for
    // (memcg::throttle_over_high).
    u32 memcg_pages_over_high = 0;
    u8 psi_flags = 0;             // kernel/psi: the task states it is counted in
    // cpu.max (kernel/sched/bandwidth.h): parked, runnable, while its
    // cgroup is throttled.
    bool throttled = false;
    ListNode throttle_node;
    // The cgroup queue its entity is in while se.on_rq (null: the CPU's
    // root queue), as kernel/sched/fair_group.h placed it.
    GroupQueue* fair_q = nullptr;

    u64 allowed_cpus() const {
        u64 m = affinity & cpuset_mask;
        return m ? m : cpuset_mask;  // an affinity outside the cpuset yields to it
    }
    bool is_rt() const { return policy == 1 || policy == 2; }  // SCHED_FIFO, SCHED_RR
    bool may_run_on(u32 c) const { return c < 64 && (allowed_cpus() >> c) & 1; }
};

}  // namespace keel::sched
