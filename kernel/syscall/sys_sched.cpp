// Scheduling calls that exist before the full sched_* ABI (issue 4):
// affinity, priorities and nice values, scheduler queries.
#include <linux/resource.h>
#include <linux/sched.h>

#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

Result<sched::Thread*> thread_for(int pid) {
    if (pid < 0) return Error(EINVAL);
    if (pid == 0) return sched::current();
    sched::Thread* t = proc::find_thread(pid);
    if (!t) return Error(ESRCH);
    return t;
}

}  // namespace

SYSCALL(sched_getaffinity) {
    sched::Thread* t = TRY(thread_for(static_cast<int>(args.a0)));
    usize len = args.a1;
    // The mask is in units of longs and must cover every possible CPU.
    if (len < sizeof(u64) || (len & (sizeof(u64) - 1))) return Error(EINVAL);
    u32 ncpu = sched::online_cpus();
    u64 online = ncpu >= 64 ? ~0ull : (1ull << ncpu) - 1;
    u64 mask = t->affinity & online;
    TRY(UserOut<u64>(args.a2).write(mask));
    return sizeof(u64);
}

SYSCALL(sched_setaffinity) {
    sched::Thread* t = TRY(thread_for(static_cast<int>(args.a0)));
    if (args.a1 < sizeof(u64)) {
        u32 part = 0;
        TRY(copy_from_user(&part, args.a2, min<usize>(args.a1, sizeof(part))));
        TRY(sched::set_affinity(t, part));
        return 0;
    }
    u64 mask = TRY(UserIn<u64>(args.a2).read());
    TRY(sched::set_affinity(t, mask));
    return 0;
}

// getpriority returns 20 - nice (1..40) so that it is never negative.
SYSCALL(getpriority) {
    if (args.a0 != PRIO_PROCESS) return args.a0 <= PRIO_USER ? Result<u64>(Error(ESRCH)) : Error(EINVAL);
    sched::Thread* t = TRY(thread_for(static_cast<int>(args.a1)));
    return static_cast<u64>(20 - t->nice);
}

SYSCALL(setpriority) {
    if (args.a0 != PRIO_PROCESS) return args.a0 <= PRIO_USER ? Result<u64>(Error(ESRCH)) : Error(EINVAL);
    sched::Thread* t = TRY(thread_for(static_cast<int>(args.a1)));
    int nice = clamp(static_cast<int>(args.a2), -20, 19);
    // Raising priority needs CAP_SYS_NICE (or RLIMIT_NICE).
    if (nice < t->nice && !caps::capable(CAP_SYS_NICE)) return Error(EACCES);
    sched::set_nice(t, nice);
    return 0;
}

SYSCALL(sched_getscheduler) {
    TRY(thread_for(static_cast<int>(args.a0)));
    return SCHED_NORMAL;
}

SYSCALL(sched_getparam) {
    TRY(thread_for(static_cast<int>(args.a0)));
    TRY(UserOut<int>(args.a1).write(0));
    return 0;
}

SYSCALL(sched_get_priority_max) {
    int policy = static_cast<int>(args.a0);
    if (policy == SCHED_FIFO || policy == SCHED_RR) return 99;
    if (policy == SCHED_NORMAL || policy == SCHED_BATCH || policy == SCHED_IDLE || policy == SCHED_DEADLINE) return 0;
    return Error(EINVAL);
}

SYSCALL(sched_get_priority_min) {
    int policy = static_cast<int>(args.a0);
    if (policy == SCHED_FIFO || policy == SCHED_RR) return 1;
    if (policy == SCHED_NORMAL || policy == SCHED_BATCH || policy == SCHED_IDLE || policy == SCHED_DEADLINE) return 0;
    return Error(EINVAL);
}

}  // namespace keel
