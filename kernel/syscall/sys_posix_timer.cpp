// POSIX per-process timers: timer_create, timer_settime, timer_gettime,
// timer_getoverrun, timer_delete (kernel/process/posix_timers.cpp).
#include <linux/time.h>

#include "kernel/process/posix_timers.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

constexpr u64 NSEC = 1000000000ull;

struct KItimerspec {
    struct {
        i64 sec, nsec;
    } interval, value;
};
static_assert(sizeof(KItimerspec) == 32);

Result<u64> to_ns(i64 sec, i64 nsec) {
    if (sec < 0 || static_cast<u64>(nsec) >= NSEC) return Error(EINVAL);
    u64 s = static_cast<u64>(sec);
    if (s > (~0ull >> 1) / NSEC) return ~0ull >> 1;  // far future
    return s * NSEC + static_cast<u64>(nsec);
}

KItimerspec to_spec(const ptimer::Setting& s) {
    KItimerspec k{};
    k.interval = {static_cast<i64>(s.interval / NSEC), static_cast<i64>(s.interval % NSEC)};
    k.value = {static_cast<i64>(s.value / NSEC), static_cast<i64>(s.value % NSEC)};
    return k;
}

proc::Process& me() { return *proc::current_process(); }

}  // namespace

SYSCALL(timer_create) {
    int clock = static_cast<int>(args.a0);
    sigevent_t ev;
    bool have_event = args.a1 != 0;
    if (have_event) TRY(copy_from_user(&ev, args.a1, sizeof(ev)));
    int id = TRY(ptimer::create(me(), clock, have_event ? &ev : nullptr));
    if (UserOut<int>(args.a2).write(id).is_error()) {
        (void)ptimer::remove(me(), id);
        return Error(EFAULT);
    }
    return 0;
}

SYSCALL(timer_settime) {
    int id = static_cast<int>(args.a0);
    int flags = static_cast<int>(args.a1);
    if (!args.a2) return Error(EINVAL);
    KItimerspec spec = TRY(UserIn<KItimerspec>(args.a2).read());
    ptimer::Setting s;
    s.interval = TRY(to_ns(spec.interval.sec, spec.interval.nsec));
    s.value = TRY(to_ns(spec.value.sec, spec.value.nsec));
    ptimer::Setting old;
    TRY(ptimer::settime(me(), id, flags & TIMER_ABSTIME, s, args.a3 ? &old : nullptr));
    if (args.a3) TRY(UserOut<KItimerspec>(args.a3).write(to_spec(old)));
    return 0;
}

SYSCALL(timer_gettime) {
    ptimer::Setting s = TRY(ptimer::gettime(me(), static_cast<int>(args.a0)));
    TRY(UserOut<KItimerspec>(args.a1).write(to_spec(s)));
    return 0;
}

SYSCALL(timer_getoverrun) { return static_cast<u64>(TRY(ptimer::getoverrun(me(), static_cast<int>(args.a0)))); }

SYSCALL(timer_delete) {
    TRY(ptimer::remove(me(), static_cast<int>(args.a0)));
    return 0;
}

}  // namespace keel
