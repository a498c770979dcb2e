// eventfd, timerfd, signalfd.
#include <linux/timerfd.h>

#include "fs/event_files.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

struct KItimerspec {
    i64 interval_sec, interval_nsec, value_sec, value_nsec;
};

Result<u64> to_ns(i64 sec, i64 nsec) {
    if (sec < 0 || nsec < 0 || nsec >= 1000000000) return Error(EINVAL);
    return static_cast<u64>(sec) * 1000000000 + static_cast<u64>(nsec);
}

KItimerspec from_ns(u64 value, u64 interval) {
    return {static_cast<i64>(interval / 1000000000), static_cast<i64>(interval % 1000000000),
            static_cast<i64>(value / 1000000000), static_cast<i64>(value % 1000000000)};
}

Result<fs::FileRef> file_at(u64 fd) {
    fs::FileRef f = proc::current_process()->fds->get(static_cast<int>(fd));
    if (!f) return Error(EBADF);
    return f;
}

}  // namespace

SYSCALL(eventfd) { return fs::eventfd_open(static_cast<u32>(args.a0), 0); }
SYSCALL(eventfd2) { return fs::eventfd_open(static_cast<u32>(args.a0), static_cast<u32>(args.a1)); }

SYSCALL(timerfd_create) { return fs::timerfd_open(static_cast<int>(args.a0), static_cast<u32>(args.a1)); }

SYSCALL(timerfd_settime) {
    fs::FileRef f = TRY(file_at(args.a0));
    u32 flags = static_cast<u32>(args.a1);
    if (flags & ~static_cast<u32>(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) return Error(EINVAL);
    KItimerspec in = TRY(UserIn<KItimerspec>(args.a2).read());
    u64 value = TRY(to_ns(in.value_sec, in.value_nsec));
    u64 interval = TRY(to_ns(in.interval_sec, in.interval_nsec));
    u64 old_value, old_interval;
    TRY(fs::timerfd_settime(f.get(), flags & TFD_TIMER_ABSTIME, value, interval, &old_value, &old_interval));
    if (args.a3) TRY(UserOut<KItimerspec>(args.a3).write(from_ns(old_value, old_interval)));
    return 0;
}

SYSCALL(timerfd_gettime) {
    fs::FileRef f = TRY(file_at(args.a0));
    u64 value, interval;
    TRY(fs::timerfd_gettime(f.get(), &value, &interval));
    TRY(UserOut<KItimerspec>(args.a1).write(from_ns(value, interval)));
    return 0;
}

SYSCALL(signalfd) {
    if (args.a2 != sizeof(sig::SigSet)) return Error(EINVAL);
    sig::SigSet mask = TRY(UserIn<sig::SigSet>(args.a1).read());
    return fs::signalfd_open(static_cast<int>(args.a0), mask, 0);
}

SYSCALL(signalfd4) {
    if (args.a2 != sizeof(sig::SigSet)) return Error(EINVAL);
    sig::SigSet mask = TRY(UserIn<sig::SigSet>(args.a1).read());
    return fs::signalfd_open(static_cast<int>(args.a0), mask, static_cast<u32>(args.a3));
}

}  // namespace keel
