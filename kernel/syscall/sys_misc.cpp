// Small process-wide calls: randomness, umask, rlimits, prctl, sysinfo,
// resource usage, process groups and sessions.
#include <linux/kernel.h>
#include <linux/prctl.h>
#include <linux/random.h>
#include <linux/resource.h>
#include <linux/securebits.h>
#include <linux/times.h>

#include "drivers/tty/tty.h"
#include "kernel/signal/handlers.h"
#include "kernel/percpu.h"
#include "kernel/process/caps.h"
#include "kernel/process/cputime.h"
#include "kernel/process/posix_timers.h"
#include "kernel/process/process.h"
#include "kernel/random.h"
#include "kernel/sched/scheduler.h"
#include "kernel/syscall/syscall.h"
#include "kernel/time.h"
#include "kernel/uaccess.h"
#include "lib/string.h"
#include "mm/page_alloc.h"

namespace keel {

using proc::current_process;

SYSCALL(getrandom) {
    u32 flags = static_cast<u32>(args.a2);
    if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) return Error(EINVAL);
    if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM)) return Error(EINVAL);
    usize len = min<usize>(args.a1, 0x7ffff000);  // MAX_RW_COUNT
    u8 chunk[256];
    usize done = 0;
    while (done < len) {
        usize n = min<usize>(sizeof(chunk), len - done);
        random_bytes(chunk, n);
        if (copy_to_user(args.a0 + done, chunk, n).is_error()) {
            if (done) break;
            return Error(EFAULT);
        }
        done += n;
    }
    return done;
}

SYSCALL(umask) {
    proc::Process* p = current_process();
    u32 old = p->umask;
    p->umask = static_cast<u32>(args.a0) & 0777;
    return old;
}

SYSCALL(sched_yield) {
    sched::yield();
    return 0;
}

SYSCALL(getcpu) {
    u32 cpu = current_cpu_raw()->id;
    if (args.a0) TRY(UserOut<u32>(args.a0).write(cpu));
    if (args.a1) TRY(UserOut<u32>(args.a1).write(0u));
    return 0;
}

SYSCALL(sysinfo) {
    struct sysinfo si{};
    si.uptime = static_cast<long>(time::monotonic_ns() / 1000000000);
    mm::MemStats m = mm::mem_stats();
    si.totalram = m.total_pages * 4096;
    si.freeram = m.free_pages * 4096;
    si.procs = 1;
    si.mem_unit = 1;
    TRY(UserOut<struct sysinfo>(args.a0).write(si));
    return 0;
}

namespace {
// prlimit64 on another process: the caller's real ids must match all of the
// target's (real, effective, saved), or it needs CAP_SYS_RESOURCE.
bool may_prlimit(const proc::Process& self, const proc::Process& target) {
    if (&self == &target) return true;
    const proc::Cred& c = self.cred;
    const proc::Cred& t = target.cred;
    if (c.ruid == t.euid && c.ruid == t.suid && c.ruid == t.ruid && c.rgid == t.egid && c.rgid == t.sgid &&
        c.rgid == t.rgid)
        return true;
    return caps::has(c, CAP_SYS_RESOURCE);
}
}  // namespace

SYSCALL(prlimit64) {
    int pid = static_cast<int>(args.a0);
    u32 resource = static_cast<u32>(args.a1);
    if (resource >= proc::RLIMIT_COUNT) return Error(EINVAL);
    proc::Process* self = current_process();
    rlimit64 want{};
    if (args.a2) {
        want = TRY(UserIn<rlimit64>(args.a2).read());
        if (want.rlim_cur > want.rlim_max) return Error(EINVAL);
    }
    proc::RLimit old;
    proc::lock_tree();
    Result<u64> r = [&]() -> Result<u64> {
        proc::Process* p = pid == 0 ? self : proc::process_slot(pid);
        if (pid < 0 || !p) return Error(ESRCH);
        if (!may_prlimit(*self, *p)) return Error(EPERM);
        proc::RLimit& lim = p->rlimits[resource];
        old = lim;
        if (args.a2) {
            if (want.rlim_max > lim.max && !caps::has(self->cred, CAP_SYS_RESOURCE)) return Error(EPERM);
            if (resource == RLIMIT_NOFILE && want.rlim_max > 1048576) return Error(EPERM);  // fs.nr_open
            lim = {want.rlim_cur, want.rlim_max};
            if (resource == RLIMIT_CPU) ptimer::rlimit_cpu_changed(*p);
        }
        return 0;
    }();
    proc::unlock_tree();
    if (r.is_error()) return r.error();
    if (args.a3) TRY(UserOut<rlimit64>(args.a3).write(rlimit64{old.cur, old.max}));
    return 0;
}

SYSCALL(getrlimit) {
    u32 resource = static_cast<u32>(args.a0);
    if (resource >= proc::RLIMIT_COUNT) return Error(EINVAL);
    proc::RLimit r = current_process()->rlimits[resource];
    TRY(UserOut<rlimit>(args.a1).write(rlimit{r.cur, r.max}));
    return 0;
}

SYSCALL(setrlimit) {
    u32 resource = static_cast<u32>(args.a0);
    if (resource >= proc::RLIMIT_COUNT) return Error(EINVAL);
    rlimit want = TRY(UserIn<rlimit>(args.a1).read());
    proc::Process* p = current_process();
    if (want.rlim_cur > want.rlim_max) return Error(EINVAL);
    if (want.rlim_max > p->rlimits[resource].max && !caps::has(p->cred, CAP_SYS_RESOURCE)) return Error(EPERM);
    p->rlimits[resource] = {want.rlim_cur, want.rlim_max};
    if (resource == RLIMIT_CPU) ptimer::rlimit_cpu_changed(*p);
    return 0;
}

namespace {

// The capability options of prctl (Linux answers them before the others).
Result<u64> cap_prctl(const sys::SyscallArgs& args) {
    proc::Cred& c = current_process()->cred;
    auto is_secure = [&](int b) { return (c.securebits >> b) & 1; };
    switch (args.a0) {
    case PR_CAPBSET_READ:
        if (!caps::valid(args.a1)) return Error(EINVAL);
        return (c.cap_bset >> args.a1) & 1;
    case PR_CAPBSET_DROP:
        if (!caps::has(c, CAP_SETPCAP)) return Error(EPERM);
        if (!caps::valid(args.a1)) return Error(EINVAL);
        c.cap_bset &= ~caps::bit(static_cast<int>(args.a1));
        return 0;
    case PR_GET_KEEPCAPS:
        return is_secure(SECURE_KEEP_CAPS);
    case PR_SET_KEEPCAPS:
        if (args.a1 > 1) return Error(EINVAL);
        if (is_secure(SECURE_KEEP_CAPS_LOCKED)) return Error(EPERM);
        c.securebits = (c.securebits & ~(1u << SECURE_KEEP_CAPS)) | (args.a1 ? 1u << SECURE_KEEP_CAPS : 0);
        return 0;
    case PR_GET_SECUREBITS:
        return c.securebits;
    case PR_SET_SECUREBITS: {
        u64 want = args.a1;
        u32 locks = c.securebits & SECURE_ALL_LOCKS;
        // A locked bit cannot change, a lock cannot be released, no unknown
        // bits, and CAP_SETPCAP is needed.
        if (((locks >> 1) & (c.securebits ^ want)) || (locks & ~want) ||
            (want & ~u64(SECURE_ALL_LOCKS | SECURE_ALL_BITS)) || !caps::has(c, CAP_SETPCAP))
            return Error(EPERM);
        c.securebits = static_cast<u32>(want);
        return 0;
    }
    case PR_CAP_AMBIENT:
        if (args.a1 == PR_CAP_AMBIENT_CLEAR_ALL) {
            if (args.a2 || args.a3 || args.a4) return Error(EINVAL);
            c.cap_ambient = 0;
            return 0;
        }
        if (!caps::valid(args.a2) || args.a3 || args.a4) return Error(EINVAL);
        switch (args.a1) {
        case PR_CAP_AMBIENT_IS_SET:
            return (c.cap_ambient >> args.a2) & 1;
        case PR_CAP_AMBIENT_RAISE: {
            u64 b = caps::bit(static_cast<int>(args.a2));
            if (!(c.cap_permitted & b) || !(c.cap_inheritable & b) || is_secure(SECURE_NO_CAP_AMBIENT_RAISE))
                return Error(EPERM);
            c.cap_ambient |= b;
            return 0;
        }
        case PR_CAP_AMBIENT_LOWER:
            c.cap_ambient &= ~caps::bit(static_cast<int>(args.a2));
            return 0;
        default:
            return Error(EINVAL);
        }
    default:
        return Error(ENOSYS);  // not a capability option
    }
}

}  // namespace

SYSCALL(prctl) {
    proc::Process* p = current_process();
    if (auto r = cap_prctl(args); r.is_ok() || r.error().code() != ENOSYS) return r;
    switch (args.a0) {
    case PR_SET_NAME: {
        char name[16] = {};
        auto n = strncpy_from_user(name, args.a1, sizeof(name), ENAMETOOLONG);
        if (n.is_error() && n.error().code() != ENAMETOOLONG) return n.error();
        name[15] = 0;  // longer names are cut, as Linux does
        str_lcpy(p->comm, name, sizeof(p->comm));
        return 0;
    }
    case PR_GET_NAME:
        TRY(copy_to_user(args.a1, p->comm, sizeof(p->comm)));
        return 0;
    case PR_SET_PDEATHSIG:
        if (args.a1 > 64) return Error(EINVAL);
        p->pdeath_signal = static_cast<int>(args.a1);
        return 0;
    case PR_GET_PDEATHSIG:
        TRY(UserOut<int>(args.a1).write(p->pdeath_signal));
        return 0;
    case PR_SET_CHILD_SUBREAPER:
        p->child_subreaper = args.a1 != 0;
        return 0;
    case PR_GET_CHILD_SUBREAPER:
        TRY(UserOut<int>(args.a1).write(p->child_subreaper ? 1 : 0));
        return 0;
    case PR_SET_DUMPABLE:
        if (args.a1 > 1) return Error(EINVAL);
        p->dumpable = static_cast<u8>(args.a1);
        return 0;
    case PR_GET_DUMPABLE:
        return p->dumpable;
    case PR_GET_TIMERSLACK:
        return sched::current()->timer_slack_ns;
    case PR_SET_TIMERSLACK: {
        sched::Thread* t = sched::current();
        t->timer_slack_ns = args.a1 ? args.a1 : t->default_timer_slack_ns;
        return 0;
    }
    case PR_SET_THP_DISABLE:
        if (args.a2 || args.a3 || args.a4) return Error(EINVAL);
        p->thp_disable = args.a1 != 0;
        return 0;
    case PR_GET_THP_DISABLE:
        if (args.a1 || args.a2 || args.a3 || args.a4) return Error(EINVAL);
        return p->thp_disable ? 1 : 0;
    case PR_SET_NO_NEW_PRIVS:
        if (args.a1 != 1 || args.a2 || args.a3 || args.a4) return Error(EINVAL);
        p->no_new_privs = true;
        return 0;
    case PR_GET_NO_NEW_PRIVS:
        if (args.a1 || args.a2 || args.a3 || args.a4) return Error(EINVAL);
        return p->no_new_privs ? 1 : 0;
    default:
        return Error(EINVAL);
    }
}

SYSCALL(getrusage) {
    int who = static_cast<int>(args.a0);
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD) return Error(EINVAL);
    cputime::Times t = who == RUSAGE_CHILDREN ? cputime::children_times(*current_process())
                       : who == RUSAGE_THREAD ? cputime::thread_times(*sched::current())
                                              : cputime::process_times(*current_process());
    rusage ru = cputime::to_rusage(t);
    if (who != RUSAGE_CHILDREN) {
        ru.ru_nvcsw = static_cast<long>(sched::current()->nvcsw);
        ru.ru_nivcsw = static_cast<long>(sched::current()->nivcsw);
    }
    TRY(UserOut<rusage>(args.a1).write(ru));
    return 0;
}

SYSCALL(times) {
    constexpr u64 USER_HZ = 100;
    if (args.a0) {
        tms t{};
        cputime::Times self = cputime::process_times(*current_process());
        cputime::Times children = cputime::children_times(*current_process());
        constexpr u64 TICK = 1000000000 / USER_HZ;
        t.tms_utime = static_cast<long>(self.user_ns / TICK);
        t.tms_stime = static_cast<long>(self.system_ns / TICK);
        t.tms_cutime = static_cast<long>(children.user_ns / TICK);
        t.tms_cstime = static_cast<long>(children.system_ns / TICK);
        TRY(UserOut<tms>(args.a0).write(t));
    }
    return time::monotonic_ns() / (1000000000 / USER_HZ);
}

namespace {
// getpgid/getsid of any process, zombies included (as Linux: until reaped).
Result<u64> id_of(int pid, bool session) {
    proc::Process* self = current_process();
    if (pid == 0) return static_cast<u64>(session ? self->sid : self->pgid);
    if (pid < 0) return Error(ESRCH);
    proc::lock_tree();
    proc::Process* p = proc::process_slot(pid);
    Result<u64> r = p ? Result<u64>(static_cast<u64>(session ? p->sid : p->pgid)) : Result<u64>(Error(ESRCH));
    proc::unlock_tree();
    return r;
}
}  // namespace

SYSCALL(getpgid) { return id_of(static_cast<int>(args.a0), false); }

SYSCALL(getpgrp) { return static_cast<u64>(current_process()->pgid); }

SYSCALL(getsid) { return id_of(static_cast<int>(args.a0), true); }

SYSCALL(setsid) {
    proc::Process* p = current_process();
    // EPERM while any process group has the caller's pid as its id.
    bool group_exists = false;
    proc::for_each_process([&](proc::Process& q) { group_exists |= q.pgid == p->pid; });
    if (group_exists) return Error(EPERM);
    p->sid = p->pgid = p->pid;
    tty::setsid_ctty(*p);  // a new session starts without a terminal
    return static_cast<u64>(p->sid);
}

// Linux's rules: the caller or one of its children, in the caller's
// session, not a session leader, into a group of that session.
SYSCALL(setpgid) {
    int pid = static_cast<int>(args.a0);
    int pgid = static_cast<int>(args.a1);
    proc::Process* self = current_process();
    if (pgid < 0) return Error(EINVAL);
    if (pid == 0) pid = self->pid;
    if (pgid == 0) pgid = pid;
    proc::lock_tree();
    Result<u64> r = [&]() -> Result<u64> {
        proc::Process* p = proc::process_slot(pid);
        if (!p || p->state != proc::ProcessState::Running) return Error(ESRCH);
        if (p != self && p->parent != self) return Error(ESRCH);
        if (p != self && p->sid != self->sid) return Error(EPERM);
        if (p->sid == p->pid) return Error(EPERM);  // a session leader cannot move
        if (pgid != pid) {
            // Zombies are still members until reaped (a pipeline's first stage).
            bool found = false;
            for (int i = 1; i < 32768 && !found; ++i) {
                proc::Process* q = proc::process_slot(i);
                found = q && q->pgid == pgid && q->sid == self->sid;
            }
            if (!found) return Error(EPERM);
        }
        p->pgid = pgid;
        return 0;
    }();
    proc::unlock_tree();
    return r;
}

}  // namespace keel
