// EEVDF decisions checked against numbers worked out by hand (the arithmetic
// is in the comments), plus randomized runs against a brute-force reference.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "kernel/sched/eevdf.h"

using namespace keel;
using namespace keel::sched;

namespace {

constexpr u64 kMs = 1000000;

// A 3 ms base slice (what 8+ CPUs get) keeps the hand arithmetic round.
EevdfConfig cfg(bool delay = false) {
    EevdfConfig c;
    c.base_slice = 3 * kMs;
    c.delay_dequeue = delay;
    return c;
}

SchedEntity entity(int nice = 0) {
    SchedEntity se;
    se.set_nice(nice);
    return se;
}

std::vector<const SchedEntity*> queued(const EevdfRunQueue& rq) {
    std::vector<const SchedEntity*> v;
    if (rq.curr()) v.push_back(rq.curr());
    rq.for_each_queued([&](SchedEntity& se) { v.push_back(&se); });
    return v;
}

// Σ w_i (V - v_i) over the queue, and Σ w_i, computed independently of the
// run queue's own sums. With V rounded down, the sum lies in (-W, 0].
i128 weighted_lag_sum(const EevdfRunQueue& rq, u64* total) {
    u64 V = rq.avg_vruntime();
    i128 sum = 0;
    u64 w = 0;
    for (const SchedEntity* se : queued(rq)) {
        sum += i128(static_cast<i64>(V - se->vruntime)) * se->weight;
        w += se->weight;
    }
    *total = w;
    return sum;
}

// pick_eevdf() restated without the tree search: eligibility by exact
// weighted sums, then the first eligible entity in deadline order.
const SchedEntity* reference_pick(const EevdfRunQueue& rq) {
    std::vector<const SchedEntity*> all = queued(rq);
    if (all.empty()) return nullptr;
    if (all.size() == 1) return all[0];
    u64 base = all[0]->vruntime;
    i128 sum = 0;
    i128 w = 0;
    for (const SchedEntity* se : all) {
        sum += i128(static_cast<i64>(se->vruntime - base)) * se->weight;
        w += se->weight;
    }
    auto eligible = [&](const SchedEntity* se) {
        return sum >= i128(static_cast<i64>(se->vruntime - base)) * w;
    };
    const SchedEntity* c = rq.curr();
    if (c && !eligible(c)) c = nullptr;
    if (rq.config().run_to_parity && c && c->slice_protected) return c;
    const SchedEntity* best = nullptr;
    rq.for_each_queued([&](SchedEntity& se) {
        if (!best && eligible(&se)) best = &se;
    });
    if (!best || (c && static_cast<i64>(c->deadline - best->deadline) < 0)) best = c;
    return best;
}

}  // namespace

// ---------------------------------------------------------------------------
// Arithmetic

TEST(EevdfMath, WeightTables) {
    EXPECT_EQ(nice_to_weight(0), 1024u);
    EXPECT_EQ(nice_to_weight(-20), 88761u);
    EXPECT_EQ(nice_to_weight(19), 15u);
    EXPECT_EQ(nice_to_weight(5), 335u);
    EXPECT_EQ(nice_to_weight(-3), 1991u);
    EXPECT_EQ(nice_to_weight(-40), 88761u);  // clamped
    EXPECT_EQ(kNiceToWmult.v[20], 4194304u);
    EXPECT_EQ(kNiceToWmult.v[0], 48388u);        // 2^32 / 88761 = 48388.55
    EXPECT_EQ(kNiceToWmult.v[25], 12820797u);    // 2^32 / 335 = 12820797.90
    EXPECT_EQ(kNiceToWmult.v[39], 286331153u);   // 2^32 / 15 = 286331153.07
    EXPECT_EQ(inverse_weight(WEIGHT_IDLEPRIO), 1431655765u);
    EXPECT_EQ(inverse_weight(u64(1) << 32), 1u);
    for (int i = 0; i < 40; ++i) {
        u64 w = kNiceToWeight[i], inv = kNiceToWmult.v[i];
        EXPECT_LE(inv * w, u64(1) << 32);
        EXPECT_GT((inv + 1) * w, u64(1) << 32);
    }
}

TEST(EevdfMath, CalcDeltaFair) {
    EXPECT_EQ(calc_delta_fair(12345, 1024), 12345u);
    EXPECT_EQ(calc_delta_fair(1000, 2048), 500u);
    // 10^6 * 1024 * 12820797 >> 32 = 3056716 (exact quotient 3056716.4)
    EXPECT_EQ(calc_delta_fair(1000000, 335), 3056716u);
    // 3e6 * 1024 * 48388 >> 32 = 34609
    EXPECT_EQ(calc_delta_fair(3 * kMs, 88761), 34609u);
    // 10^12 * 1024 * 286331153 is ~2^78: a 64-bit product would wrap.
    EXPECT_EQ(calc_delta_fair(1000000000000ull, 15), 68266666650772ull);
    EXPECT_EQ(calc_delta_fair(~u64(0), 15), ~u64(0));  // saturates
    SchedEntity se = entity(5);
    EXPECT_EQ(se.inv_weight, 12820797u);
}

TEST(EevdfMath, BaseSlice) {
    EXPECT_EQ(base_slice_for_cpus(0), 700000u);
    EXPECT_EQ(base_slice_for_cpus(1), 700000u);
    EXPECT_EQ(base_slice_for_cpus(2), 1400000u);
    EXPECT_EQ(base_slice_for_cpus(3), 1400000u);
    EXPECT_EQ(base_slice_for_cpus(4), 2100000u);
    EXPECT_EQ(base_slice_for_cpus(7), 2100000u);
    EXPECT_EQ(base_slice_for_cpus(8), 2800000u);
    EXPECT_EQ(base_slice_for_cpus(256), 2800000u);
}

TEST(EevdfMath, CustomSliceClamp) {
    EXPECT_EQ(clamp_custom_slice(0), 0u);
    EXPECT_EQ(clamp_custom_slice(50000), 100000u);
    EXPECT_EQ(clamp_custom_slice(5 * kMs), 5 * kMs);
    EXPECT_EQ(clamp_custom_slice(200 * kMs), 100 * kMs);

    EevdfRunQueue rq(cfg());
    SchedEntity se = entity();
    rq.set_slice(se, 1);
    EXPECT_TRUE(se.custom_slice);
    EXPECT_EQ(se.slice, 100000u);
    rq.set_slice(se, 0);
    EXPECT_FALSE(se.custom_slice);
    EXPECT_EQ(se.slice, 3 * kMs);

    // A custom slice survives placement and sets the deadline; the default
    // follows the run queue's base slice.
    SchedEntity a = entity(), b = entity();
    rq.set_slice(a, 5 * kMs);
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(a.slice, 5 * kMs);
    EXPECT_EQ(a.deadline, 5 * kMs);
    EXPECT_EQ(b.deadline, 3 * kMs);
}

// ---------------------------------------------------------------------------
// Eligibility and pick

// A(nice 0) is queued at V = 0. B (100 us slice) comes back with vlag
// -500000: W = 1024, so it is placed at 0 + 500000 * 2048/1024 = 1000000
// with deadline 1100000, the earliest in the tree. V = (0 + 1e6)/2 = 500000,
// so B is not eligible and A (deadline 3e6) must be picked.
TEST(EevdfPick, EligibleBeforeEarliestDeadline) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), b = entity(), c = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    EXPECT_EQ(a.vruntime, 0u);
    EXPECT_EQ(a.deadline, 3 * kMs);

    rq.set_slice(b, 100000);
    b.vlag = -500000;
    rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(b.vruntime, 1000000u);
    EXPECT_EQ(b.deadline, 1100000u);
    EXPECT_EQ(rq.avg_vruntime(), 500000u);
    EXPECT_EQ(rq.lag(b), -500000);
    EXPECT_TRUE(rq.eligible(a));
    EXPECT_FALSE(rq.eligible(b));
    EXPECT_EQ(rq.first(), &b);
    EXPECT_EQ(rq.pick_eevdf(), &a);

    // C with vlag +200000 joins W = 2048: 200000 * 3072/2048 = 300000 below
    // V, i.e. at 200000, deadline 3200000. V = (0 + 1e6 + 2e5)/3 = 400000.
    c.vlag = 200000;
    rq.enqueue(c, Enqueue::Wakeup);
    EXPECT_EQ(c.vruntime, 200000u);
    EXPECT_EQ(c.deadline, 3200000u);
    EXPECT_EQ(rq.avg_vruntime(), 400000u);
    EXPECT_EQ(rq.lag(c), 200000);
    EXPECT_EQ(rq.pick_eevdf(), &a);
    EXPECT_TRUE(rq.check_invariants());

    // Without RUN_TO_PARITY, curr competes on its deadline. A runs 0.6 ms:
    // v = 600000 = V, eligible, and its deadline 3e6 beats C's 3.2e6.
    rq.config().run_to_parity = false;
    EXPECT_EQ(rq.pick_next(), &a);
    rq.update_curr(600000);
    EXPECT_EQ(rq.avg_vruntime(), 600000u);
    EXPECT_EQ(rq.pick_eevdf(), &a);
    // 0.3 ms more: A at 900000 > V = (9e5 + 1e6 + 2e5)/3 = 700000. B is
    // leftmost but ineligible; the tree search must find C.
    EXPECT_FALSE(rq.update_curr(300000));
    EXPECT_EQ(rq.avg_vruntime(), 700000u);
    EXPECT_FALSE(rq.eligible(a));
    EXPECT_EQ(rq.pick_next(), &c);
    EXPECT_EQ(rq.curr(), &c);
    EXPECT_TRUE(rq.check_invariants());
}

TEST(EevdfPick, LeftmostFastPathAndSingleEntity) {
    EevdfRunQueue rq(cfg());
    EXPECT_EQ(rq.pick_next(), nullptr);
    SchedEntity a = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    EXPECT_EQ(rq.pick_next(), &a);
    // Alone, A stays picked even far past everyone's deadline.
    rq.update_curr(50 * kMs);
    EXPECT_EQ(rq.pick_next(), &a);
    EXPECT_EQ(rq.nr_running(), 1u);
}

// ---------------------------------------------------------------------------
// Lag

// A (w 2048) and B (w 1024) start at 0. A runs 1.5 ms: v_A = 750000,
// V = 2048*750000/3072 = 500000, A's vlag = -250000. After A sleeps V = 0;
// on wakeup the lag is inflated by (1024 + 2048)/1024 = 3: v_A = 750000.
// V is back at 500000 and both lags are what they were before the sleep.
TEST(EevdfLag, PreservedAcrossSleepWithInflation) {
    EevdfRunQueue rq(cfg());
    SchedEntity a, b = entity();
    a.set_weight(2048);
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(rq.pick_next(), &a);
    EXPECT_FALSE(rq.update_curr(1500000));
    EXPECT_EQ(a.vruntime, 750000u);
    EXPECT_EQ(rq.avg_vruntime(), 500000u);
    EXPECT_EQ(rq.lag(b), 500000);

    EXPECT_TRUE(rq.dequeue(a, Dequeue::Sleep));
    EXPECT_EQ(a.vlag, -250000);
    EXPECT_FALSE(a.on_rq);
    EXPECT_EQ(rq.curr(), nullptr);
    EXPECT_EQ(rq.avg_vruntime(), 0u);

    rq.enqueue(a, Enqueue::Wakeup);
    EXPECT_EQ(a.vruntime, 750000u);  // not 250000: that would lose 2/3 of the lag
    EXPECT_EQ(a.deadline, 750000u + 1500000u);  // v + 3 ms * 1024/2048
    EXPECT_EQ(rq.avg_vruntime(), 500000u);
    EXPECT_EQ(rq.lag(a), -250000);
    EXPECT_EQ(rq.lag(b), 500000);
    EXPECT_TRUE(rq.check_invariants());

    rq.config().place_lag = false;  // NO_PLACE_LAG: back at V
    rq.dequeue(a, Dequeue::Sleep);
    rq.enqueue(a, Enqueue::Wakeup);
    EXPECT_EQ(a.vruntime, 0u);
}

// The saved lag is clamped to calc_delta_fair(max(2 * slice, 1 ms)).
TEST(EevdfLag, ClampedOnDequeue) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), b = entity(), c = entity(5), d = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(20 * kMs);  // v_A = 20e6, V = 10e6
    EXPECT_EQ(rq.avg_vruntime(), 10 * kMs);
    rq.dequeue(b, Dequeue::Sleep);  // lag +10e6, limit 6e6
    EXPECT_EQ(b.vlag, 6000000);
    rq.enqueue(b, Enqueue::Wakeup);  // at 20e6 - 6e6 * 2 = 8e6; V = 14e6
    EXPECT_EQ(b.vruntime, 8 * kMs);
    EXPECT_EQ(rq.dequeue(a, Dequeue::Sleep), true);  // lag 14e6 - 20e6: at the limit
    EXPECT_EQ(a.vlag, -6000000);

    // nice 5: limit = calc_delta_fair(6 ms, 335) = 18340297.
    EevdfRunQueue rq2(cfg());
    rq2.enqueue(c, Enqueue::Wakeup);
    rq2.enqueue(d, Enqueue::Wakeup);
    rq2.set_next(d);
    rq2.update_curr(30 * kMs);  // d at 30e6; V = 1024*30e6/1359 = 22605592
    rq2.dequeue(c, Dequeue::Sleep);
    EXPECT_EQ(c.vlag, 18340297);

    // 100 us slice: 2 * slice < 1 ms, so the tick sets the limit: 1e6.
    EevdfRunQueue rq3(cfg());
    SchedEntity e = entity(), f = entity();
    rq3.set_slice(e, 100000);
    rq3.enqueue(e, Enqueue::Wakeup);
    rq3.enqueue(f, Enqueue::Wakeup);
    rq3.set_next(f);
    rq3.update_curr(10 * kMs);
    rq3.dequeue(e, Dequeue::Sleep);
    EXPECT_EQ(e.vlag, 1000000);
}

TEST(EevdfLag, SumIsZeroAndObservability) {
    EevdfRunQueue rq(cfg(), 123456789);
    SchedEntity a = entity(), b = entity(3), c = entity(-8);
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.enqueue(c, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(777777);
    u64 w;
    i128 s = weighted_lag_sum(rq, &w);
    EXPECT_EQ(w, 1024u + 526u + 6100u);
    EXPECT_LE(s, 0);
    EXPECT_GT(s, -i128(w));
    // The zero point stays near V; min_vruntime is the least queued vruntime.
    EXPECT_LT(std::abs(static_cast<i64>(rq.zero_vruntime() - rq.avg_vruntime())), i64(1) << 32);
    u64 least = a.vruntime;
    for (const SchedEntity* se : {&a, &b, &c})
        if (static_cast<i64>(se->vruntime - least) < 0) least = se->vruntime;
    EXPECT_EQ(rq.min_vruntime(), least);
    EXPECT_EQ(rq.min_vruntime(), 123456789u);  // the two that have not run
}

// The zero point moves only once V is 2^32 away, without changing any
// decision; an emptied queue keeps V as it was for the next arrival.
TEST(EevdfLag, ZeroPointFollowsVLazily) {
    EevdfRunQueue rq(cfg(), 1000);
    SchedEntity a = entity(), b = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(kMs);
    EXPECT_EQ(rq.zero_vruntime(), 1000u);  // V moved 0.5 ms: no rebase
    for (int i = 0; i < 6; ++i) {          // 6 x 2 s between two: V moves 6 s
        rq.update_curr(2000 * kMs);
        rq.pick_next();
        EXPECT_LT(std::abs(static_cast<i64>(rq.zero_vruntime() - rq.avg_vruntime())), i64(1) << 32);
        EXPECT_TRUE(rq.check_invariants());
    }
    EXPECT_NE(rq.zero_vruntime(), 1000u);
    rq.dequeue(*rq.curr(), Dequeue::Sleep);
    SchedEntity* other = rq.first();
    u64 v = rq.avg_vruntime();
    rq.pick_next();
    rq.dequeue(*other, Dequeue::Sleep);
    EXPECT_EQ(rq.nr_queued(), 0u);
    EXPECT_EQ(rq.avg_vruntime(), v);
    SchedEntity c = entity();
    rq.enqueue(c, Enqueue::Wakeup);
    EXPECT_EQ(c.vruntime, v);
}

// ---------------------------------------------------------------------------
// Placement and deadlines

TEST(EevdfPlace, NewTasksGetHalfASlice) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), n = entity(), m = entity(5);
    rq.enqueue(a, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(1 * kMs);  // v_A = V = 1e6
    rq.enqueue(n, Enqueue::Initial);
    EXPECT_EQ(n.vruntime, 1000000u);
    EXPECT_EQ(n.deadline, 1000000u + 1500000u);
    EXPECT_TRUE(rq.eligible(n));
    // Earlier deadline than A's 3e6, but A is protected until its request ends.
    EXPECT_FALSE(rq.wakeup_preempt(n));
    // nice 5: vslice = calc_delta_fair(3 ms, 335) = 9170148, halved 4585074.
    rq.enqueue(m, Enqueue::Initial);
    EXPECT_EQ(m.vruntime, 1000000u);
    EXPECT_EQ(m.deadline, 1000000u + 4585074u);
    EXPECT_EQ(rq.avg_vruntime(), 1000000u);
    EXPECT_TRUE(rq.check_invariants());
}

TEST(EevdfPlace, DeadlineRenewal) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), b = entity(), c = entity(5);
    rq.enqueue(a, Enqueue::Wakeup);
    EXPECT_EQ(rq.pick_next(), &a);
    EXPECT_TRUE(a.slice_protected);
    EXPECT_EQ(rq.runtime_until_deadline(), 3 * kMs);
    EXPECT_FALSE(rq.update_curr(2999999));
    EXPECT_EQ(a.deadline, 3 * kMs);
    // Deadline reached: a new request starts, but alone there is nothing to
    // switch to.
    EXPECT_FALSE(rq.update_curr(1));
    EXPECT_EQ(a.deadline, 6 * kMs);
    EXPECT_FALSE(a.slice_protected);

    rq.enqueue(b, Enqueue::Wakeup);  // at V = 3e6, deadline 6e6
    // A's new request is unprotected, and on a deadline tie curr does not
    // win: B runs.
    EXPECT_EQ(rq.pick_next(), &b);
    EXPECT_TRUE(rq.update_curr(3 * kMs));
    EXPECT_EQ(b.vruntime, 6 * kMs);
    EXPECT_EQ(b.deadline, 9 * kMs);
    EXPECT_EQ(b.sum_exec_runtime, 3 * kMs);
    EXPECT_EQ(rq.pick_next(), &a);

    // A custom slice sets the length of the next request.
    rq.set_slice(a, 5 * kMs);
    EXPECT_TRUE(rq.update_curr(3 * kMs));  // A: 3e6 -> 6e6 = its deadline
    EXPECT_EQ(a.deadline, 11 * kMs);
    EXPECT_EQ(a.sum_exec_runtime, 6 * kMs);

    // nice 5 alone: its request is 9170148 virtual ns, 3 ms of real time.
    EevdfRunQueue rq2(cfg());
    rq2.enqueue(c, Enqueue::Wakeup);
    rq2.pick_next();
    EXPECT_EQ(c.deadline, 9170148u);
    EXPECT_EQ(rq2.runtime_until_deadline(), 3 * kMs);
    rq2.update_curr(3 * kMs - 1);
    EXPECT_EQ(c.deadline, 9170148u);  // 9170145 < 9170148
    rq2.update_curr(1);
    EXPECT_EQ(c.vruntime, 9170148u);
    EXPECT_EQ(c.deadline, 2 * 9170148u);
}

// ---------------------------------------------------------------------------
// Wake-up preemption

namespace {
// A (nice 0) has run 1 ms of its fresh 3 ms request: v = V = 1e6, d = 3e6.
struct WakeupFixture {
    EevdfRunQueue rq;
    SchedEntity a = entity();
    explicit WakeupFixture(EevdfConfig c = cfg()) : rq(c) {
        rq.enqueue(a, Enqueue::Wakeup);
        rq.pick_next();
        rq.update_curr(1 * kMs);
    }
};
}  // namespace

// B (nice -5) wakes at V = 1e6 with vslice = calc_delta_fair(3e6, 3121) =
// 984299: deadline 1984299, earlier than A's and eligible. Same slice length
// so PREEMPT_SHORT does not apply: RUN_TO_PARITY keeps A running.
TEST(EevdfWakeup, RunToParityProtectsCurr) {
    WakeupFixture f;
    SchedEntity b = entity(-5);
    f.rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(b.deadline, 1984299u);
    EXPECT_TRUE(f.rq.eligible(b));
    EXPECT_FALSE(f.rq.wakeup_preempt(b));
    EXPECT_TRUE(f.a.slice_protected);

    EevdfConfig c = cfg();
    c.run_to_parity = false;
    WakeupFixture g(c);
    SchedEntity b2 = entity(-5);
    g.rq.enqueue(b2, Enqueue::Wakeup);
    EXPECT_TRUE(g.rq.wakeup_preempt(b2));
    EXPECT_EQ(g.rq.pick_next(), &b2);
}

// B (nice 0, 1 ms custom slice) wakes at 1e6, deadline 2e6 < 3e6: a shorter
// request that is eligible and due earlier cancels A's protection.
TEST(EevdfWakeup, PreemptShort) {
    WakeupFixture f;
    SchedEntity b = entity();
    f.rq.set_slice(b, 1 * kMs);
    f.rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(b.deadline, 2 * kMs);
    EXPECT_TRUE(f.rq.wakeup_preempt(b));
    EXPECT_FALSE(f.a.slice_protected);

    EevdfConfig c = cfg();
    c.preempt_short = false;
    WakeupFixture g(c);
    SchedEntity b2 = entity();
    g.rq.set_slice(b2, 1 * kMs);
    g.rq.enqueue(b2, Enqueue::Wakeup);
    EXPECT_FALSE(g.rq.wakeup_preempt(b2));
    EXPECT_TRUE(g.a.slice_protected);
}

// B short-sliced but owing service: vlag -200000 places it at
// 1e6 + 400000 = 1.4e6 (deadline 2.4e6) while V = 1.2e6. Not eligible, so no
// preemption and no loss of protection.
TEST(EevdfWakeup, IneligibleWakerDoesNotPreempt) {
    WakeupFixture f;
    SchedEntity b = entity();
    f.rq.set_slice(b, 1 * kMs);
    b.vlag = -200000;
    f.rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(b.vruntime, 1400000u);
    EXPECT_EQ(b.deadline, 2400000u);
    EXPECT_EQ(f.rq.avg_vruntime(), 1200000u);
    EXPECT_FALSE(f.rq.wakeup_preempt(b));
    EXPECT_TRUE(f.a.slice_protected);
    EXPECT_EQ(f.rq.pick_eevdf(), &f.a);
}

// C (nice -5, deadline 1984299) waits behind protected A. Short-sliced B
// (deadline 2e6) then wakes: it cancels A's protection, but the pick is C,
// not B, so no preemption at once. As soon as A runs past V it is ineligible
// and update_curr() asks for a reschedule although its deadline is far.
TEST(EevdfWakeup, CancelledProtectionPreemptsOnceIneligible) {
    WakeupFixture f;
    SchedEntity c = entity(-5), b = entity();
    f.rq.enqueue(c, Enqueue::Wakeup);
    EXPECT_FALSE(f.rq.wakeup_preempt(c));
    EXPECT_FALSE(f.rq.update_curr(1000));  // protected: no reschedule

    WakeupFixture g;
    SchedEntity c2 = entity(-5);
    g.rq.enqueue(c2, Enqueue::Wakeup);
    EXPECT_FALSE(g.rq.wakeup_preempt(c2));
    g.rq.set_slice(b, 1 * kMs);
    g.rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_FALSE(g.rq.wakeup_preempt(b));
    EXPECT_FALSE(g.a.slice_protected);
    EXPECT_TRUE(g.rq.update_curr(1000));
    EXPECT_EQ(g.rq.pick_next(), &c2);
}

// A has used 2.9 ms of its 3 ms request next to B (never run): v_A = 2.9e6
// is past V = 1.45e6, but A keeps its protection. W (2 ms slice) wakes at V
// with deadline 3.45e6, later than A's 3e6; being shorter and eligible while
// A is not, it still cancels the protection. B is the pick, not W, so there
// is no preemption yet, but the next update_curr() asks for one.
TEST(EevdfWakeup, ShortWakerCancelsProtectionOfIneligibleCurr) {
    for (bool short_waker : {true, false}) {
        EevdfRunQueue rq(cfg());
        SchedEntity a = entity(), b = entity(), w = entity();
        rq.enqueue(a, Enqueue::Wakeup);
        rq.enqueue(b, Enqueue::Wakeup);
        rq.pick_next();
        EXPECT_FALSE(rq.update_curr(2900000));
        EXPECT_FALSE(rq.eligible(a));
        if (short_waker) rq.set_slice(w, 2 * kMs);
        rq.enqueue(w, Enqueue::Wakeup);
        EXPECT_EQ(w.vruntime, 1450000u);
        EXPECT_EQ(w.deadline, short_waker ? 3450000u : 4450000u);
        EXPECT_FALSE(rq.wakeup_preempt(w));
        EXPECT_EQ(a.slice_protected, !short_waker);
        EXPECT_EQ(rq.update_curr(1000), short_waker);
    }
}

TEST(EevdfWakeup, PolicyRules) {
    // The nice -5 waker of RunToParityProtectsCurr, without RUN_TO_PARITY,
    // would preempt; as SCHED_BATCH or SCHED_IDLE it waits for the next pick.
    EevdfConfig c = cfg();
    c.run_to_parity = false;
    WakeupFixture f(c);
    SchedEntity batch = entity(-5), idle_waker = entity(-5);
    batch.policy = SchedPolicy::Batch;
    idle_waker.policy = SchedPolicy::Idle;
    f.rq.enqueue(batch, Enqueue::Wakeup);
    EXPECT_EQ(f.rq.pick_eevdf(), &batch);
    EXPECT_FALSE(f.rq.wakeup_preempt(batch));
    f.rq.enqueue(idle_waker, Enqueue::Wakeup);
    EXPECT_FALSE(f.rq.wakeup_preempt(idle_waker));

    // Anything but SCHED_IDLE preempts a SCHED_IDLE task, batch included,
    // whatever the deadlines: its request of 3 ms * 1024/3 is ~1e9 virtual.
    EevdfRunQueue rq(cfg());
    SchedEntity idle, batch2 = entity(), normal = entity();
    idle.set_weight(WEIGHT_IDLEPRIO);
    idle.policy = SchedPolicy::Idle;
    batch2.policy = SchedPolicy::Batch;
    rq.enqueue(idle, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(1 * kMs);
    rq.enqueue(batch2, Enqueue::Wakeup);
    EXPECT_TRUE(rq.wakeup_preempt(batch2));
    rq.enqueue(normal, Enqueue::Wakeup);
    EXPECT_TRUE(rq.wakeup_preempt(normal));
    // With no fair entity running, a wakeup always preempts (the idle task).
    EevdfRunQueue empty(cfg());
    SchedEntity x = entity();
    empty.enqueue(x, Enqueue::Wakeup);
    EXPECT_TRUE(empty.wakeup_preempt(x));
}

TEST(EevdfWakeup, YieldGivesUpTheRequest) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), b = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(rq.pick_next(), &a);
    rq.yield();
    EXPECT_EQ(a.vruntime, 3 * kMs);  // forfeits the rest of its request
    EXPECT_EQ(a.deadline, 6 * kMs);
    EXPECT_FALSE(a.slice_protected);
    EXPECT_EQ(rq.pick_next(), &b);
}

// A yielder that has run ahead of V is left where it is: B, eligible, runs.
TEST(EevdfWakeup, IneligibleYielderKeepsItsRequest) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), b = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(rq.pick_next(), &a);
    rq.update_curr(2 * kMs);  // v_A = 2 ms, V = 1 ms
    rq.yield();
    EXPECT_EQ(a.vruntime, 2 * kMs);
    EXPECT_EQ(a.deadline, 3 * kMs);
    EXPECT_EQ(rq.pick_next(), &b);
}

// ---------------------------------------------------------------------------
// Reweight

// A (curr) ran 1 ms: v_A = 1e6, B at 0; V = 500000. B doubles its weight:
// lag 500000 -> 250000 virtual (the same 5.12e8 weighted), relative deadline
// 3e6 -> 1.5e6. Rejoining next to A (W = 1024): 250000 * 3072/1024 = 750000
// below v_A, so v_B = 250000, d_B = 1.75e6, and V stays 500000.
TEST(EevdfReweight, QueuedEntity) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), b = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(1 * kMs);
    rq.reweight(b, 2048);
    EXPECT_EQ(b.weight, 2048u);
    EXPECT_EQ(b.inv_weight, 2097152u);
    EXPECT_EQ(b.vruntime, 250000u);
    EXPECT_EQ(b.deadline, 1750000u);
    EXPECT_FALSE(b.rel_deadline);
    EXPECT_EQ(rq.avg_vruntime(), 500000u);
    EXPECT_EQ(rq.lag(a), -500000);
    EXPECT_EQ(rq.lag(b), 250000);
    EXPECT_EQ(rq.total_weight(), 3072u);
    EXPECT_TRUE(rq.check_invariants());
}

// Same start, A (curr) drops to 512: lag -500000 -> -1e6, relative deadline
// 2e6 -> 4e6. Rejoining next to B (W = 1024): -1e6 * 1536/1024 = -1.5e6, so
// v_A = 1.5e6, d_A = 5.5e6, V = 512 * 1.5e6 / 1536 = 500000.
TEST(EevdfReweight, RunningEntity) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), b = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(1 * kMs);
    rq.reweight(a, 512);
    EXPECT_EQ(rq.curr(), &a);
    EXPECT_EQ(a.vruntime, 1500000u);
    EXPECT_EQ(a.deadline, 5500000u);
    EXPECT_EQ(rq.avg_vruntime(), 500000u);
    EXPECT_EQ(rq.lag(b), 500000);
    EXPECT_FALSE(a.slice_protected);
    EXPECT_TRUE(rq.check_invariants());
    EXPECT_EQ(rq.pick_next(), &b);
}

TEST(EevdfReweight, SleepingEntity) {
    SchedEntity s = entity();
    s.vlag = -500000;
    reweight_detached(s, 2048);
    EXPECT_EQ(s.vlag, -250000);
    s.rel_deadline = true;
    s.deadline = 3000000;
    EevdfRunQueue rq(cfg());
    rq.reweight(s, 1024);  // not queued: same as reweight_detached
    EXPECT_EQ(s.vlag, -500000);
    EXPECT_EQ(s.deadline, 6000000u);
    EXPECT_EQ(s.inv_weight, 4194304u);
}

// ---------------------------------------------------------------------------
// Overflow safety

// Weights of 2^31 and vruntimes straddling 2^63: the products w * (v - v0)
// reach 2^72, far beyond 64 bits.
TEST(EevdfOverflow, HugeWeightsNearTwoToThe63) {
    const u64 z = (u64(1) << 63) - 5 * kMs;
    const u64 w = u64(1) << 31;
    EevdfRunQueue rq(cfg(), z);
    SchedEntity a, b, c;
    a.set_weight(w);
    b.set_weight(w);
    c.set_weight(w);
    rq.enqueue(a, Enqueue::Wakeup);
    EXPECT_EQ(a.vruntime, z);
    EXPECT_EQ(a.deadline, z + 1);  // 3e6 * 1024 * 2 >> 32 = 1

    // vlag -2^40 joining W = 2^31: inflated by 2 to 2^41.
    b.vlag = -(i64(1) << 40);
    rq.enqueue(b, Enqueue::Wakeup);
    EXPECT_EQ(b.vruntime, z + (u64(1) << 41));
    EXPECT_EQ(rq.avg_vruntime(), z + (u64(1) << 40));
    EXPECT_EQ(rq.lag(b), -(i64(1) << 40));
    EXPECT_TRUE(rq.eligible(a));
    EXPECT_FALSE(rq.eligible(b));

    // vlag +2^39 joining W = 2^32: inflated by 3/2 to 3 * 2^38.
    // v_C = z + 2^40 - 3 * 2^38 = z + 2^38; V = z + (2^41 + 2^38)/3 = z + 3 * 2^38.
    c.vlag = i64(1) << 39;
    rq.enqueue(c, Enqueue::Wakeup);
    EXPECT_EQ(c.vruntime, z + (u64(1) << 38));
    EXPECT_EQ(rq.avg_vruntime(), z + 3 * (u64(1) << 38));
    EXPECT_EQ(rq.lag(c), i64(1) << 39);
    EXPECT_EQ(rq.lag(a), 3 * (i64(1) << 38));
    EXPECT_EQ(rq.pick_eevdf(), &a);
    EXPECT_TRUE(rq.check_invariants());
    EXPECT_EQ(rq.min_vruntime(), z);
}

// Many nice -20 entities spread over ±2^52 around 2^64 - 1 (so vruntimes
// wrap): the average must match an independent 128-bit computation.
TEST(EevdfOverflow, AverageMatchesWideReference) {
    const u64 z = ~u64(0) - 1000;
    EevdfRunQueue rq(cfg(), z);
    std::mt19937_64 rng(7);
    std::vector<std::unique_ptr<SchedEntity>> es;
    for (int i = 0; i < 200; ++i) {
        es.push_back(std::make_unique<SchedEntity>(entity(-20)));
        es.back()->vlag = static_cast<i64>(rng() % (u64(1) << 53)) - (i64(1) << 52);
        rq.enqueue(*es.back(), Enqueue::Wakeup);
        ASSERT_TRUE(rq.check_invariants());
    }
    i128 sum = 0, w = 0;
    for (auto& e : es) {
        sum += i128(static_cast<i64>(e->vruntime - z)) * e->weight;
        w += e->weight;
    }
    i128 q = sum / w;
    if (sum % w != 0 && sum < 0) --q;
    EXPECT_EQ(rq.avg_vruntime(), z + static_cast<u64>(static_cast<i64>(q)));
    EXPECT_EQ(rq.pick_eevdf(), reference_pick(rq));
    u64 total;
    i128 s = weighted_lag_sum(rq, &total);
    EXPECT_LE(s, 0);
    EXPECT_GT(s, -i128(total));
}

// ---------------------------------------------------------------------------
// Delayed dequeue

// A runs 1 ms next to B: v_A = 1e6 > V = 500000, so A's sleep is delayed.
TEST(EevdfDelayed, IneligibleSleeperStaysUntilPicked) {
    EevdfRunQueue rq(cfg(true));
    SchedEntity a = entity(), b = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(1 * kMs);
    EXPECT_FALSE(rq.dequeue(a, Dequeue::Sleep));
    EXPECT_TRUE(a.sched_delayed);
    EXPECT_TRUE(a.on_rq);
    EXPECT_EQ(rq.nr_queued(), 2u);
    EXPECT_EQ(rq.nr_running(), 1u);
    EXPECT_EQ(rq.nr_delayed(), 1u);
    EXPECT_EQ(rq.avg_vruntime(), 500000u);  // A still counts
    EXPECT_TRUE(rq.check_invariants());

    EXPECT_EQ(rq.pick_next(), &b);
    rq.update_curr(1 * kMs);  // v_B = 1e6 = V: A is eligible, B protected
    EXPECT_TRUE(rq.eligible(a));
    EXPECT_EQ(rq.pick_eevdf(), &b);
    // 2 ms more: v_B = 3e6 = its deadline, V = 2e6. A (deadline 3e6,
    // eligible) is picked, which completes its dequeue with lag
    // 2e6 - 1e6 = +1e6 clipped to 0 (DELAY_ZERO); B runs on.
    EXPECT_TRUE(rq.update_curr(2 * kMs));
    EXPECT_EQ(rq.pick_next(), &b);
    EXPECT_FALSE(a.on_rq);
    EXPECT_FALSE(a.sched_delayed);
    EXPECT_EQ(a.vlag, 0);
    EXPECT_EQ(rq.nr_queued(), 1u);
    EXPECT_EQ(rq.nr_delayed(), 0u);
    EXPECT_TRUE(rq.check_invariants());

    rq.enqueue(a, Enqueue::Wakeup);  // back at V = v_B = 3e6
    EXPECT_EQ(a.vruntime, 3 * kMs);
    EXPECT_EQ(a.deadline, 6 * kMs);
}

TEST(EevdfDelayed, WakeupOfDelayedEntity) {
    // Still owing (lag -500000): requeued where it is.
    EevdfRunQueue rq(cfg(true));
    SchedEntity a = entity(), b = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(1 * kMs);
    EXPECT_FALSE(rq.dequeue(a, Dequeue::Sleep));
    rq.enqueue(a, Enqueue::Wakeup);
    EXPECT_FALSE(a.sched_delayed);
    EXPECT_EQ(a.vruntime, 1 * kMs);
    EXPECT_EQ(a.deadline, 3 * kMs);
    EXPECT_EQ(rq.nr_running(), 2u);
    EXPECT_EQ(rq.curr(), &a);
    EXPECT_TRUE(rq.check_invariants());

    // Owed service by the time it wakes: back at V with a fresh request.
    // A delayed at 1e6 (d 3e6); B runs 2 ms: v_B = 2e6, V = 1.5e6, A's lag
    // +500000 -> 0, placed at V without A = 2e6, deadline 5e6.
    EXPECT_FALSE(rq.dequeue(a, Dequeue::Sleep));
    EXPECT_EQ(rq.pick_next(), &b);
    rq.update_curr(2 * kMs);
    EXPECT_EQ(rq.avg_vruntime(), 1500000u);
    rq.enqueue(a, Enqueue::Wakeup);
    EXPECT_EQ(a.vlag, 0);
    EXPECT_EQ(a.vruntime, 2 * kMs);
    EXPECT_EQ(a.deadline, 5 * kMs);
    EXPECT_EQ(rq.avg_vruntime(), 2 * kMs);
    EXPECT_TRUE(rq.check_invariants());
}

TEST(EevdfDelayed, EligibleAndSpecialSleepsLeaveAtOnce) {
    EevdfRunQueue rq(cfg(true));
    SchedEntity a = entity(), b = entity(), c = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.enqueue(c, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(1 * kMs);  // A ineligible, B and C eligible
    EXPECT_TRUE(rq.dequeue(b, Dequeue::Sleep));
    EXPECT_FALSE(b.on_rq);
    EXPECT_TRUE(rq.dequeue(a, Dequeue::SleepSpecial));
    EXPECT_FALSE(a.sched_delayed);
    EXPECT_EQ(rq.curr(), nullptr);
    EXPECT_EQ(rq.nr_queued(), 1u);

    // The same ineligible sleep with the feature off leaves at once.
    EevdfRunQueue rq2(cfg(false));
    SchedEntity d = entity(), e = entity();
    rq2.enqueue(d, Enqueue::Wakeup);
    rq2.enqueue(e, Enqueue::Wakeup);
    rq2.pick_next();
    rq2.update_curr(1 * kMs);
    EXPECT_TRUE(rq2.dequeue(d, Dequeue::Sleep));
    EXPECT_EQ(d.vlag, -500000);

    // A delayed entity can be finished explicitly, e.g. before migration.
    EevdfRunQueue rq3(cfg(true));
    SchedEntity f = entity(), g = entity();
    rq3.enqueue(f, Enqueue::Wakeup);
    rq3.enqueue(g, Enqueue::Wakeup);
    rq3.pick_next();
    rq3.update_curr(1 * kMs);
    EXPECT_FALSE(rq3.dequeue(f, Dequeue::Sleep));
    rq3.pick_next();
    EXPECT_TRUE(rq3.dequeue(f, Dequeue::Delayed));
    EXPECT_FALSE(f.on_rq);
    EXPECT_EQ(f.vlag, -500000);  // negative lag is kept
    EXPECT_TRUE(rq3.check_invariants());
}

// ---------------------------------------------------------------------------
// Migration

// A ran 1 ms next to B, then was put back: v_A = 1e6, d_A = 3e6, V = 5e5.
// Detached: vlag -500000, deadline kept as +2e6. Attached to a queue whose
// only entity C sits at 10e6: v_A = 10e6 + 500000 * 2 = 11e6, d_A = 13e6,
// and on the new queue its lag is again -500000.
TEST(EevdfMigrate, DetachAttachKeepsLagAndRelativeDeadline) {
    EevdfRunQueue rq1(cfg()), rq2(cfg(), 10 * kMs);
    SchedEntity a = entity(), b = entity(), c = entity();
    rq1.enqueue(a, Enqueue::Wakeup);
    rq1.enqueue(b, Enqueue::Wakeup);
    rq1.pick_next();
    rq1.update_curr(1 * kMs);
    rq1.put_prev();
    EXPECT_EQ(rq1.curr(), nullptr);
    rq1.detach(a);
    EXPECT_EQ(a.vlag, -500000);
    EXPECT_TRUE(a.rel_deadline);
    EXPECT_EQ(a.deadline, 2 * kMs);
    EXPECT_EQ(rq1.nr_queued(), 1u);

    rq2.enqueue(c, Enqueue::Wakeup);
    rq2.attach(a);
    EXPECT_EQ(a.vruntime, 11 * kMs);
    EXPECT_EQ(a.deadline, 13 * kMs);
    EXPECT_FALSE(a.rel_deadline);
    EXPECT_EQ(rq2.lag(a), -500000);
    EXPECT_TRUE(rq1.check_invariants());
    EXPECT_TRUE(rq2.check_invariants());
}

TEST(EevdfMigrate, SaveRestoreOfRunningTask) {
    EevdfRunQueue rq(cfg());
    SchedEntity a = entity(), b = entity();
    rq.enqueue(a, Enqueue::Wakeup);
    rq.enqueue(b, Enqueue::Wakeup);
    rq.pick_next();
    rq.update_curr(1 * kMs);
    // The sched_change pattern: put_prev, dequeue(Save), change, enqueue(Restore), set_next.
    rq.put_prev();
    rq.dequeue(a, Dequeue::Save);
    rq.set_slice(a, 10 * kMs);
    rq.enqueue(a, Enqueue::Restore);
    rq.set_next(a);
    EXPECT_EQ(a.vruntime, 1 * kMs);  // -500000 * 2 from V = 0
    EXPECT_EQ(a.deadline, 3 * kMs);  // the running request is kept
    EXPECT_EQ(rq.curr(), &a);
    EXPECT_TRUE(rq.check_invariants());
}

TEST(EevdfCheck, InvariantCheckerCatchesCorruption) {
    EevdfRunQueue rq(cfg());
    SchedEntity es[6];
    for (auto& e : es) {
        e.vlag = 1000;
        rq.enqueue(e, Enqueue::Wakeup);
    }
    ASSERT_TRUE(rq.check_invariants());
    RbNode* top = &es[0].run_node;
    while (top->parent) top = top->parent;
    SchedEntity* root = EntityTree::entry(top);
    u64 saved = root->min_vruntime;
    root->min_vruntime += 12345;
    EXPECT_FALSE(rq.check_invariants());
    root->min_vruntime = saved;
    EXPECT_TRUE(rq.check_invariants());
    u64 saved_v = es[3].vruntime;
    es[3].vruntime += 1;  // sums no longer match
    EXPECT_FALSE(rq.check_invariants());
    es[3].vruntime = saved_v;
    EXPECT_TRUE(rq.check_invariants());
}

// ---------------------------------------------------------------------------
// Simulation

// Nice 0, 5 and -3 share one CPU for 10 s of 1 ms ticks. Each must get its
// weight's share (1024, 335, 1991 of 3350) within 1%, and Σ lag must stay
// zero at every step.
TEST(EevdfSim, SharesFollowWeights) {
    EevdfConfig c;
    c.base_slice = base_slice_for_cpus(8);
    EevdfRunQueue rq(c, ~u64(0) - (u64(1) << 20));  // start near the wrap
    SchedEntity t[3] = {entity(0), entity(5), entity(-3)};
    for (auto& e : t) rq.enqueue(e, Enqueue::Initial);
    rq.pick_next();
    u64 total_w = 1024 + 335 + 1991;
    for (int tick = 0; tick < 10000; ++tick) {
        if (rq.update_curr(kMs)) rq.pick_next();
        ASSERT_TRUE(rq.check_invariants());
        u64 w;
        i128 s = weighted_lag_sum(rq, &w);
        ASSERT_EQ(w, total_w);
        ASSERT_LE(s, 0);
        ASSERT_GT(s, -i128(w));
        // Each lag stays within a request plus a tick of real time.
        for (auto& e : t) {
            i128 real_lag = i128(rq.lag(e)) * e.weight / 1024;
            ASSERT_LT(real_lag < 0 ? -real_lag : real_lag, i128(c.base_slice + kMs));
        }
    }
    for (auto& e : t) {
        double share = double(e.sum_exec_runtime) / double(10000 * kMs);
        double want = double(e.weight) / double(total_w);
        EXPECT_NEAR(share, want, want * 0.01) << "weight " << e.weight;
    }
    EXPECT_EQ(t[0].sum_exec_runtime + t[1].sum_exec_runtime + t[2].sum_exec_runtime, 10000 * kMs);
}

// Random wakeups, sleeps, ticks, reweights, slice changes, yields and
// migrations across two queues. After every operation: the invariant checker,
// Σ lag = 0, and pick_eevdf() equal to the brute-force reference.
void random_ops(bool delay, unsigned seed) {
    std::mt19937 rng(seed);
    EevdfConfig c = cfg(delay);
    EevdfRunQueue rqs[2] = {EevdfRunQueue(c, ~u64(0) - 5 * kMs), EevdfRunQueue(c, u64(1) << 63)};
    constexpr int n = 16;
    std::vector<std::unique_ptr<SchedEntity>> es;
    std::vector<int> home(n, 0);  // which queue an entity last lived on
    int delayed = 0, migrated = 0, preempted = 0, heap_picks = 0;
    for (int i = 0; i < n; ++i) {
        es.push_back(std::make_unique<SchedEntity>(entity(static_cast<int>(rng() % 40) - 20)));
        home[i] = i % 2;
        rqs[home[i]].enqueue(*es[i], Enqueue::Initial);
    }
    auto check = [&](int step) {
        for (auto& rq : rqs) {
            ASSERT_TRUE(rq.check_invariants()) << "step " << step;
            ASSERT_EQ(rq.pick_eevdf(), reference_pick(rq)) << "step " << step;
            u64 w;
            i128 s = weighted_lag_sum(rq, &w);
            ASSERT_LE(s, 0) << "step " << step;
            ASSERT_GT(s, -i128(w) - (w == 0)) << "step " << step;
        }
    };
    check(-1);
    for (int step = 0; step < 8000; ++step) {
        int q = static_cast<int>(rng() % 2);
        EevdfRunQueue& rq = rqs[q];
        int i = static_cast<int>(rng() % n);
        SchedEntity& e = *es[i];
        // Wakeups outnumber blocks so that the queues stay populated.
        switch (rng() % 12) {
        case 0:
        case 1:
        case 9:  // tick
            if (rq.update_curr(1 + rng() % (4 * kMs)) || !rq.curr()) rq.pick_next();
            break;
        case 2:
        case 10:
        case 11:  // wakeup
            if (!e.on_rq || e.sched_delayed) {
                EevdfRunQueue& target = e.sched_delayed ? rqs[home[i]] : rq;
                if (!e.sched_delayed) home[i] = q;
                target.enqueue(e, Enqueue::Wakeup);
                if (target.wakeup_preempt(e)) {
                    ++preempted;
                    target.pick_next();
                }
            }
            break;
        case 3:  // the running task blocks
            if (SchedEntity* cur = rq.curr(); cur && !cur->sched_delayed) {
                delayed += !rq.dequeue(*cur, rng() % 4 ? Dequeue::Sleep : Dequeue::SleepSpecial);
                rq.pick_next();
            }
            break;
        case 4:  // nice change, queued or not
            if (e.on_rq)
                rqs[home[i]].reweight(e, nice_to_weight(static_cast<int>(rng() % 40) - 20));
            else
                reweight_detached(e, nice_to_weight(static_cast<int>(rng() % 40) - 20));
            break;
        case 5:  // sched_setattr slice
            rqs[home[i]].set_slice(e, rng() % 3 ? 0 : rng() % (20 * kMs));
            break;
        case 6:  // migrate a waiting entity to the other queue
            if (e.on_rq && !e.sched_delayed && rqs[home[i]].curr() != &e) {
                rqs[home[i]].detach(e);
                home[i] ^= 1;
                rqs[home[i]].attach(e);
                ++migrated;
            }
            break;
        case 7:
            rq.yield();
            rq.pick_next();
            break;
        case 8:  // finish a delayed dequeue explicitly, as before an exit
            if (e.sched_delayed) rqs[home[i]].dequeue(e, Dequeue::Delayed);
            break;
        }
        check(step);
        if (::testing::Test::HasFatalFailure()) return;
        for (auto& r : rqs) {
            SchedEntity* p = r.pick_eevdf();
            heap_picks += p && p != r.first() && p != r.curr();
        }
    }
    // The run must have exercised what it claims to.
    EXPECT_EQ(delayed > 20, delay);
    EXPECT_GT(migrated, 100);
    EXPECT_GT(preempted, 100);
    EXPECT_GT(heap_picks, 200);  // picks found by the tree search
}

TEST(EevdfSim, RandomOpsWithDelayedDequeue) {
    for (unsigned seed = 1; seed <= 3; ++seed) random_ops(true, seed);
}

TEST(EevdfSim, RandomOpsWithoutDelayedDequeue) {
    for (unsigned seed = 11; seed <= 13; ++seed) random_ops(false, seed);
}

// Two equal tasks that only call sched_yield take turns on every call, as
// on Linux, whatever a switch costs the task switched to: each call charges
// the caller (cost c), a switch charges the task switched to (extra s).
TEST(EevdfSim, YieldAlternates) {
    for (u64 s : {0ull, 300ull, 2000ull, 5000ull}) {
        EevdfConfig c;
        EevdfRunQueue rq(c);
        SchedEntity t[2] = {entity(0), entity(0)};
        for (auto& e : t) rq.enqueue(e, Enqueue::Initial);
        SchedEntity* cur = rq.pick_next();
        int switches = 0, calls = 4000;
        u64 pending = 0;  // the switch cost still to charge to cur
        for (int i = 0; i < calls; ++i) {
            rq.update_curr(1500 + pending);
            pending = 0;
            rq.yield();
            rq.update_curr(100);
            SchedEntity* next = rq.pick_next();
            if (next != cur) {
                ++switches;
                pending = s;
            }
            cur = next;
        }
        EXPECT_EQ(switches, calls) << "switch cost " << s;
    }
}

// The same when one task does more work per turn than the other: with only
// the deadline pushed, the lighter task stayed the one eligible entity after
// its own yield and ran several turns in a row (Linux alternates: the
// yielder forfeits its vruntime up to its deadline).
TEST(EevdfSim, YieldAlternatesWithUnequalTurns) {
    for (u64 extra : {300ull, 6000ull, 100000ull}) {
        EevdfRunQueue rq(EevdfConfig{});
        SchedEntity t[2] = {entity(0), entity(0)};
        for (auto& e : t) rq.enqueue(e, Enqueue::Initial);
        SchedEntity* cur = rq.pick_next();
        int switches = 0, calls = 4000;
        for (int i = 0; i < calls; ++i) {
            rq.update_curr(1500 + (cur == &t[0] ? extra : 0));
            rq.yield();
            SchedEntity* next = rq.pick_next();
            switches += next != cur;
            cur = next;
        }
        EXPECT_EQ(switches, calls) << "extra work " << extra;
    }
}
