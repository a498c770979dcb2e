// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
// epoll_pwait2 over fs/epoll.
#include <linux/eventpoll.h>
#include <linux/fcntl.h>

#include "fs/epoll.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/handlers.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/syscall.h"
#include "kernel/time.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

using time::deadline_after;
using time::NO_DEADLINE;
// Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event).
constexpr u64 EP_MAX_EVENTS = 0x7fffffff / sizeof(epoll_event);

// The file stays referenced for the whole call: another thread may close
// the descriptor meanwhile.
fs::FileRef lookup(u64 fd) { return proc::current_process()->fds->get(static_cast<int>(fd)); }

Result<u64> create(u32 flags) {
    fs::OpenFile* ep = TRY(fs::epoll_create());
    auto fd = proc::current_process()->fds->install(ep, 0, flags & EPOLL_CLOEXEC);
    if (fd.is_error()) {
        ep->put();
        return fd.error();
    }
    return static_cast<u64>(fd.value());
}

Result<u64> wait_common(u64 epfd, uptr events, i64 maxevents, u64 deadline) {
    if (maxevents <= 0 || static_cast<u64>(maxevents) > EP_MAX_EVENTS) return Error(EINVAL);
    if (!user_range_ok(events, static_cast<usize>(maxevents) * sizeof(epoll_event))) return Error(EFAULT);
    fs::FileRef ep = lookup(epfd);
    if (!ep) return Error(EBADF);
    return TRY(fs::epoll_wait(*ep, events, static_cast<usize>(maxevents), deadline));
}

// epoll_pwait's temporary mask (sig::set_temporary_mask) is kept until a
// handler runs when the wait was interrupted (EINTR), restored at once
// otherwise (Linux's restore_saved_sigmask_unless).
void restore_mask_unless_eintr(uptr user_mask, const Result<u64>& r) {
    if (!user_mask || (r.is_error() && r.error().code() == EINTR)) return;
    sig::ThreadSignals& ts = sched::current()->signals;
    SpinlockGuard g(proc::current_process()->sighand->lock);
    if (!ts.restore_mask) return;
    ts.restore_mask = false;
    ts.blocked = ts.saved_mask;
}

Result<u64> pwait_common(const sys::SyscallArgs& args, u64 deadline) {
    TRY(sig::set_temporary_mask(args.a4, args.a5));
    auto r = wait_common(args.a0, args.a1, static_cast<int>(args.a2), deadline);
    restore_mask_unless_eintr(args.a4, r);
    return r;
}

u64 ms_deadline(u64 arg) {
    i64 ms = static_cast<int>(arg);
    return ms < 0 ? NO_DEADLINE : deadline_after(static_cast<u64>(ms) * 1000000);
}

}  // namespace

SYSCALL(epoll_create) {
    if (static_cast<int>(args.a0) <= 0) return Error(EINVAL);
    return create(0);
}

SYSCALL(epoll_create1) {
    if (args.a0 & ~static_cast<u64>(EPOLL_CLOEXEC)) return Error(EINVAL);
    return create(static_cast<u32>(args.a0));
}

SYSCALL(epoll_ctl) {
    int op = static_cast<int>(args.a1);
    epoll_event ev{};
    if (op != EPOLL_CTL_DEL) TRY(copy_from_user(&ev, args.a3, sizeof(ev)));
    fs::FileRef ep = lookup(args.a0);
    if (!ep) return Error(EBADF);
    fs::FileRef target = lookup(args.a2);
    if (!target) return Error(EBADF);
    TRY(fs::epoll_ctl(*ep, op, *target, static_cast<int>(args.a2), ev.events, ev.data));
    return 0;
}

SYSCALL(epoll_wait) { return wait_common(args.a0, args.a1, static_cast<int>(args.a2), ms_deadline(args.a3)); }

SYSCALL(epoll_pwait) { return pwait_common(args, ms_deadline(args.a3)); }

SYSCALL(epoll_pwait2) {
    u64 deadline = NO_DEADLINE;
    if (args.a3) {
        struct {
            i64 sec, nsec;
        } ts;
        TRY(copy_from_user(&ts, args.a3, sizeof(ts)));
        if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000) return Error(EINVAL);
        if (static_cast<u64>(ts.sec) > (NO_DEADLINE - 1000000000) / 1000000000) deadline = NO_DEADLINE;
        else deadline = deadline_after(static_cast<u64>(ts.sec) * 1000000000 + static_cast<u64>(ts.nsec));
    }
    return pwait_common(args, deadline);
}

}  // namespace keel
