#include "kernel/process/cputime.h"

#include <linux/time.h>

#include "arch/x86_64/cpu.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/handlers.h"
#include "kernel/time.h"

namespace keel::cputime {

namespace {

u64 user_ns_of(const sched::Thread& t) {
    for (;;) {
        u32 seq = __atomic_load_n(&t.utime_seq, __ATOMIC_ACQUIRE);
        if (seq & 1) {
            arch::cpu_relax();
            continue;
        }
        u64 user = __atomic_load_n(&t.utime_tsc, __ATOMIC_RELAXED);
        u64 since = __atomic_load_n(&t.user_since_tsc, __ATOMIC_RELAXED);
        if (__atomic_load_n(&t.utime_seq, __ATOMIC_ACQUIRE) != seq) continue;
        if (since) {
            u64 now = arch::rdtsc();
            if (now > since) user += now - since;
        }
        // One conversion of the sum: successive readings never go back.
        return time::tsc_to_ns(user);
    }
}

}  // namespace

void enter_kernel() {
    arch::InterruptGuard no_irqs;
    enter_kernel_irqs_off();
}

void enter_user() {
    arch::InterruptGuard no_irqs;
    enter_user_irqs_off();
}

rusage to_rusage(const Times& t) {
    rusage ru{};
    ru.ru_utime.tv_sec = static_cast<long>(t.user_ns / 1000000000);
    ru.ru_utime.tv_usec = static_cast<long>(t.user_ns % 1000000000 / 1000);
    ru.ru_stime.tv_sec = static_cast<long>(t.system_ns / 1000000000);
    ru.ru_stime.tv_usec = static_cast<long>(t.system_ns % 1000000000 / 1000);
    return ru;
}

Times thread_times(const sched::Thread& t) {
    // User time first: the total read after it cannot be smaller.
    u64 user = user_ns_of(t);
    u64 total = sched::runtime_ns(t);
    return {user, total > user ? total - user : 0};
}

Times process_times(proc::Process& p) {
    Times sum;
    SpinlockGuard g(p.sighand->lock);  // the thread list changes under it too
    sum.user_ns = p.dead_utime_ns;
    sum.system_ns = p.dead_runtime_ns > p.dead_utime_ns ? p.dead_runtime_ns - p.dead_utime_ns : 0;
    p.threads.for_each([&](sched::Thread& t) {
        Times tt = thread_times(t);
        sum.user_ns += tt.user_ns;
        sum.system_ns += tt.system_ns;
    });
    return sum;
}

Times children_times(const proc::Process& p) {
    return {__atomic_load_n(&p.children_utime_ns, __ATOMIC_RELAXED),
            __atomic_load_n(&p.children_stime_ns, __ATOMIC_RELAXED)};
}

void thread_exited(proc::Process& p, sched::Thread& t) {
    enter_kernel();
    Times tt = thread_times(t);
    SpinlockGuard g(p.sighand->lock);
    p.dead_utime_ns += tt.user_ns;
    p.dead_runtime_ns += tt.total();
}

Times child_reaped(proc::Process& parent, proc::Process& child) {
    // A zombie has no threads left: its own figures are final.
    u64 user = child.dead_utime_ns + child.children_utime_ns;
    u64 sys = (child.dead_runtime_ns > child.dead_utime_ns ? child.dead_runtime_ns - child.dead_utime_ns : 0) +
              child.children_stime_ns;
    __atomic_fetch_add(&parent.children_utime_ns, user, __ATOMIC_RELAXED);
    __atomic_fetch_add(&parent.children_stime_ns, sys, __ATOMIC_RELAXED);
    return {user, sys};
}

bool is_cpu_clock(int clock) {
    return clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID || (clock < 0 && (clock & 7) != 3);
}

Result<CpuClock> resolve(int clock, bool gettime) {
    proc::Process& me = *proc::current_process();
    sched::Thread& self = *sched::current();
    if (clock == CLOCK_PROCESS_CPUTIME_ID) return CpuClock{&me, nullptr, SCHED};
    if (clock == CLOCK_THREAD_CPUTIME_ID) return CpuClock{&me, &self, SCHED};
    if (clock >= 0 || (clock & 7) == 3) return Error(EINVAL);  // 3: a clock from a file descriptor
    int which = clock & 3;
    bool thread = clock & 4;
    int id = ~(clock >> 3);
    if (which > SCHED) return Error(EINVAL);
    if (id == 0) return thread ? CpuClock{&me, &self, which} : CpuClock{&me, nullptr, which};
    if (thread) {
        sched::Thread* t = proc::find_thread(id);
        if (!t || t->process != &me) return Error(EINVAL);
        return CpuClock{&me, t, which};
    }
    if (id == me.pid || (gettime && id == self.user_tid)) return CpuClock{&me, nullptr, which};
    proc::Process* p = proc::find_process(id);
    if (!p) return Error(EINVAL);
    return CpuClock{p, nullptr, which};
}

u64 read(const CpuClock& c) {
    Times t = c.thread ? thread_times(*c.thread) : process_times(*c.process);
    return sample(t, c.which);
}

}  // namespace keel::cputime
