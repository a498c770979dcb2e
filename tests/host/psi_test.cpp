// PSI's arithmetic checked against figures worked out by hand (and, for the
// averages, by iterating Linux's fixed-point formula on paper).
#include <gtest/gtest.h>

#include <string>

#include "kernel/psi/psi_core.h"

using namespace keel;
using namespace keel::psi;

namespace {

constexpr u64 kMs = 1000000;

struct Group {
    CpuState cpus[4];
    GroupCore core;
    explicit Group(u32 n, u64 now = 0) { core.init(cpus, n, now); }
    std::string show(Resource r, bool system = false) {
        fs::SeqBuf b;
        format(snapshot(core, r, system), b);
        return std::string(b.view().data(), b.view().size());
    }
};

u32 mask(std::initializer_list<u32> states) {
    u32 m = 0;
    for (u32 s : states) m |= 1u << s;
    return m;
}

}  // namespace

TEST(Psi, StatesFollowLinuxDefinitions) {
    u32 t[NR_COUNTS] = {};
    EXPECT_EQ(test_states(t, false), 0u);
    t[NR_RUNNING] = 1;
    // One runnable task that is not on the CPU: the CPU is fully stalled.
    EXPECT_EQ(test_states(t, false), mask({CPU_SOME, CPU_FULL, NONIDLE}));
    EXPECT_EQ(test_states(t, true), mask({NONIDLE}) | STATE_ONCPU);
    t[NR_RUNNING] = 2;
    EXPECT_EQ(test_states(t, true), mask({CPU_SOME, NONIDLE}) | STATE_ONCPU);
    u32 io[NR_COUNTS] = {1, 0, 0, 0};
    EXPECT_EQ(test_states(io, false), mask({IO_SOME, IO_FULL, NONIDLE}));
    io[NR_RUNNING] = 1;
    EXPECT_EQ(test_states(io, true), mask({IO_SOME, NONIDLE}) | STATE_ONCPU);
    // A reclaiming task running alone: memory is fully stalled, as nothing
    // productive runs.
    u32 mem[NR_COUNTS] = {0, 1, 1, 1};
    EXPECT_EQ(test_states(mem, true), mask({MEM_SOME, MEM_FULL, NONIDLE}) | STATE_ONCPU);
    mem[NR_RUNNING] = 2;
    EXPECT_EQ(test_states(mem, true), mask({MEM_SOME, CPU_SOME, NONIDLE}) | STATE_ONCPU);
}

TEST(Psi, ChangesAccumulateStateTime) {
    Group g(1);
    CpuState& c = g.cpus[0];
    cpu_change(c, 0, TSK_RUNNING | TSK_ONCPU, 0, false);
    cpu_change(c, 0, TSK_RUNNING, 2 * kMs, false);   // B waits for the CPU
    cpu_change(c, TSK_RUNNING, 0, 6 * kMs, false);   // B leaves
    cpu_change(c, TSK_RUNNING | TSK_ONCPU, 0, 10 * kMs, false);
    EXPECT_EQ(c.times[CPU_SOME], 4 * kMs);
    EXPECT_EQ(c.times[CPU_FULL], 0u);
    EXPECT_EQ(c.times[NONIDLE], 10 * kMs);
    collect(g.core, AGG_AVGS, 12 * kMs);
    EXPECT_EQ(g.core.total[AGG_AVGS][CPU_SOME], 4 * kMs);
    // Counts never go below zero.
    bool underflow = false;
    cpu_change(c, TSK_IOWAIT, 0, 12 * kMs, false, &underflow);
    EXPECT_TRUE(underflow);
    EXPECT_EQ(c.tasks[NR_IOWAIT], 0u);
}

TEST(Psi, DisabledGroupCountsTasksButNoTime) {
    Group g(1);
    CpuState& c = g.cpus[0];
    cpu_change(c, 0, TSK_RUNNING | TSK_ONCPU, 0, false);
    cpu_change(c, 0, TSK_RUNNING, 0, false);
    // Disabled at 5 ms: the 5 ms so far are kept, nothing after.
    cpu_change(c, 0, 0, 5 * kMs, false, nullptr, false);
    cpu_change(c, TSK_RUNNING, 0, 9 * kMs, false, nullptr, false);
    EXPECT_EQ(c.tasks[NR_RUNNING], 1u);
    EXPECT_EQ(c.times[CPU_SOME], 5 * kMs);
    EXPECT_EQ(c.state_mask, STATE_ONCPU);
    // Enabled again: states follow the counts from the next change on.
    cpu_change(c, 0, TSK_RUNNING, 10 * kMs, false);
    cpu_change(c, 0, 0, 12 * kMs, false);
    EXPECT_EQ(c.times[CPU_SOME], 7 * kMs);
}

TEST(Psi, CurrentTaskInMemstallMakesMemoryFull) {
    Group g(1);
    CpuState& c = g.cpus[0];
    // Two running tasks, the one on the CPU reclaiming: without the flag
    // memory would only be SOME.
    cpu_change(c, 0, TSK_RUNNING, 0, false);
    u32 m = cpu_change(c, 0, TSK_RUNNING | TSK_ONCPU | TSK_MEMSTALL | TSK_MEMSTALL_RUNNING, 0, true);
    EXPECT_TRUE(m & (1u << MEM_FULL));
    cpu_change(c, 0, 0, 3 * kMs, true);
    EXPECT_EQ(c.times[MEM_FULL], 3 * kMs);
    EXPECT_EQ(c.times[MEM_SOME], 3 * kMs);
}

TEST(Psi, CpusWeighByTheirBusyTicks) {
    Group g(2);
    // CPU 0: 8 ms (2 ticks) busy, all of it with a task waiting; CPU 1:
    // 4 ms (1 tick) busy, no waiting. SOME = (8*2 + 0*1) / 3 ms.
    cpu_change(g.cpus[0], 0, TSK_RUNNING | TSK_ONCPU, 0, false);
    cpu_change(g.cpus[0], 0, TSK_RUNNING, 0, false);
    cpu_change(g.cpus[1], 0, TSK_RUNNING | TSK_ONCPU, 0, false);
    cpu_change(g.cpus[1], TSK_RUNNING | TSK_ONCPU, 0, 4 * kMs, false);
    cpu_change(g.cpus[0], TSK_RUNNING | TSK_ONCPU, 0, 8 * kMs, false);
    cpu_change(g.cpus[0], TSK_RUNNING, 0, 8 * kMs, false);
    u32 changed = collect(g.core, AGG_AVGS, 9 * kMs);
    EXPECT_EQ(g.core.total[AGG_AVGS][CPU_SOME], 16 * kMs / 3);
    EXPECT_TRUE(changed & (1u << NONIDLE));
    // Nothing since: nothing changed.
    EXPECT_EQ(collect(g.core, AGG_AVGS, 20 * kMs), 0u);
    // A CPU busy for less than a tick weighs nothing, as in Linux.
    cpu_change(g.cpus[0], 0, TSK_RUNNING | TSK_ONCPU, 20 * kMs, false);
    cpu_change(g.cpus[0], 0, TSK_RUNNING, 20 * kMs, false);
    collect(g.core, AGG_AVGS, 23 * kMs);
    EXPECT_EQ(g.core.total[AGG_AVGS][CPU_SOME], 16 * kMs / 3);
}

TEST(Psi, FixedPointArithmetic) {
    // e^-1 over ten 2 s steps of the 10 s average: 1677^10 / 2048^9.
    EXPECT_EQ(fixed_power(EXP_10S, FSHIFT, 0), FIXED_1);
    EXPECT_EQ(fixed_power(EXP_10S, FSHIFT, 1), EXP_10S);
    EXPECT_EQ(fixed_power(EXP_10S, FSHIFT, 4), 920u);  // 0.8188^4 = 0.4495 ~ 920/2048
    // One full period at 100% from zero: 18.11%, 3.27%, 0.68%.
    EXPECT_EQ(calc_load(0, EXP_10S, 100 * FIXED_1), 37100u);
}

TEST(Psi, HalfStalledForTwentySeconds) {
    // One CPU, one task always running, a second runnable for the first half
    // of every 2.004 s period: CPU SOME is 50% of each period.
    const u64 P = PERIOD_NS;
    Group g(1);
    CpuState& c = g.cpus[0];
    cpu_change(c, 0, TSK_RUNNING | TSK_ONCPU, 0, false);
    for (u64 k = 0; k < 10; ++k) {
        cpu_change(c, 0, TSK_RUNNING, k * P, false);
        cpu_change(c, TSK_RUNNING, 0, k * P + P / 2, false);
        u64 next = avgs_work(g.core, (k + 1) * P);
        EXPECT_EQ(next, (k + 1) * P + P + NSEC_PER_TICK);  // busy: keeps running
    }
    // avg = avg*e + 50%*(1-e) ten times from 0 in 11-bit fixed point:
    // 43.22 (the real-valued 50*(1-e^-2.004) is 43.26), 14.14, 3.31.
    EXPECT_EQ(g.core.avg[CPU_SOME][0], 88523u);
    EXPECT_EQ(g.core.avg[CPU_SOME][1], 28979u);
    EXPECT_EQ(g.core.avg[CPU_SOME][2], 6794u);
    EXPECT_EQ(g.show(RES_CPU), "some avg10=43.22 avg60=14.14 avg300=3.31 total=10020000\n"
                               "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    EXPECT_EQ(g.show(RES_MEM), "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                               "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");

    // Idle from here: the clock stops, and four missed periods plus the one
    // sampled are folded in when work resumes at 15 periods: e^4 then e.
    cpu_change(c, TSK_RUNNING | TSK_ONCPU, 0, 10 * P, false);
    EXPECT_EQ(avgs_work(g.core, 10 * P + NSEC_PER_TICK), 0u);
    avgs_work(g.core, 15 * P);
    EXPECT_EQ(g.core.avg[CPU_SOME][0], 32562u);  // 15.89
    EXPECT_EQ(g.core.avg[CPU_SOME][1], 24540u);  // 11.98
    EXPECT_EQ(g.core.avg[CPU_SOME][2], 6562u);   // 3.20
    EXPECT_EQ(g.show(RES_CPU).substr(0, 47), "some avg10=15.89 avg60=11.98 avg300=3.20 total=");
}

TEST(Psi, SystemCpuFullReadsZero) {
    Group g(1);
    CpuState& c = g.cpus[0];
    cpu_change(c, 0, TSK_RUNNING, 0, false);  // runnable, nothing on the CPU
    avgs_work(g.core, PERIOD_NS);
    EXPECT_EQ(g.core.total[AGG_AVGS][CPU_FULL], PERIOD_NS);
    EXPECT_EQ(g.show(RES_CPU, true), "some avg10=18.11 avg60=3.27 avg300=0.68 total=2004000\n"
                                     "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    EXPECT_EQ(g.show(RES_CPU, false), "some avg10=18.11 avg60=3.27 avg300=0.68 total=2004000\n"
                                      "full avg10=18.11 avg60=3.27 avg300=0.68 total=2004000\n");
}

TEST(Psi, SamplesAreCappedAtThePeriod) {
    Group g(1);
    g.core.total[AGG_AVGS][IO_SOME] = 3 * PERIOD_NS / 2;  // more than one period's worth
    update_averages(g.core, PERIOD_NS);
    EXPECT_EQ(g.core.avg_total[IO_SOME], PERIOD_NS);  // the rest shows next time
    EXPECT_EQ(g.core.avg[IO_SOME][0], calc_load(0, EXP_10S, 100 * FIXED_1));
}

namespace {

std::string parse(const char* s, Resource r = RES_CPU, bool priv = true) {
    auto t = parse_trigger(s, r, priv);
    if (t.is_error()) return "E" + std::to_string(t.error().code());
    return std::to_string(t.value().state) + " " + std::to_string(t.value().threshold_ns) + " " +
           std::to_string(t.value().window_ns);
}

}  // namespace

TEST(Psi, TriggerParsing) {
    // Outcomes recorded on Linux 6.12 (tests/diff/c/psi_files.c).
    EXPECT_EQ(parse("some 150000 1000000"), "4 150000000 1000000000");
    EXPECT_EQ(parse("full 150000 1000000"), "5 150000000 1000000000");
    EXPECT_EQ(parse("full 1 10000000", RES_MEM), "3 1000 10000000000");
    EXPECT_EQ(parse("some 500000 500000", RES_IO), "0 500000000 500000000");
    EXPECT_EQ(parse("some 0 1000000"), "E22");
    EXPECT_EQ(parse("some 1 0"), "E22");
    EXPECT_EQ(parse("some 1000001 1000000"), "E22");
    EXPECT_EQ(parse("some 1 10000001"), "E22");
    EXPECT_EQ(parse("some 1 1000"), "4 1000 1000000");
    EXPECT_EQ(parse("avg 1 1000000"), "E22");
    EXPECT_EQ(parse("some -1 1000000"), "E22");
    EXPECT_EQ(parse("some +1 1000000"), "E22");
    EXPECT_EQ(parse("some 1000"), "E22");
    EXPECT_EQ(parse("some1000 1000000"), "4 1000000 1000000000");
    EXPECT_EQ(parse("some   1000 \t 1000000"), "4 1000000 1000000000");
    EXPECT_EQ(parse("some 1000 1000000 junk"), "4 1000000 1000000000");
    EXPECT_EQ(parse(" some 1000 1000000"), "E22");
    EXPECT_EQ(parse("SOME 1000 1000000"), "E22");
    EXPECT_EQ(parse("some 0x10 1000000"), "E22");
    EXPECT_EQ(parse("some 4294967297 1000000"), "4 1000 1000000000");  // wraps to 1
    EXPECT_EQ(parse(""), "E22");
    // Unprivileged: windows in whole multiples of 2 s only.
    EXPECT_EQ(parse("some 150000 1000000", RES_CPU, false), "E22");
    EXPECT_EQ(parse("some 150000 2000000", RES_CPU, false), "4 150000000 2000000000");
    EXPECT_EQ(parse("some 150000 3000000", RES_CPU, false), "E22");
    EXPECT_EQ(parse("full 150000 4000000", RES_MEM, false), "3 150000000 4000000000");
}

namespace {

int fired;
void count_event(Trigger&) { ++fired; }

}  // namespace

TEST(Psi, PrivilegedTriggerFiresOncePerWindow) {
    // Times from B on (a clock that starts at 0 would rate-limit the first
    // event: none comes within a window of time 0, as in Linux).
    const u64 B = 10000 * kMs;
    Group g(1, B);
    CpuState& c = g.cpus[0];
    Trigger t;
    t.notify = count_event;
    fired = 0;
    trigger_add(g.core, t, parse_trigger("some 100000 500000", RES_CPU, true).value(), true, B);
    EXPECT_EQ(g.core.poll_min_period, 50 * kMs);
    // Two tasks contend from B on: 100% CPU SOME.
    cpu_change(c, 0, TSK_RUNNING | TSK_ONCPU, B, false);
    cpu_change(c, 0, TSK_RUNNING, B, false);
    // The first run starts monitoring (windows reset 4 ms in), the next
    // update is due 50 ms later, run on the next whole tick plus one.
    u64 next = poll_work(g.core, B + NSEC_PER_TICK);
    EXPECT_EQ(next, B + NSEC_PER_TICK + 13 * NSEC_PER_TICK);
    u64 fired_at = 0;
    int events = 0;
    for (u64 now = next; now < B + 2000 * kMs;) {
        u64 after = poll_work(g.core, now);
        if (trigger_take_event(t)) {
            if (!fired_at) fired_at = now;
            ++events;
        }
        now = after;
    }
    // 100 ms of growth since the window started: seen at the update 104 ms
    // after it (108 ms in); then once per 500 ms window: 4 events by 2 s.
    EXPECT_EQ(fired_at, B + 108 * kMs);
    EXPECT_EQ(fired, 4);
    EXPECT_EQ(events, 4);
    // Quiet: monitoring stops one window (10 updates) after the last change.
    cpu_change(c, TSK_RUNNING, 0, B + 2000 * kMs, false);
    cpu_change(c, TSK_RUNNING | TSK_ONCPU, 0, B + 2000 * kMs, false);
    u64 now = B + 2000 * kMs;
    int runs = 0;
    while ((now = poll_work(g.core, now)) != 0 && runs < 100) ++runs;
    EXPECT_LT(runs, 20);
    trigger_remove(g.core, t);
    EXPECT_EQ(g.core.poll_states, 0u);
    EXPECT_EQ(g.core.poll_min_period, ~0ull);
}

TEST(Psi, UnprivilegedTriggerUsesTheAverages) {
    Group g(1);
    CpuState& c = g.cpus[0];
    Trigger t;
    t.notify = count_event;
    fired = 0;
    trigger_add(g.core, t, parse_trigger("some 500000 2000000", RES_CPU, false).value(), false, 0);
    cpu_change(c, 0, TSK_RUNNING | TSK_ONCPU, 0, false);
    cpu_change(c, 0, TSK_RUNNING, 0, false);
    avgs_work(g.core, PERIOD_NS / 2);  // before the period ends: no evaluation
    EXPECT_EQ(fired, 0);
    avgs_work(g.core, PERIOD_NS);
    EXPECT_EQ(fired, 1);
    EXPECT_TRUE(trigger_take_event(t));
    EXPECT_FALSE(trigger_take_event(t));
    // The next period is within 2 s of the event: the breach waits.
    avgs_work(g.core, 2 * PERIOD_NS - 5 * kMs);
    EXPECT_EQ(fired, 1);
    avgs_work(g.core, 3 * PERIOD_NS);
    EXPECT_EQ(fired, 2);
    trigger_remove(g.core, t);
    EXPECT_TRUE(g.core.avg_triggers.empty());
}

namespace {

// cpu_change written the plain way, one count and one state at a time,
// straight from the definitions: the inlined fast version must agree with
// it field for field.
struct RefCpu {
    u32 tasks[NR_COUNTS] = {};
    u32 mask = 0;
    u64 start = 0;
    u64 times[NR_STATES] = {};

    void record(u64 now) {
        u64 delta = now > start ? now - start : 0;
        start = now;
        for (u32 res = 0; res < NR_RES; ++res) {
            if (!(mask & (1u << (2 * res)))) continue;
            times[2 * res] += delta;
            if (mask & (1u << (2 * res + 1))) times[2 * res + 1] += delta;
        }
        if (mask & (1u << NONIDLE)) times[NONIDLE] += delta;
    }

    u32 change(u8 clear, u8 set, u64 now, bool memstall, bool* underflow, bool enabled) {
        const u8 flag[NR_COUNTS] = {TSK_IOWAIT, TSK_MEMSTALL, TSK_RUNNING, TSK_MEMSTALL_RUNNING};
        bool oncpu = (clear & TSK_ONCPU) ? false : (set & TSK_ONCPU) ? true : (mask & STATE_ONCPU) != 0;
        for (u32 i = 0; i < NR_COUNTS; ++i) {
            if (clear & flag[i]) {
                if (tasks[i]) --tasks[i];
                else *underflow = true;
            }
            if (set & flag[i]) ++tasks[i];
        }
        if (!enabled) {
            if (mask & (1u << NONIDLE)) record(now);
            mask = oncpu ? STATE_ONCPU : 0;
            return mask;
        }
        u32 m = oncpu ? STATE_ONCPU : 0;
        u32 run = tasks[NR_RUNNING];
        if (tasks[NR_IOWAIT]) m |= (1u << IO_SOME) | (run ? 0 : 1u << IO_FULL);
        if (tasks[NR_MEMSTALL])
            m |= (1u << MEM_SOME) | (run == tasks[NR_MEMSTALL_RUNNING] ? 1u << MEM_FULL : 0);
        if (run > (oncpu ? 1u : 0u)) m |= 1u << CPU_SOME;
        if (run && !oncpu) m |= 1u << CPU_FULL;
        if (tasks[NR_IOWAIT] || tasks[NR_MEMSTALL] || run) m |= 1u << NONIDLE;
        if (oncpu && memstall) m |= 1u << MEM_FULL;
        record(now);
        mask = m;
        return m;
    }
};

}  // namespace

TEST(Psi, FastChangeAgreesWithThePlainDefinition) {
    CpuState c;
    RefCpu ref;
    u64 rng = 12345, now = 0;
    auto next = [&] {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<u32>(rng >> 33);
    };
    for (int step = 0; step < 200000; ++step) {
        // Mostly the scheduler's shapes (RUNNING, ONCPU), sometimes anything,
        // including clears of flags never set (underflow) and clear+set.
        u8 all = TSK_IOWAIT | TSK_MEMSTALL | TSK_RUNNING | TSK_ONCPU | TSK_MEMSTALL_RUNNING;
        u8 clear = static_cast<u8>(next() & all & (next() % 4 ? TSK_RUNNING | TSK_ONCPU : all));
        u8 set = static_cast<u8>(next() & all & (next() % 4 ? TSK_RUNNING | TSK_ONCPU : all));
        bool memstall = next() % 8 == 0;
        bool enabled = next() % 16 != 0;
        // Time mostly moves forward, sometimes stands still or steps back.
        u32 r = next() % 16;
        now = r == 0 ? now : r == 1 && now > 50 ? now - 50 : now + next() % 100000;
        bool uf = false, ref_uf = false;
        u32 m = cpu_change(c, clear, set, now, memstall, &uf, enabled);
        u32 ref_m = ref.change(clear, set, now, memstall, &ref_uf, enabled);
        ASSERT_EQ(m, ref_m) << "step " << step;
        ASSERT_EQ(uf, ref_uf) << "step " << step;
        ASSERT_EQ(c.state_mask, ref.mask) << "step " << step;
        ASSERT_EQ(c.state_start, ref.start) << "step " << step;
        for (u32 i = 0; i < NR_COUNTS; ++i) ASSERT_EQ(c.tasks[i], ref.tasks[i]) << "step " << step;
        for (u32 i = 0; i < NR_STATES; ++i) ASSERT_EQ(c.times[i], ref.times[i]) << "step " << step << " state " << i;
        ASSERT_EQ(c.seq % 2, 0u);
    }
}
