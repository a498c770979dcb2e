// PSI on the running kernel: private groups driven by hand (no scheduler
// involved), read back through the pressure-file text, averaged by psimon
// and watched by triggers.
#include "fs/proc/seq.h"
#include "kernel/ktest.h"
#include "kernel/psi/psi_internal.h"
#include "kernel/sched/scheduler.h"
#include "kernel/time.h"
#include "lib/string.h"

using namespace keel;
using namespace keel::psi;

namespace {

constexpr u64 kMs = 1000000;

// "total=" of the line starting with `kind` in a pressure file's text.
u64 total_of(const fs::SeqBuf& b, const char* kind) {
    StringView v = b.view();
    for (usize i = 0; i + 4 <= v.size(); ++i) {
        if ((i == 0 || v[i - 1] == '\n') && memcmp(v.data() + i, kind, 4) == 0) {
            for (usize j = i; j + 6 <= v.size() && v[j] != '\n'; ++j) {
                if (memcmp(v.data() + j, "total=", 6) != 0) continue;
                u64 n = 0;
                for (usize k = j + 6; k < v.size() && v[k] >= '0' && v[k] <= '9'; ++k) n = n * 10 + (v[k] - '0');
                return n;
            }
        }
    }
    return ~0ull;
}

struct Fired {
    int count = 0;
};

void on_event(Trigger& t) { __atomic_add_fetch(&static_cast<Fired*>(t.owner)->count, 1, __ATOMIC_RELAXED); }

}  // namespace

KTEST(psi, private_group_accounts_cpu_stall) {
    auto made = group_create(nullptr);
    KASSERT_TRUE(made.is_ok());
    PsiGroup* g = made.value();
    // Two tasks on the last CPU's slot of the group since 300 ms ago, one on
    // the CPU: 300 ms of CPU SOME, no FULL, no IO or memory stall.
    const u32 last = sched::online_cpus() - 1;
    u64 start = time::monotonic_ns() - 300 * kMs;
    group_change_for_test(*g, last, 0, TSK_RUNNING | TSK_ONCPU, start);
    group_change_for_test(*g, last, 0, TSK_RUNNING, start);
    fs::SeqBuf cpu, io;
    show(*g, RES_CPU, cpu);
    show(*g, RES_IO, io);
    u64 some = total_of(cpu, "some");
    KEXPECT(some >= 300000 && some < 10000000);
    KEXPECT_EQ(total_of(cpu, "full"), 0);  // not the system group, but nothing waits alone
    KEXPECT_EQ(total_of(io, "some"), 0);
    // The waiting task leaves: SOME stops growing.
    group_change_for_test(*g, last, TSK_RUNNING, 0, time::monotonic_ns());
    fs::SeqBuf a, b;
    show(*g, RES_CPU, a);
    sched::sleep_ns(20 * kMs);
    show(*g, RES_CPU, b);
    KEXPECT_EQ(total_of(a, "some"), total_of(b, "some"));
    group_change_for_test(*g, last, TSK_RUNNING | TSK_ONCPU, 0, time::monotonic_ns());
    group_destroy(g);
}

KTEST(psi, runnable_without_cpu_is_full) {
    PsiGroup* g = group_create(nullptr).value();
    u64 start = time::monotonic_ns() - 100 * kMs;
    group_change_for_test(*g, 0, 0, TSK_RUNNING, start);  // runnable, never on the CPU
    fs::SeqBuf cpu;
    show(*g, RES_CPU, cpu);
    KEXPECT(total_of(cpu, "full") >= 100000);
    KEXPECT_EQ(total_of(cpu, "full"), total_of(cpu, "some"));
    group_change_for_test(*g, 0, TSK_RUNNING, 0, time::monotonic_ns());
    group_destroy(g);
}

KTEST(psi, psimon_updates_averages_and_stops_when_idle) {
    PsiGroup* g = group_create(nullptr).value();
    u64 start = time::monotonic_ns();
    group_change_for_test(*g, 0, 0, TSK_RUNNING | TSK_ONCPU, start);
    group_change_for_test(*g, 0, 0, TSK_RUNNING, start);
    // One period (2.004 s) of 100% SOME: psimon samples it without any
    // reader; avg10 = 18.11% = 37100 in fixed point (give or take the
    // sampling delay).
    sched::sleep_ns(PERIOD_NS + 300 * kMs);
    u64 avg10;
    u64 due;
    {
        SpinlockGuard l(psi_lock);
        avg10 = core_of(*g).avg[CPU_SOME][0];
        due = __atomic_load_n(&g->avgs_due, __ATOMIC_ACQUIRE);
    }
    KEXPECT(avg10 > 30000 && avg10 < 38000);
    KEXPECT(due != 0);  // still busy: the clock keeps running
    u64 end = time::monotonic_ns();
    group_change_for_test(*g, 0, TSK_RUNNING, 0, end);
    group_change_for_test(*g, 0, TSK_RUNNING | TSK_ONCPU, 0, end);
    // Idle for a whole period after the one that saw the last activity:
    // the clock stops.
    sched::sleep_ns(2 * PERIOD_NS + 300 * kMs);
    {
        SpinlockGuard l(psi_lock);
        due = __atomic_load_n(&g->avgs_due, __ATOMIC_ACQUIRE);
    }
    KEXPECT_EQ(due, 0);
    group_destroy(g);
}

KTEST(psi, privileged_trigger_fires_and_group_end_detaches_it) {
    // No event comes within a window of time 0 (as in Linux, whose clock
    // also starts at boot): start past that.
    while (time::monotonic_ns() < 1000 * kMs) sched::sleep_ns(50 * kMs);
    PsiGroup* g = group_create(nullptr).value();
    Fired fired;
    Trigger trig;
    trig.notify = on_event;
    trig.owner = &fired;
    auto spec = parse_trigger("some 50000 500000", RES_CPU, true);
    KASSERT_TRUE(spec.is_ok());
    {
        SpinlockGuard l(psi_lock);
        trigger_add(core_of(*g), trig, spec.value(), true, time::monotonic_ns());
    }
    u64 start = time::monotonic_ns();
    group_change_for_test(*g, 0, 0, TSK_RUNNING | TSK_ONCPU, start);
    group_change_for_test(*g, 0, 0, TSK_RUNNING, start);
    // 50 ms of stall in a 500 ms window, checked every 50 ms: an event
    // within about 100 ms; then at most one per window.
    u64 waited = 0;
    while (__atomic_load_n(&fired.count, __ATOMIC_RELAXED) == 0 && waited < 2000 * kMs) {
        sched::sleep_ns(10 * kMs);
        waited += 10 * kMs;
    }
    KEXPECT_EQ(__atomic_load_n(&fired.count, __ATOMIC_RELAXED), 1);
    KEXPECT(time::monotonic_ns() - start < 400 * kMs);
    KEXPECT(trigger_take_event(trig));
    sched::sleep_ns(300 * kMs);
    KEXPECT(__atomic_load_n(&fired.count, __ATOMIC_RELAXED) <= 2);
    u64 end = time::monotonic_ns();
    group_change_for_test(*g, 0, TSK_RUNNING, 0, end);
    group_change_for_test(*g, 0, TSK_RUNNING | TSK_ONCPU, 0, end);
    int before = __atomic_load_n(&fired.count, __ATOMIC_RELAXED);
    // Destroying the group unlinks the trigger and tells its owner once.
    group_destroy(g);
    KEXPECT(!trig.node.linked());
    KEXPECT_EQ(__atomic_load_n(&fired.count, __ATOMIC_RELAXED), before + 1);
}

KTEST(psi, system_files_have_linux_format) {
    fs::SeqBuf b;
    show(*system_group(), RES_CPU, b);
    StringView v = b.view();
    KEXPECT(v.size() > 0);
    KEXPECT(memcmp(v.data(), "some avg10=", 11) == 0);
    // The system group never reports CPU FULL.
    const char* full = "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    usize n = strlen(full);
    KEXPECT(v.size() >= n && memcmp(v.data() + v.size() - n, full, n) == 0);
}
