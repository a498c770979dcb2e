// Signal system calls.
#include <linux/signal.h>
#include <linux/time.h>

#include "kernel/signal/handlers.h"
#include "kernel/process/posix_timers.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/syscall.h"
#include "kernel/time.h"
#include "kernel/uaccess.h"

namespace keel {

using sig::SigSet;

namespace {

proc::Process& me() { return *proc::current_process(); }
sched::Thread& self() { return *sched::current(); }

Status check_sigsetsize(u64 size) { return size == sizeof(SigSet) ? Status{} : Status(Error(EINVAL)); }

}  // namespace

SYSCALL(rt_sigaction) {
    int signo = static_cast<int>(args.a0);
    TRY(check_sigsetsize(args.a3));
    if (signo < 1 || signo > sig::NSIG_ALL) return Error(EINVAL);
    sig::KSigaction act{};
    if (args.a1) {
        act = TRY(UserIn<sig::KSigaction>(args.a1).read());
        if (signo == SIGKILL || signo == SIGSTOP) return Error(EINVAL);
    }
    sig::KSigaction old;
    {
        SpinlockGuard g(me().sighand->lock);
        old = me().sighand->actions[signo - 1];
        if (args.a1) {
            act.mask &= ~sig::UNBLOCKABLE;
            me().sighand->actions[signo - 1] = act;
        }
    }
    if (args.a2) TRY(UserOut<sig::KSigaction>(args.a2).write(old));
    return 0;
}

SYSCALL(rt_sigprocmask) {
    TRY(check_sigsetsize(args.a3));
    int how = static_cast<int>(args.a0);
    SigSet set = 0;
    if (args.a1) {
        set = TRY(UserIn<SigSet>(args.a1).read());
        if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) return Error(EINVAL);
    }
    SigSet old;
    {
        SpinlockGuard g(me().sighand->lock);
        SigSet& blocked = self().signals.blocked;
        old = blocked;
        if (args.a1) {
            if (how == SIG_BLOCK) blocked |= set;
            else if (how == SIG_UNBLOCK) blocked &= ~set;
            else blocked = set;
            blocked &= ~sig::UNBLOCKABLE;
        }
    }
    if (args.a2) TRY(UserOut<SigSet>(args.a2).write(old));
    return 0;
}

SYSCALL(rt_sigreturn) { return sig::sigreturn(*args.frame); }

// The continuation of a call a signal or a freeze interrupted (the return to
// user mode backs up into this; see sig::RestartBlock). Called with none
// left, as by a program calling it itself, it fails with EINTR as Linux's.
SYSCALL(restart_syscall) {
    sig::RestartBlock& saved = sched::current()->signals.restart;
    sig::RestartBlock rb = saved;
    saved.fn = nullptr;
    if (!rb.fn) return Error(EINTR);
    return rb.fn(rb);
}

SYSCALL(rt_sigpending) {
    TRY(check_sigsetsize(args.a1));
    SigSet pending;
    {
        SpinlockGuard g(me().sighand->lock);
        pending = (self().signals.pending.set | me().sighand->shared.set) & self().signals.blocked;
    }
    TRY(UserOut<SigSet>(args.a0).write(pending));
    return 0;
}

SYSCALL(rt_sigsuspend) {
    TRY(check_sigsetsize(args.a1));
    SigSet mask = TRY(UserIn<SigSet>(args.a0).read());
    sig::ThreadSignals& ts = self().signals;
    {
        SpinlockGuard g(me().sighand->lock);
        ts.saved_mask = ts.blocked;
        ts.restore_mask = true;  // deliver() puts the old mask back
        ts.blocked = mask & ~sig::UNBLOCKABLE;
    }
    while (sched::sleep_ns_interruptible(~0ull / 2, nullptr)) {
    }
    return Error(sig::ERESTARTNOHAND);
}

SYSCALL(pause) {
    while (sched::sleep_ns_interruptible(~0ull / 2, nullptr)) {
    }
    return Error(sig::ERESTARTNOHAND);
}

SYSCALL(sigaltstack) {
    sig::ThreadSignals& ts = self().signals;
    bool on = ts.altstack_size && args.frame->rsp > ts.altstack_sp &&
              args.frame->rsp - ts.altstack_sp <= ts.altstack_size;
    stack_t old{};
    old.ss_sp = reinterpret_cast<void*>(ts.altstack_sp);
    old.ss_size = ts.altstack_size;
    old.ss_flags = on ? SS_ONSTACK : static_cast<int>(ts.altstack_flags & SS_DISABLE);
    if (args.a0) {
        stack_t ss = TRY(UserIn<stack_t>(args.a0).read());
        if (on) return Error(EPERM);
        int mode = ss.ss_flags & ~SS_AUTODISARM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) return Error(EINVAL);
        if (mode == SS_DISABLE) {
            ts.altstack_sp = 0;
            ts.altstack_size = 0;
            ts.altstack_flags = SS_DISABLE;
        } else {
            if (ss.ss_size < MINSIGSTKSZ) return Error(ENOMEM);
            ts.altstack_sp = reinterpret_cast<u64>(ss.ss_sp);
            ts.altstack_size = ss.ss_size;
            ts.altstack_flags = static_cast<u32>(ss.ss_flags & SS_AUTODISARM);
        }
    }
    if (args.a1) TRY(UserOut<stack_t>(args.a1).write(old));
    return 0;
}

SYSCALL(rt_sigtimedwait) {
    TRY(check_sigsetsize(args.a3));
    SigSet set = TRY(UserIn<SigSet>(args.a0).read()) & ~sig::UNBLOCKABLE;
    u64 timeout = ~0ull / 2;
    if (args.a2) {
        struct {
            i64 sec, nsec;
        } ts;
        TRY(copy_from_user(&ts, args.a2, sizeof(ts)));
        if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000) return Error(EINVAL);
        timeout = static_cast<u64>(ts.sec) * 1000000000 + static_cast<u64>(ts.nsec);
    }
    // The awaited signals are unblocked for the wait, so they can wake it.
    sig::ThreadSignals& t = self().signals;
    SigSet saved = t.blocked;
    siginfo_t info{};
    int got = sig::dequeue_from(set, &info);
    if (!got) {
        {
            SpinlockGuard g(me().sighand->lock);
            t.real_blocked = saved;
            t.blocked &= ~set;
        }
        sched::sleep_ns_interruptible(timeout, nullptr);
        {
            SpinlockGuard g(me().sighand->lock);
            t.blocked = saved;
            t.real_blocked = 0;
        }
        got = sig::dequeue_from(set, &info);
    }
    if (!got) return sig::interrupt_pending() ? Result<u64>(Error(EINTR)) : Result<u64>(Error(EAGAIN));
    if (args.a1) TRY(UserOut<siginfo_t>(args.a1).write(info));
    return static_cast<u64>(got);
}

namespace {

// kill(2)'s targets: a pid, the caller's group, every process, or a group.
Result<u64> kill_targets(int pid, int signo, const siginfo_t* info) {
    if (signo < 0 || signo > sig::NSIG_ALL) return Error(EINVAL);
    if (pid > 0) {
        proc::Process* p = proc::find_process(pid);
        if (!p) return Error(ESRCH);
        TRY(sig::send_to_process(*p, signo, info));
        return 0;
    }
    int pgid = pid == 0 ? me().pgid : -pid;
    bool all = pid == -1;
    int found = 0, sent = 0;
    Error last(ESRCH);
    proc::for_each_process([&](proc::Process& p) {
        if (all ? (p.pid == 1 || &p == &me()) : p.pgid != pgid) return;
        ++found;
        Status st = sig::send_to_process(p, signo, info);
        if (st.is_ok()) ++sent;
        else last = st.error();
    });
    if (!found) return Error(ESRCH);
    if (!sent) return last;
    return 0;
}

}  // namespace

SYSCALL(kill) { return kill_targets(static_cast<int>(args.a0), static_cast<int>(args.a1), nullptr); }

SYSCALL(tgkill) {
    int tgid = static_cast<int>(args.a0), tid = static_cast<int>(args.a1), signo = static_cast<int>(args.a2);
    if (tgid <= 0 || tid <= 0) return Error(EINVAL);
    sched::Thread* t = proc::find_thread(tid);
    if (!t || !t->process || t->process->pid != tgid) return Error(ESRCH);
    TRY(sig::send_to_thread(*t, signo, nullptr));
    return 0;
}

SYSCALL(tkill) {
    int tid = static_cast<int>(args.a0);
    if (tid <= 0) return Error(EINVAL);
    sched::Thread* t = proc::find_thread(tid);
    if (!t || !t->process) return Error(ESRCH);
    TRY(sig::send_to_thread(*t, static_cast<int>(args.a1), nullptr));
    return 0;
}

SYSCALL(rt_sigqueueinfo) {
    siginfo_t info = TRY(UserIn<siginfo_t>(args.a2).read());
    int pid = static_cast<int>(args.a0);
    // Only the kernel may claim SI_USER/SI_KERNEL-type codes for others.
    if ((info.si_code >= 0 || info.si_code == SI_TKILL) && pid != me().pid) return Error(EPERM);
    info.si_signo = static_cast<int>(args.a1);
    proc::Process* p = proc::find_process(pid);
    if (!p) return Error(ESRCH);
    TRY(sig::send_to_process(*p, static_cast<int>(args.a1), &info));
    return 0;
}

namespace {

// setitimer's struct (timevals) and the nanosecond setting it stands for.
struct KItimerval {
    struct {
        i64 sec, usec;
    } interval, value;
};

KItimerval to_itimerval(const ptimer::Setting& s) {
    KItimerval v{};
    v.interval = {static_cast<i64>(s.interval / 1000000000), static_cast<i64>(s.interval % 1000000000 / 1000)};
    v.value = {static_cast<i64>(s.value / 1000000000), static_cast<i64>(s.value % 1000000000 / 1000)};
    return v;
}

}  // namespace

SYSCALL(alarm) {
    ptimer::Setting old;
    ptimer::Setting s{static_cast<u32>(args.a0) * 1000000000ull, 0};
    TRY(ptimer::set_itimer(me(), ITIMER_REAL, s, &old));
    // Seconds left, rounded to nearest, and never 0 for a pending alarm.
    u64 secs = old.value / 1000000000;
    if ((!secs && old.value) || old.value % 1000000000 >= 500000000) ++secs;
    return secs;
}

SYSCALL(getitimer) {
    ptimer::Setting s = TRY(ptimer::get_itimer(me(), static_cast<int>(args.a0)));
    TRY(UserOut<KItimerval>(args.a1).write(to_itimerval(s)));
    return 0;
}

SYSCALL(setitimer) {
    ptimer::Setting s;
    if (args.a1) {  // a null value disarms, as Linux still allows
        KItimerval v = TRY(UserIn<KItimerval>(args.a1).read());
        if (v.value.usec < 0 || v.value.usec >= 1000000 || v.interval.usec < 0 || v.interval.usec >= 1000000 ||
            v.value.sec < 0 || v.interval.sec < 0)
            return Error(EINVAL);
        s.value = static_cast<u64>(v.value.sec) * 1000000000 + static_cast<u64>(v.value.usec) * 1000;
        s.interval = static_cast<u64>(v.interval.sec) * 1000000000 + static_cast<u64>(v.interval.usec) * 1000;
    }
    ptimer::Setting old;
    TRY(ptimer::set_itimer(me(), static_cast<int>(args.a0), s, args.a2 ? &old : nullptr));
    if (args.a2) TRY(UserOut<KItimerval>(args.a2).write(to_itimerval(old)));
    return 0;
}

}  // namespace keel
