// POSIX timers (timer_create & co.) and the interval timers of setitimer(2),
// per process. Timers on the wall and monotonic clocks run on the kernel's
// one-shot timers; timers on CPU-time clocks (and ITIMER_VIRTUAL/PROF) are
// checked on the way back to user mode, with a one-shot poke armed for when
// the nearest could expire, so a thread spinning in user mode notices too.
#pragma once

#include <asm/siginfo.h>
#include <asm/signal.h>

#include "lib/result.h"

namespace keel::proc {
struct Process;
}
namespace keel::sched {
struct Thread;
}

namespace keel::ptimer {

struct ProcessTimers;

// A timer's setting: value and interval in nanoseconds.
struct Setting {
    u64 value = 0;
    u64 interval = 0;
};

// timer_create: the new timer's id. `event` null: SIGEV_SIGNAL with SIGALRM.
Result<int> create(proc::Process& p, int clock, const sigevent_t* event);
Status remove(proc::Process& p, int id);
// timer_settime: `old` (if given) receives the previous setting.
Status settime(proc::Process& p, int id, bool absolute, const Setting& value, Setting* old);
Result<Setting> gettime(proc::Process& p, int id);
Result<int> getoverrun(proc::Process& p, int id);

// setitimer/getitimer (ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF).
Result<Setting> get_itimer(proc::Process& p, int which);
Status set_itimer(proc::Process& p, int which, const Setting& value, Setting* old);

// The caller dequeued a signal (SI_TIMER or SIGALRM): periodic timers wait
// for that before they are rearmed, counting the expiries missed meanwhile
// into info's si_overrun.
void signal_dequeued(proc::Process& p, siginfo_t& info);

// On the way to user mode: fires CPU-time timers that are due.
void check_cpu_timers(proc::Process& p, sched::Thread& self);
bool cpu_timers_armed(const proc::Process& p);

// RLIMIT_CPU of `p` was set (setrlimit, prlimit64, or inherited at fork):
// from its soft limit on the process gets SIGXCPU once a second, and
// SIGKILL at its hard limit, as Linux does.
void rlimit_cpu_changed(proc::Process& p);

// exec deletes the POSIX timers (interval timers stay); exit deletes all.
void exec(proc::Process& p);
void exit(proc::Process& p);
// A thread leaves: timers on its CPU clock stop, signals aimed at it drop.
void thread_exiting(proc::Process& p, sched::Thread& t);

}  // namespace keel::ptimer
