// The user/system split of CPU time. The scheduler charges each thread its
// total running time; the kernel's entry and exit stamp the clock so that
// the part spent in user mode is known too, and system time is the rest.
#pragma once

#include <linux/resource.h>

#include "arch/x86_64/cpu.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/thread.h"
#include "lib/result.h"

namespace keel::proc {
struct Process;
}

namespace keel::cputime {

struct Times {
    u64 user_ns = 0;
    u64 system_ns = 0;
    u64 total() const { return user_ns + system_ns; }
};

// The current thread leaves user mode (system call, interrupt or fault
// from user mode), or is about to return to it.
void enter_kernel();
void enter_user();

// The same with interrupts already off, inline: the system-call path runs
// them on every call. utime_seq is odd while the owner updates the two
// stamps; a writer must not be interrupted or preempted meanwhile (a reader
// spins on an odd count), hence interrupts off.
inline void enter_kernel_irqs_off() {
    sched::Thread& t = *sched::current();
    u64 since = t.user_since_tsc;
    if (!since) return;
    u64 now = arch::rdtsc();
    __atomic_store_n(&t.utime_seq, t.utime_seq + 1, __ATOMIC_RELEASE);
    if (now > since) t.utime_tsc += now - since;
    t.user_since_tsc = 0;
    __atomic_store_n(&t.utime_seq, t.utime_seq + 1, __ATOMIC_RELEASE);
}

inline void enter_user_irqs_off() {
    sched::Thread& t = *sched::current();
    u64 now = arch::rdtsc();
    __atomic_store_n(&t.utime_seq, t.utime_seq + 1, __ATOMIC_RELEASE);
    t.user_since_tsc = now | 1;  // never 0, which means "in the kernel"
    __atomic_store_n(&t.utime_seq, t.utime_seq + 1, __ATOMIC_RELEASE);
}

// An rusage whose ru_utime/ru_stime are `t` (the other fields 0).
rusage to_rusage(const Times& t);

Times thread_times(const sched::Thread& t);
// Every live thread of p plus those that have left. Takes p's signal lock.
Times process_times(proc::Process& p);
// Reaped children, with what they had reaped themselves.
Times children_times(const proc::Process& p);

// The calling thread is leaving p: its time stays with the process.
void thread_exited(proc::Process& p, sched::Thread& t);
// parent reaped child: the child's time and its children's go to parent.
// Adds a reaped child's totals (its own and its reaped children's) to the
// parent's and returns them (wait4's rusage).
Times child_reaped(proc::Process& parent, proc::Process& child);

// CPU-time clocks: CLOCK_PROCESS/THREAD_CPUTIME_ID and the clock ids glibc's
// clock_getcpuclockid/pthread_getcpuclockid make from a pid or tid
// (negative: ~id << 3, bit 2 for a thread, the low bits PROF/VIRT/SCHED).
enum Which : int { PROF = 0, VIRT = 1, SCHED = 2 };
struct CpuClock {
    proc::Process* process = nullptr;  // the process clock, or the thread's process
    sched::Thread* thread = nullptr;   // a thread clock
    int which = SCHED;
};
bool is_cpu_clock(int clock);
// EINVAL for a malformed id, an unknown process or a thread of another
// process. gettime: the caller's own tid also names its process, as in Linux.
Result<CpuClock> resolve(int clock, bool gettime);
u64 read(const CpuClock& c);
// Nanoseconds of one of the samples from user/system times.
inline u64 sample(const Times& t, int which) { return which == VIRT ? t.user_ns : t.total(); }

}  // namespace keel::cputime
