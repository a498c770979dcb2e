// Clocks and sleeping: clock_gettime/getres/settime, gettimeofday, time,
// nanosleep, clock_nanosleep.
#include <linux/time.h>

#include "kernel/cgroup/freeze.h"
#include "kernel/process/cputime.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
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
// An interrupted relative sleep reports what was left, as Linux does.
// A cgroup freeze is no signal: the sleep stops in the freezer and then
// goes on towards the same end, as Linux's restart block does.
Result<u64> interruptible_sleep(u64 ns, uptr rem) {
    u64 deadline = time::monotonic_ns() + ns;
    u64 left = ns;
    for (;;) {
        if (sched::sleep_ns_interruptible(left, &left)) return 0;
        if (!sig::interrupted_to_freeze()) break;
        cgroup::freezer_trap();
        u64 now = time::monotonic_ns();
        if (now >= deadline) return 0;
        left = deadline - now;
    }
    if (rem) TRY(UserOut<KTimespec>(rem).write(to_ts(left)));
    return Error(EINTR);
}
// Sleeping on a process CPU clock: it moves only while the process's other
// threads (or the process the clock belongs to) run, so look at it again
// every 10 ms of wall time at most until it reaches `target`.
Result<u64> cpu_clock_sleep(__kernel_clockid_t clock, u64 target, uptr rem) {
    for (;;) {
        u64 now = TRY(read_clock(clock));
        if (now >= target) return 0;
        if (!sched::sleep_ns_interruptible(min<u64>(target - now, 10'000'000), nullptr)) {
            u64 after = TRY(read_clock(clock));
            if (rem) TRY(UserOut<KTimespec>(rem).write(to_ts(target > after ? target - after : 0)));
            return Error(EINTR);
        }
    }
}

}  // namespace

SYSCALL(nanosleep) {
    u64 ns = TRY(read_timespec(args.a0));
    return interruptible_sleep(ns, args.a1);
}

SYSCALL(clock_nanosleep) {
    __kernel_clockid_t clock = static_cast<__kernel_clockid_t>(args.a0);
    if (clock == CLOCK_THREAD_CPUTIME_ID || (clock < 0 && (clock & 4))) return Error(EINVAL);
    u64 now = TRY(read_clock(clock));
    // Flag bits other than TIMER_ABSTIME are ignored, as Linux does.
    u64 t = TRY(read_timespec(args.a2));
    bool abs = args.a1 & TIMER_ABSTIME;
    if (cputime::is_cpu_clock(clock)) return cpu_clock_sleep(clock, abs ? t : now + t, abs ? 0 : args.a3);
    u64 ns = abs ? (t > now ? t - now : 0) : t;
    if (!ns) return 0;
    return interruptible_sleep(ns, abs ? 0 : args.a3);
}

}  // namespace keel
