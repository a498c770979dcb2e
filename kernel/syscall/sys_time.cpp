// Clocks and sleeping: clock_gettime/getres/settime, gettimeofday, time,
// nanosleep, clock_nanosleep.
#include <linux/time.h>

#include "kernel/process/cputime.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/syscall.h"
#include "kernel/time.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

constexpr u64 NSEC = 1000000000ull;
constexpr u64 TICK_NS = time::JIFFY_NS;  // Linux's coarse clocks tick at HZ

struct KTimespec {
    i64 sec;
    i64 nsec;
};
static_assert(sizeof(KTimespec) == sizeof(__kernel_timespec));

KTimespec to_ts(u64 ns) { return {static_cast<i64>(ns / NSEC), static_cast<i64>(ns % NSEC)}; }

// Nanoseconds on `clock`, or EINVAL for clocks Keel does not have.
Result<u64> read_clock(__kernel_clockid_t clock) {
    if (cputime::is_cpu_clock(clock)) return cputime::read(TRY(cputime::resolve(clock, true)));
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_ALARM:  // the alarm clocks read as their base clocks
    case CLOCK_TAI:
        return time::realtime_ns();
    case CLOCK_REALTIME_COARSE:
        return time::realtime_ns() / TICK_NS * TICK_NS;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
        return time::monotonic_ns();
    case CLOCK_MONOTONIC_COARSE:
        return time::monotonic_ns() / TICK_NS * TICK_NS;
    default:
        return Error(EINVAL);
    }
}

Result<u64> read_timespec(uptr user) {
    KTimespec ts = TRY(UserIn<KTimespec>(user).read());
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= static_cast<i64>(NSEC)) return Error(EINVAL);
    u64 sec = static_cast<u64>(ts.sec);
    if (sec > (~0ull - NSEC) / NSEC) return ~0ull;  // far future
    return sec * NSEC + static_cast<u64>(ts.nsec);
}

}  // namespace

SYSCALL(clock_gettime) {
    u64 ns = TRY(read_clock(static_cast<__kernel_clockid_t>(args.a0)));
    TRY(UserOut<KTimespec>(args.a1).write(to_ts(ns)));
    return 0;
}

SYSCALL(clock_getres) {
    __kernel_clockid_t clock = static_cast<__kernel_clockid_t>(args.a0);
    TRY(read_clock(clock));
    if (!args.a1) return 0;
    // CPU clocks sampled from user/system time tick in Linux (HZ=250).
    bool coarse = clock == CLOCK_REALTIME_COARSE || clock == CLOCK_MONOTONIC_COARSE ||
                  (clock < 0 && (clock & 3) != cputime::SCHED);
    TRY(UserOut<KTimespec>(args.a1).write(to_ts(coarse ? TICK_NS : 1)));
    return 0;
}

SYSCALL(clock_settime) {
    if (static_cast<__kernel_clockid_t>(args.a0) != CLOCK_REALTIME) {
        TRY(read_clock(static_cast<__kernel_clockid_t>(args.a0)));
        return Error(EINVAL);
    }
    time::set_realtime_ns(TRY(read_timespec(args.a1)));
    return 0;
}

SYSCALL(gettimeofday) {
    if (args.a0) {
        u64 ns = time::realtime_ns();
        struct {
            i64 sec, usec;
        } tv{static_cast<i64>(ns / NSEC), static_cast<i64>(ns % NSEC / 1000)};
        TRY(copy_to_user(args.a0, &tv, sizeof(tv)));
    }
    if (args.a1) {
        struct {
            int minuteswest, dsttime;
        } tz{0, 0};
        TRY(copy_to_user(args.a1, &tz, sizeof(tz)));
    }
    return 0;
}

SYSCALL(time) {
    u64 sec = time::realtime_ns() / NSEC;
    if (args.a0) TRY(UserOut<i64>(args.a0).write(static_cast<i64>(sec)));
    return sec;
}

namespace {
// A sleep that a signal or a cgroup freeze interrupts: a relative one
// reports what was left in `rem` (as Linux does before it knows whether a
// handler runs) and then fails with EINTR if a handler runs, or goes on
// through restart_syscall towards the same end (a stop and SIGCONT, a
// thaw); an absolute one is called again with its own arguments.
Result<u64> sleep_interrupted(bool relative, uptr rem, u64 left, const sig::RestartBlock& go_on) {
    if (!relative) return Error(sig::ERESTARTNOHAND);
    if (rem) TRY(UserOut<KTimespec>(rem).write(to_ts(left)));
    return sig::restart_with(go_on);
}

Result<u64> sleep_until(u64 deadline, bool relative, uptr rem) {
    u64 now = time::monotonic_ns();
    if (now >= deadline) return 0;
    u64 left = 0;
    if (sched::sleep_ns_interruptible(deadline - now, &left)) return 0;
    auto resume = [](const sig::RestartBlock& rb) { return sleep_until(rb.a[0], true, rb.a[1]); };
    return sleep_interrupted(relative, rem, left, {resume, {deadline, rem}});
}

// Sleeping on a process CPU clock: it moves only while the process's other
// threads (or the process the clock belongs to) run, so look at it again
// every 10 ms of wall time at most until it reaches `target`.
Result<u64> cpu_clock_sleep(__kernel_clockid_t clock, u64 target, bool relative, uptr rem) {
    for (;;) {
        u64 now = TRY(read_clock(clock));
        if (now >= target) return 0;
        if (sched::sleep_ns_interruptible(min<u64>(target - now, 10'000'000), nullptr)) continue;
        u64 after = TRY(read_clock(clock));
        auto resume = [](const sig::RestartBlock& rb) {
            return cpu_clock_sleep(static_cast<__kernel_clockid_t>(rb.a[0]), rb.a[1], true, rb.a[2]);
        };
        return sleep_interrupted(relative, rem, target > after ? target - after : 0,
                                 {resume, {static_cast<u64>(static_cast<i64>(clock)), target, rem}});
    }
}

}  // namespace

SYSCALL(nanosleep) {
    u64 ns = TRY(read_timespec(args.a0));
    return sleep_until(time::deadline_after(ns), true, args.a1);
}

SYSCALL(clock_nanosleep) {
    __kernel_clockid_t clock = static_cast<__kernel_clockid_t>(args.a0);
    if (clock == CLOCK_THREAD_CPUTIME_ID || (clock < 0 && (clock & 4))) return Error(EINVAL);
    u64 now = TRY(read_clock(clock));
    // Flag bits other than TIMER_ABSTIME are ignored, as Linux does.
    u64 t = TRY(read_timespec(args.a2));
    bool abs = args.a1 & TIMER_ABSTIME;
    if (cputime::is_cpu_clock(clock)) return cpu_clock_sleep(clock, abs ? t : now + t, !abs, args.a3);
    u64 ns = abs ? (t > now ? t - now : 0) : t;
    if (!ns) return 0;
    return sleep_until(time::deadline_after(ns), !abs, args.a3);
}

}  // namespace keel
