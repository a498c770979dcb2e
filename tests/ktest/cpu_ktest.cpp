#include "arch/x86_64/cpu.h"
#include "kernel/ktest.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "lib/string_view.h"

using namespace keel;

KTEST(cpu, protections_enabled_where_supported) {
    auto leaf7 = arch::cpuid(7);
    u64 cr4 = arch::read_cr4();
    if (leaf7.ebx & (1u << 7)) KEXPECT(cr4 & arch::CR4_SMEP);
    if (leaf7.ebx & (1u << 20)) KEXPECT(cr4 & arch::CR4_SMAP);
    if (leaf7.ecx & (1u << 2)) KEXPECT(cr4 & arch::CR4_UMIP);
    KEXPECT(arch::read_cr0() & arch::CR0_WP);
}

KTEST(cpu, symbols_resolve) {
    uptr off = 1;
    const char* name = ksym_lookup(reinterpret_cast<uptr>(&ksym_lookup) + 3, &off);
    KASSERT_TRUE(name != nullptr);
    KEXPECT(StringView(name) == StringView("keel::ksym_lookup(unsigned long, unsigned long*)"));
    KEXPECT_EQ(off, 3);
}

KTEST(time, monotonic_advances) {
    u64 a = time::monotonic_ns();
    for (int i = 0; i < 10000; ++i) asm volatile("" ::: "memory");
    u64 b = time::monotonic_ns();
    KEXPECT(b > a);
    KEXPECT(time::tsc_khz() > 0);
}

namespace {
volatile bool fired = false;
volatile u64 fired_at = 0;
void on_fire(Timer*) {
    fired_at = time::monotonic_ns();
    fired = true;
}
}  // namespace

KTEST(time, oneshot_timer_fires_after_deadline) {
    Timer tm;
    tm.fn = on_fire;
    fired = false;
    u64 deadline = time::monotonic_ns() + 2000000;
    timer_arm(tm, deadline);
    u64 giveup = time::monotonic_ns() + 1000000000;
    while (!fired && time::monotonic_ns() < giveup) arch::cpu_relax();
    KEXPECT(fired);
    KEXPECT(fired_at >= deadline);
    KEXPECT(!timer_cancel(tm));
}

KTEST(time, cancelled_timer_does_not_fire) {
    Timer tm;
    tm.fn = on_fire;
    fired = false;
    timer_arm(tm, time::monotonic_ns() + 50000000);
    KEXPECT(timer_cancel(tm));
    u64 until = time::monotonic_ns() + 60000000;
    while (time::monotonic_ns() < until) arch::cpu_relax();
    KEXPECT(!fired);
}

// A head just behind the pending one-shot is not programmed (timer.cpp's
// kEarlyFireSlackNs): the one-shot fires early for the cancelled timer and
// its handler must program the real head, neither running it early nor
// losing it. (How late it runs says nothing here: on TCG an interrupt
// arrives some 60 us late, past the 20 us between the two.)
KTEST(time, timer_behind_cancelled_head_fires_on_time) {
    Timer first, second;
    first.fn = [](Timer*) {};
    second.fn = on_fire;
    fired = false;
    u64 d2;
    {
        arch::InterruptGuard ig;  // both armed on this CPU, before either fires
        u32 cpu = this_cpu_id_unstable();
        u64 d1 = time::monotonic_ns() + 300000;
        d2 = d1 + 20000;
        timer_arm(first, d1);
        if (timer_programmed_ns(cpu) != d1) {  // another timer is due sooner
            timer_cancel(first);
            t.skip("another timer is due within 300 us");
            return;
        }
        timer_arm(second, d2);
        KEXPECT_EQ(timer_programmed_ns(cpu), d1);  // no APIC write for second
        KEXPECT(timer_cancel(first));
    }
    u64 giveup = time::monotonic_ns() + 1000000000;
    while (!fired && time::monotonic_ns() < giveup) arch::cpu_relax();
    KEXPECT(fired);
    KEXPECT(fired_at >= d2);
    KEXPECT(!timer_cancel(second));
}
