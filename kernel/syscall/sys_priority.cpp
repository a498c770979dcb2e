// nice values through getpriority/setpriority, for one thread, a process
// group or a user's threads (glibc's nice() is built on these).
#include <linux/resource.h>

#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/syscall/syscall.h"

namespace keel {

namespace {

// Calls f(thread) for every thread `which`/`who` selects, under the
// process-tree lock. ESRCH when none matched; EINVAL for a bad `which`.
template <typename F>
Status for_each_target(u64 which, int who, F&& f) {
    if (which > PRIO_USER) return Error(EINVAL);
    proc::Process* self = proc::current_process();
    bool found = false;
    if (which == PRIO_PROCESS) {
        proc::lock_tree();
        sched::Thread* t = who ? proc::find_thread(who) : sched::current();
        Status st = t ? f(*t) : Status(Error(ESRCH));
        proc::unlock_tree();
        return st;
    }
    int pgid = who ? who : self->pgid;
    u32 uid = who ? static_cast<u32>(who) : self->cred.ruid;
    Status result;
    proc::for_each_process([&](proc::Process& p) {
        if (which == PRIO_PGRP ? p.pgid != pgid : p.cred.ruid != uid) return;
        for (sched::Thread* t = p.threads.front(); t; t = p.threads.next(*t)) {
            found = true;
            Status st = f(*t);
            if (st.is_error()) result = st;
        }
    });
    if (!found) return Error(ESRCH);
    return result;
}

}  // namespace

// getpriority returns 20 - nice (1..40) so that it is never negative; the
// highest priority among the targets.
SYSCALL(getpriority) {
    int best = 0;
    TRY(for_each_target(args.a0, static_cast<int>(args.a1), [&](sched::Thread& t) -> Status {
        best = max(best, 20 - t.nice);
        return {};
    }));
    return static_cast<u64>(best);
}

SYSCALL(setpriority) {
    int nice = clamp(static_cast<int>(args.a2), -20, 19);
    proc::Process* self = proc::current_process();
    TRY(for_each_target(args.a0, static_cast<int>(args.a1), [&](sched::Thread& t) -> Status {
        bool privileged = caps::capable(CAP_SYS_NICE);
        if (!privileged && t.process && t.process->cred.euid != self->cred.euid &&
            t.process->cred.ruid != self->cred.euid)
            return Error(EPERM);
        // Raising priority needs CAP_SYS_NICE or room under RLIMIT_NICE.
        if (nice < t.nice && !privileged && static_cast<u64>(20 - nice) > self->rlimits[RLIMIT_NICE].cur)
            return Error(EACCES);
        sched::set_nice(&t, nice);
        return {};
    }));
    return 0;
}

}  // namespace keel
