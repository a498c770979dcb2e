// The per-CPU scheduler: EEVDF run queues (kernel/sched/eevdf.h), context
// switching, sleeping and waking, and load balancing between CPUs.
#pragma once

#include "kernel/percpu.h"
#include "kernel/sched/rt_queue.h"
#include "kernel/sched/thread.h"
#include "lib/result.h"
#include "lib/string_view.h"

namespace keel::sched {

struct CpuRunQueue;

void init_bsp();           // the boot context becomes CPU 0's idle thread
void init_ap(u32 cpu);     // the AP's boot context becomes its idle thread
[[noreturn]] void idle_loop();
// How an idle CPU waits: Halt (the default, `idle=halt`), Poll (never
// halts, `idle=poll`) or Adaptive (polls for a while first, idle_poll.h;
// `cpuidle_haltpoll.force=1`). The StringView form takes `idle=`'s value.
enum class IdleMode { Adaptive, Halt, Poll };
void set_idle_mode(IdleMode m);
void set_idle_mode(StringView arg);
IdleMode idle_mode();
// Sends the reschedule IPIs this CPU deferred (see resched_cpu). Never
// under a spinlock: Spinlock::unlock calls it when it turns interrupts on.
void send_kicks();
// Makes CPU c enter the kernel soon (a reschedule IPI, deferred like
// resched_cpu's), e.g. so that its thread sees a new signal.
void kick_cpu(u32 c);

// Creates a kernel thread and makes it runnable. cpu < 0: any CPU.
Result<Thread*> spawn_kthread(const char* name, void (*fn)(void*), void* arg, int nice = 0, int cpu = -1);
// The same in two steps, for callers that finish setting the thread up
// (fork: its process, FPU state) before it may run.
Result<Thread*> create_kthread(const char* name, void (*fn)(void*), void* arg, int nice = 0, int cpu = -1);
void start_thread(Thread* t);
[[noreturn]] void exit_current();

// The thread running on this CPU (inline: the hot paths ask for it often).
inline Thread* current() { return current_cpu_raw()->current; }
void schedule();
void preempt_from_irq();
void yield();

// Blocking: set the state, then schedule(). wake() makes a blocked thread
// runnable again; returns false if it was not blocked.
void set_current_blocked();
bool wake(Thread* t);
// The current thread enters or leaves a memory stall (PSI memory pressure:
// memory.high throttling), counted on its CPU while it runs or sleeps.
void psi_memstall(bool enter);
void sleep_ns(u64 ns);
// Sleeps unless a signal arrives first: false then, with the time left.
bool sleep_ns_interruptible(u64 ns, u64* remaining);

// Scheduling attributes as sched_setattr(2) carries them (kernel/sched/policy.cpp).
struct SchedParams {
    int policy = 0;        // SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE
    int rt_priority = 0;   // 1..99 for FIFO and RR, else 0
    int nice = 0;
    u64 slice_ns = 0;      // a fair thread's custom slice request; 0: the default
    bool reset_on_fork = false;
};
SchedParams get_params(const Thread& t);
// Which attributes a set_params call writes; the others keep what they are
// under the run-queue lock, so concurrent changes of other attributes
// (setpriority against sched_setattr) are not lost.
enum ParamField : u32 {
    PARAM_POLICY = 1,         // policy and rt_priority
    PARAM_NICE = 2,
    PARAM_SLICE = 4,
    PARAM_RESET_ON_FORK = 8,
    PARAM_ALL = 15,
};
// The caller has validated p (ranges, permissions).
void set_params(Thread* t, const SchedParams& p, u32 fields = PARAM_ALL);
// A fair thread's slice request in ns: its custom one or the base slice.
u64 effective_slice_ns(const Thread& t);
// A new thread takes its creator's attributes (SCHED_RESET_ON_FORK applied).
void fork_params(Thread* child, const Thread& parent);
void set_nice(Thread* t, int nice);
Status set_affinity(Thread* t, u64 mask);
// Moves t into cgroup `to` (null: none, as an exiting thread) as the
// scheduler sees it: the pointer and the PSI task states it is counted in
// change together under its run-queue lock, so no state is cleared from a
// group it was never added to. kernel/cgroup calls this for every move.
void set_cgroup(Thread* t, cgroup::Cgroup* to);
// The cpuset controller's limit (cpuset.cpus.effective); the thread moves
// off CPUs outside it at its next switch.
void set_cpuset_mask(Thread* t, u64 mask);

// CPU time t has run, up to now if it is running.
u64 runtime_ns(const Thread& t);

// Observability for tests and /proc (kernel/sched/stats.cpp).
u32 nr_running(u32 cpu);
u64 context_switches(u32 cpu);
// The load averages in 11-bit fixed point (FSHIFT), as /proc/loadavg and
// sysinfo(2) show them.
void load_averages(u64 out[3]);
void start_load_tracking();
// /proc/schedstat's per-CPU line: yld_count, 0, sched_count, sched_goidle,
// ttwu_count, ttwu_local, rq_cpu_time, run_delay, pcount.
void cpu_schedstat(u32 cpu, u64 out[9]);
struct ThreadSchedInfo {
    u64 exec_start_ns, vruntime, sum_exec_runtime, deadline, slice_ns, weight;
    u64 nr_migrations, nr_switches, nvcsw, nivcsw, run_delay_ns, pcount;
    int policy, prio;
};
void thread_sched_info(const Thread& t, ThreadSchedInfo& out);

// RT throttling (/proc/sys/kernel/sched_rt_{period,runtime}_us): RT threads
// may use runtime_us of every period_us of a CPU; -1 is no limit.
struct RtLimits {
    i64 period_us = 1000000;
    i64 runtime_us = 950000;
};
RtLimits rt_limits();
Status set_rt_limits(const RtLimits& l);
u32 online_cpus();
u64 online_mask();  // a bit per online CPU
void mark_cpu_online(u32 cpu);

}  // namespace keel::sched
