// Scheduler tests on the running kernel: threads, sleeping, synchronisation,
// weights, affinity and cross-CPU calls.
#include "arch/x86_64/cpu.h"
#include "kernel/ktest.h"
#include "kernel/printk.h"
#include "kernel/percpu.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/wait.h"
#include "kernel/smp.h"
#include "kernel/cmdline.h"
#include "kernel/time.h"

namespace keel {
extern Cmdline kernel_cmdline;
}

using namespace keel;
using namespace keel::sched;

namespace {

struct Counter {
    Mutex lock;
    u64 value = 0;
    Completion done;
    u32 cpu_seen = ~0u;
};

void add_many(void* arg) {
    auto* c = static_cast<Counter*>(arg);
    for (int i = 0; i < 2000; ++i) {
        MutexGuard g(c->lock);
        u64 v = c->value;
        if ((i & 63) == 0) yield();  // invite interleaving inside the lock
        c->value = v + 1;
    }
    c->done.complete();
}

}  // namespace

KTEST(sched, threads_run_and_complete) {
    Counter c;
    const int n = 4;
    for (int i = 0; i < n; ++i) KASSERT_TRUE(spawn_kthread("ktest-add", add_many, &c).is_ok());
    for (int i = 0; i < n; ++i) c.done.wait();
    KEXPECT_EQ(c.value, 2000 * n);
}

KTEST(sched, sleep_lasts_at_least_requested) {
    u64 a = time::monotonic_ns();
    sleep_ns(3000000);
    u64 slept = time::monotonic_ns() - a;
    KEXPECT(slept >= 3000000);
    KEXPECT(slept < 500000000);
}

namespace {

struct Spinner {
    volatile bool* stop;
    Completion* done;
};

void spin_until_stopped(void* arg) {
    auto* s = static_cast<Spinner*>(arg);
    while (!*s->stop) arch::cpu_relax();
    s->done->complete();
}

}  // namespace

// Two CPU-bound threads on one CPU, nice 0 and nice 5, share CPU time as
// their weights 1024:335. Under -icount (keel.icount on the command line,
// tools/qemu_tests.py's ktest-sched-icount case) time is exact and the
// bound is 5%; on a loaded host without it, vCPU scheduling adds noise and
// only a 30% sanity bound holds.
KTEST(sched, nice_weights_share_cpu) {
    volatile bool stop = false;
    Completion done;
    Spinner s{&stop, &done};
    auto a = spawn_kthread("ktest-nice0", spin_until_stopped, &s, 0, 0);
    auto b = spawn_kthread("ktest-nice5", spin_until_stopped, &s, 5, 0);
    KASSERT_TRUE(a.is_ok() && b.is_ok());
    Thread* ta = a.value();
    Thread* tb = b.value();
    // Measure a window after both are running, so start-up order does not count.
    sleep_ns(50000000);
    u64 a0 = ta->se.sum_exec_runtime, b0 = tb->se.sum_exec_runtime;
    sleep_ns(300000000);
    u64 ra = ta->se.sum_exec_runtime - a0;
    u64 rb = tb->se.sum_exec_runtime - b0;
    stop = true;
    done.wait();
    done.wait();
    KASSERT_TRUE(rb > 0);
    u64 ratio_x100 = ra * 100 / rb;  // expect 1024/335 = 3.06
    bool exact = kernel_cmdline.has("keel.icount");
    u64 lo = exact ? 291 : 214, hi = exact ? 321 : 398;
    t.check(ratio_x100 >= lo && ratio_x100 <= hi, "nice 0 : nice 5 runtime ratio near 3.06", __FILE__, __LINE__);
    if (ratio_x100 < lo || ratio_x100 > hi) t.check_eq(ratio_x100, 306, "ratio x100", __FILE__, __LINE__);
}

namespace {

struct Sleeper {
    u64 slice_ns;
    u64 worst_late = 0;
    Completion done;
};

// Sleeps 1 ms forty times on a CPU shared with spinners and keeps the
// worst lateness.
void sleep_and_measure(void* arg) {
    auto* s = static_cast<Sleeper*>(arg);
    SchedParams p = get_params(*current());
    p.slice_ns = s->slice_ns;
    set_params(current(), p);
    for (int i = 0; i < 40; ++i) {
        u64 t0 = time::monotonic_ns();
        sleep_ns(1000000);
        u64 late = time::monotonic_ns() - t0 - 1000000;
        if (late > s->worst_late) s->worst_late = late;
    }
    s->done.complete();
}

u64 worst_wakeup_latency(u64 slice_ns) {
    volatile bool stop = false;
    Completion spun;
    Spinner sp{&stop, &spun};
    int spinners = 0;
    for (int i = 0; i < 2; ++i) spinners += spawn_kthread("ktest-spin", spin_until_stopped, &sp, 0, 0).is_ok();
    Sleeper s{slice_ns};
    bool slept = spawn_kthread("ktest-sleeper", sleep_and_measure, &s, 0, 0).is_ok();
    if (slept) s.done.wait();
    stop = true;
    for (int i = 0; i < spinners; ++i) spun.wait();
    return slept && spinners == 2 ? s.worst_late : ~0ull;
}

}  // namespace

// EEVDF's latency control: a thread that asks for a 0.5 ms slice
// (sched_setattr's sched_runtime) preempts default-slice spinners when it
// wakes (PREEMPT_SHORT), where a default-slice sleeper waits for the
// running spinner's request to end (RUN_TO_PARITY).
KTEST(sched, short_slice_wakes_sooner) {
    u64 dflt = worst_wakeup_latency(0);
    u64 shrt = worst_wakeup_latency(500000);
    KASSERT_TRUE(dflt != ~0ull && shrt != ~0ull);
    pr_info("ktest: worst wake-up lateness under load: default slice %llu ns, 0.5 ms slice %llu ns",
            static_cast<unsigned long long>(dflt), static_cast<unsigned long long>(shrt));
    if (kernel_cmdline.has("keel.icount")) {
        KEXPECT(shrt < dflt);
    }
    // A lost wake-up, not a measurement: 100 ms was missed once (154 ms) on
    // a heavily loaded host without icount.
    KEXPECT(dflt < 1000000000);
}

namespace {
void record_cpu(void* arg) {
    auto* c = static_cast<Counter*>(arg);
    c->cpu_seen = current_cpu_raw()->id;
    c->done.complete();
}
}  // namespace

KTEST(sched, affinity_is_honoured) {
    for (u32 cpu = 0; cpu < online_cpus(); ++cpu) {
        Counter c;
        KASSERT_TRUE(spawn_kthread("ktest-pin", record_cpu, &c, 0, static_cast<int>(cpu)).is_ok());
        c.done.wait();
        KEXPECT_EQ(c.cpu_seen, cpu);
    }
}

namespace {
void note_cpu(void* arg) { __atomic_fetch_or(static_cast<u64*>(arg), 1ull << current_cpu_raw()->id, __ATOMIC_RELAXED); }
}  // namespace

KTEST(smp, every_cpu_answers_calls) {
    u64 seen = 0;
    for (u32 cpu = 0; cpu < online_cpus(); ++cpu) smp_call_on(cpu, note_cpu, &seen);
    u64 all = online_cpus() >= 64 ? ~0ull : (1ull << online_cpus()) - 1;
    KEXPECT_EQ(seen, all);
    seen = 0;
    smp_call_others(note_cpu, &seen);
    KEXPECT_EQ(seen, all & ~(1ull << current_cpu_raw()->id));
}

KTEST(smp, work_spreads_over_cpus) {
    if (online_cpus() < 2) {
        t.skip("one CPU");
        return;
    }
    volatile bool stop = false;
    Completion done;
    Spinner s{&stop, &done};
    const u32 n = online_cpus();
    for (u32 i = 0; i < n; ++i) KASSERT_TRUE(spawn_kthread("ktest-spread", spin_until_stopped, &s).is_ok());
    sleep_ns(50000000);
    u32 busy = 0;
    for (u32 c = 0; c < n; ++c) busy += nr_running(c) > 0;
    stop = true;
    for (u32 i = 0; i < n; ++i) done.wait();
    KEXPECT_EQ(busy, n);
}
