// The sched_* family: policies and priorities (sched_setattr and the older
// calls), the RR interval, affinity. Validation follows Linux's order, so
// a call that breaks several rules gets the errno Linux gives.
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/sched/types.h>

#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/time.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

constexpr u64 PAGE = 4096;
constexpr int KEEP_POLICY = -1;  // sched_setparam and SCHED_FLAG_KEEP_POLICY

bool valid_policy(int p) {
    return p == SCHED_NORMAL || p == SCHED_FIFO || p == SCHED_RR || p == SCHED_BATCH || p == SCHED_IDLE ||
           p == SCHED_DEADLINE;
}
bool rt_policy(int p) { return p == SCHED_FIFO || p == SCHED_RR; }

// The thread `pid` names (0: the caller), under the process-tree lock so it
// cannot be freed while it is changed.
template <typename F>
Result<u64> with_thread(int pid, F&& f) {
    if (pid == 0) return f(sched::current());
    proc::lock_tree();
    sched::Thread* t = proc::find_thread(pid);
    Result<u64> r = t ? f(t) : Result<u64>(Error(ESRCH));
    proc::unlock_tree();
    return r;
}

u64 rlimit_cur(int which) { return proc::current_process()->rlimits[which].cur; }

// SCHED_DEADLINE's parameter rules: runtime <= deadline <= period, the
// runtime at least 1024 ns, the period within sched_deadline_period_{min,max}_us
// (100 us .. 4194304 us).
bool deadline_params_ok(const sched_attr& a) {
    if (a.sched_deadline == 0 || a.sched_runtime < 1024) return false;
    if ((a.sched_deadline | a.sched_period) >> 63) return false;
    u64 period = a.sched_period ? a.sched_period : a.sched_deadline;
    if (period < a.sched_deadline || a.sched_deadline < a.sched_runtime) return false;
    return period >= 100000 && period <= 4194304000ull;
}

// Linux's check_same_owner: the caller's effective uid is the target's
// real or effective uid.
bool same_owner(const sched::Thread& t) {
    u32 me = proc::current_process()->cred.euid;
    return !t.process || t.process->cred.ruid == me || t.process->cred.euid == me;
}

// SCHED_NORMAL and SCHED_BATCH: the policies whose nice value and slice
// request sched_setattr sets (SCHED_IDLE keeps them).
bool nice_policy(int p) { return p == SCHED_NORMAL || p == SCHED_BATCH; }

// The rules for a caller without CAP_SYS_NICE: it may only make its own
// threads nicer, up to the target's RLIMIT_NICE and RLIMIT_RTPRIO.
Status check_permission(const sched::Thread& t, const sched::SchedParams& old, const sched::SchedParams& p) {
    if (caps::capable(CAP_SYS_NICE)) return {};
    if (!same_owner(t)) return Error(EPERM);
    auto limit = [&](int which) { return t.process ? t.process->rlimits[which].cur : rlimit_cur(which); };
    auto can_nice = [&](int nice) { return static_cast<u64>(20 - nice) <= limit(RLIMIT_NICE); };
    if (nice_policy(p.policy) && p.nice < old.nice && !can_nice(p.nice)) return Error(EPERM);
    if (rt_policy(p.policy)) {
        u64 rtprio = limit(RLIMIT_RTPRIO);
        if (p.policy != old.policy && !rtprio) return Error(EPERM);
        if (p.rt_priority > old.rt_priority && static_cast<u64>(p.rt_priority) > rtprio) return Error(EPERM);
    }
    if (old.policy == SCHED_IDLE && p.policy != SCHED_IDLE && !can_nice(old.nice)) return Error(EPERM);
    if (old.reset_on_fork && !p.reset_on_fork) return Error(EPERM);
    return {};
}

// The common core of sched_setattr, sched_setscheduler and sched_setparam.
// keeps_nice: sched_setscheduler/setparam, which leave nice and the slice
// request as they are (a holds their current values).
Result<u64> setscheduler(sched::Thread* t, const sched_attr& a, int policy, bool keeps_nice = false) {
    sched::SchedParams old = sched::get_params(*t);
    sched::SchedParams p = old;
    u32 fields = sched::PARAM_POLICY;
    if (policy == KEEP_POLICY) {
        policy = old.policy;
    } else {
        if (!valid_policy(policy)) return Error(EINVAL);
        p.reset_on_fork = a.sched_flags & SCHED_FLAG_RESET_ON_FORK;
        fields |= sched::PARAM_RESET_ON_FORK;
    }
    if (a.sched_flags & ~u64(SCHED_FLAG_ALL)) return Error(EINVAL);
    if (a.sched_priority > 99) return Error(EINVAL);
    if (rt_policy(policy) != (a.sched_priority != 0)) return Error(EINVAL);
    if (policy == SCHED_DEADLINE) {
        if (!deadline_params_ok(a)) return Error(EINVAL);
        // Linux refuses SCHED_DEADLINE to unprivileged callers outright; for
        // the others Keel's admission control admits nothing (no deadline
        // class, docs/syscalls.md).
        return Error(caps::capable(CAP_SYS_NICE) ? EBUSY : EPERM);
    }
    p.policy = policy;
    p.rt_priority = static_cast<int>(a.sched_priority);
    if (!(a.sched_flags & SCHED_FLAG_KEEP_PARAMS) && nice_policy(policy)) {
        p.nice = a.sched_nice;
        p.slice_ns = a.sched_runtime;
        if (!keeps_nice) fields |= sched::PARAM_NICE | sched::PARAM_SLICE;
    }
    TRY(check_permission(*t, old, p));
    // Debian's kernel has no utilisation clamping (CONFIG_UCLAMP_TASK off).
    if (a.sched_flags & SCHED_FLAG_UTIL_CLAMP) return Error(EOPNOTSUPP);
    // KEEP_PARAMS keeps the policy too: Linux sets both in one step.
    if (a.sched_flags & SCHED_FLAG_KEEP_PARAMS) fields &= ~u32(sched::PARAM_POLICY);
    sched::set_params(t, p, fields);
    return 0;
}

// sched_setscheduler and sched_setparam: a struct sched_param.
Result<u64> setscheduler_param(int pid, int policy, uptr param) {
    if (!param || pid < 0) return Error(EINVAL);
    int prio = TRY(UserIn<int>(param).read());
    sched_attr a{};
    a.sched_priority = static_cast<u32>(prio);
    if (policy != KEEP_POLICY && (policy & SCHED_RESET_ON_FORK)) {
        a.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
        policy &= ~SCHED_RESET_ON_FORK;
    }
    return with_thread(pid, [&](sched::Thread* t) -> Result<u64> {
        // The old calls leave the nice value and the slice request alone.
        sched::SchedParams cur = sched::get_params(*t);
        a.sched_nice = cur.nice;
        a.sched_runtime = cur.slice_ns;
        return setscheduler(t, a, policy, true);
    });
}

void fill_attr(const sched::Thread& t, sched_attr& a) {
    sched::SchedParams p = sched::get_params(t);
    a = {};
    a.size = sizeof(sched_attr);
    a.sched_policy = static_cast<u32>(p.policy);
    if (p.reset_on_fork) a.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
    if (rt_policy(p.policy)) {
        a.sched_priority = static_cast<u32>(p.rt_priority);
    } else {
        a.sched_nice = p.nice;
        a.sched_runtime = sched::effective_slice_ns(t);
    }
}

}  // namespace

SYSCALL(sched_setattr) {
    int pid = static_cast<int>(args.a0);
    uptr uattr = args.a1;
    if (!uattr || pid < 0 || args.a2) return Error(EINVAL);
    u32 size = TRY(UserIn<u32>(uattr).read());
    if (size == 0) size = SCHED_ATTR_SIZE_VER0;
    sched_attr a{};
    Status copied = size < SCHED_ATTR_SIZE_VER0 || size > PAGE ? Status(Error(E2BIG))
                                                               : copy_struct_from_user(&a, sizeof(a), uattr, size);
    if (copied.is_error()) {
        if (copied.error().code() == E2BIG) (void)UserOut<u32>(uattr).write(static_cast<u32>(sizeof(sched_attr)));
        return copied.error();
    }
    if ((a.sched_flags & SCHED_FLAG_UTIL_CLAMP) && size < SCHED_ATTR_SIZE_VER1) return Error(EINVAL);
    a.sched_nice = clamp(a.sched_nice, -20, 19);
    if (static_cast<int>(a.sched_policy) < 0) return Error(EINVAL);
    int policy = (a.sched_flags & SCHED_FLAG_KEEP_POLICY) ? KEEP_POLICY : static_cast<int>(a.sched_policy);
    return with_thread(pid, [&](sched::Thread* t) -> Result<u64> {
        if (a.sched_flags & SCHED_FLAG_KEEP_PARAMS) {
            sched_attr cur;
            fill_attr(*t, cur);
            a.sched_priority = cur.sched_priority;
            a.sched_nice = cur.sched_nice;
        }
        return setscheduler(t, a, policy);
    });
}

SYSCALL(sched_getattr) {
    int pid = static_cast<int>(args.a0);
    uptr uattr = args.a1;
    usize size = args.a2;
    if (!uattr || pid < 0 || size > PAGE || size < SCHED_ATTR_SIZE_VER0 || args.a3) return Error(EINVAL);
    sched_attr a{};
    TRY(with_thread(pid, [&](sched::Thread* t) -> Result<u64> {
        fill_attr(*t, a);
        return 0;
    }));
    // A shorter struct gets what fits; a longer one, Linux's size.
    a.size = static_cast<u32>(min<usize>(size, sizeof(a)));
    TRY(copy_to_user(uattr, &a, a.size));
    return 0;
}

SYSCALL(sched_setscheduler) {
    int policy = static_cast<int>(args.a1);
    if (policy < 0) return Error(EINVAL);
    return setscheduler_param(static_cast<int>(args.a0), policy, args.a2);
}

SYSCALL(sched_setparam) { return setscheduler_param(static_cast<int>(args.a0), KEEP_POLICY, args.a1); }

SYSCALL(sched_getscheduler) {
    int pid = static_cast<int>(args.a0);
    if (pid < 0) return Error(EINVAL);
    return with_thread(pid, [](sched::Thread* t) -> Result<u64> {
        sched::SchedParams p = sched::get_params(*t);
        return static_cast<u64>(p.policy | (p.reset_on_fork ? SCHED_RESET_ON_FORK : 0));
    });
}

SYSCALL(sched_getparam) {
    int pid = static_cast<int>(args.a0);
    if (!args.a1 || pid < 0) return Error(EINVAL);
    int prio = 0;
    TRY(with_thread(pid, [&](sched::Thread* t) -> Result<u64> {
        prio = sched::get_params(*t).rt_priority;
        return 0;
    }));
    TRY(UserOut<int>(args.a1).write(prio));
    return 0;
}

SYSCALL(sched_rr_get_interval) {
    int pid = static_cast<int>(args.a0);
    if (pid < 0) return Error(EINVAL);
    u64 ns = 0;
    TRY(with_thread(pid, [&](sched::Thread* t) -> Result<u64> {
        sched::SchedParams p = sched::get_params(*t);
        if (p.policy == SCHED_RR) {
            ns = sched::RR_TIMESLICE_NS;
        } else if (p.policy != SCHED_FIFO) {
            // Linux reports a fair thread's slice in whole jiffies (HZ=250
            // in Debian's kernel): 0 for the default sub-4 ms slices.
            constexpr u64 JIFFY = time::JIFFY_NS;
            ns = sched::effective_slice_ns(*t) / JIFFY * JIFFY;
        }
        return 0;
    }));
    struct {
        long sec, nsec;
    } ts = {static_cast<long>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    TRY(copy_to_user(args.a1, &ts, sizeof(ts)));
    return 0;
}

SYSCALL(sched_get_priority_max) {
    int policy = static_cast<int>(args.a0);
    if (rt_policy(policy)) return 99;
    if (valid_policy(policy)) return 0;
    return Error(EINVAL);
}

SYSCALL(sched_get_priority_min) {
    int policy = static_cast<int>(args.a0);
    if (rt_policy(policy)) return 1;
    if (valid_policy(policy)) return 0;
    return Error(EINVAL);
}

SYSCALL(sched_getaffinity) {
    usize len = args.a1;
    // The mask is in units of longs and must cover every possible CPU.
    if (len < sizeof(u64) || (len & (sizeof(u64) - 1))) return Error(EINVAL);
    u64 mask = 0;
    TRY(with_thread(static_cast<int>(args.a0), [&](sched::Thread* t) -> Result<u64> {
        mask = t->allowed_cpus() & sched::online_mask();
        return 0;
    }));
    TRY(UserOut<u64>(args.a2).write(mask));
    return sizeof(u64);
}

SYSCALL(sched_setaffinity) {
    int pid = static_cast<int>(args.a0);
    if (pid < 0) return Error(ESRCH);
    u64 mask = 0;
    TRY(copy_from_user(&mask, args.a2, min<usize>(args.a1, sizeof(mask))));
    // Under the tree lock (a mutex: the move may reschedule) so that the
    // thread cannot be freed meanwhile.
    return with_thread(pid, [&](sched::Thread* t) -> Result<u64> {
        if (!caps::capable(CAP_SYS_NICE) && !same_owner(*t)) return Error(EPERM);
        TRY(sched::set_affinity(t, mask));
        return 0;
    });
}

}  // namespace keel
