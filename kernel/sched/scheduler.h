// The per-CPU scheduler: EEVDF run queues (kernel/sched/eevdf.h), context
// switching, sleeping and waking, and load balancing between CPUs.
#pragma once

#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "lib/result.h"

namespace keel::sched {

struct CpuRunQueue;

void init_bsp();           // the boot context becomes CPU 0's idle thread
void init_ap(u32 cpu);     // the AP's boot context becomes its idle thread
[[noreturn]] void idle_loop();

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
void sleep_ns(u64 ns);
// Sleeps unless a signal arrives first: false then, with the time left.
bool sleep_ns_interruptible(u64 ns, u64* remaining);

void set_nice(Thread* t, int nice);
Status set_affinity(Thread* t, u64 mask);
// The cpuset controller's limit (cpuset.cpus.effective); the thread moves
// off CPUs outside it at its next switch.
void set_cpuset_mask(Thread* t, u64 mask);

// CPU time t has run, up to now if it is running.
u64 runtime_ns(const Thread& t);

// Observability for tests and /proc.
u32 nr_running(u32 cpu);
u64 context_switches(u32 cpu);
u32 online_cpus();
void mark_cpu_online(u32 cpu);

}  // namespace keel::sched
