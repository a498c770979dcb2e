#include "kernel/time.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pit.h"
#include "arch/x86_64/rtc.h"
#include "kernel/printk.h"
#include "kernel/vdso.h"

namespace keel::time {

namespace {

u64 tsc_base = 0;
u64 khz = 0;
u64 ns_mult = 0;  // ns = (tsc * ns_mult) >> 32
u64 apic_khz = 0;
u64 apic_mult = 0;  // ticks = (ns * apic_mult) >> 32: no 128-bit division when a timer is programmed
i64 realtime_offset = 0;  // realtime - monotonic

}  // namespace

u64 tsc_khz() { return khz; }
u64 lapic_timer_khz() { return apic_khz; }

u64 tsc_to_ns(u64 tsc) {
    if (!ns_mult) return 0;
    return static_cast<u64>((static_cast<unsigned __int128>(tsc) * ns_mult) >> 32);
}

u64 monotonic_ns() {
    if (!ns_mult) return 0;
    return tsc_to_ns(arch::rdtsc() - tsc_base);
}

u64 ns_to_lapic_ticks(u64 ns) {
    return static_cast<u64>((static_cast<unsigned __int128>(ns) * apic_mult) >> 32);
}

void calibrate() {
    // 2 ms of PIT time: 2386 ticks, so one tick of error is 0.04%.
    auto r = arch::calibrate_with_pit(2386);
    if (!r.ok || r.lapic_khz == 0) {
        pr_warn("time: no PIT to calibrate against; assuming a 1 GHz TSC and APIC timer");
        r = {1000000, 1000000, true};
    }
    khz = r.tsc_khz;
    apic_khz = r.lapic_khz;
    ns_mult = (1000000ull << 32) / khz;
    apic_mult = (apic_khz << 32) / 1000000;
    tsc_base = arch::rdtsc();
    realtime_offset = static_cast<i64>(arch::rtc_read_epoch_seconds() * 1000000000ull);
    vdso::update_clock(tsc_base, ns_mult, realtime_offset);
    pr_info("time: tsc %llu.%03llu MHz, apic timer %llu.%03llu MHz", static_cast<unsigned long long>(khz / 1000),
            static_cast<unsigned long long>(khz % 1000), static_cast<unsigned long long>(apic_khz / 1000),
            static_cast<unsigned long long>(apic_khz % 1000));
}

u64 realtime_ns() { return static_cast<u64>(static_cast<i64>(monotonic_ns()) + __atomic_load_n(&realtime_offset, __ATOMIC_RELAXED)); }

void set_realtime_ns(u64 ns) {
    __atomic_store_n(&realtime_offset, static_cast<i64>(ns) - static_cast<i64>(monotonic_ns()), __ATOMIC_RELAXED);
    vdso::update_clock(tsc_base, ns_mult, realtime_offset);
}

}  // namespace keel::time
