// The memory controller's page counter: charges, limits, peaks and
// memory.high overage, alone and in a hierarchy.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "kernel/cgroup/memcg_counter.h"

using namespace keel;
using namespace keel::memcg;

TEST(MemcgCounter, ChargeUnchargeAndPeak) {
    PageCounter c;
    EXPECT_EQ(counter_try_charge(&c, 3), nullptr);
    EXPECT_EQ(c.read(), 3u);
    counter_uncharge(&c, 2);
    EXPECT_EQ(c.read(), 1u);
    EXPECT_EQ(c.peak(), 3u);
    counter_charge(&c, 1);
    EXPECT_EQ(c.read(), 2u);
    EXPECT_EQ(c.peak(), 3u);
}

TEST(MemcgCounter, LimitRefusesAndCountsFailures) {
    PageCounter c;
    c.max = 4;
    EXPECT_EQ(counter_try_charge(&c, 4), nullptr);
    EXPECT_EQ(counter_try_charge(&c, 1), &c);
    EXPECT_EQ(c.read(), 4u);
    EXPECT_EQ(c.failcnt, 1u);
    // A forced charge goes over (a charge that must not fail).
    counter_charge(&c, 2);
    EXPECT_EQ(c.read(), 6u);
    EXPECT_EQ(c.peak(), 6u);
}

TEST(MemcgCounter, HierarchyChargesEveryLevel) {
    PageCounter top, mid, leaf, other;
    mid.parent = &top;
    leaf.parent = &mid;
    other.parent = &top;
    EXPECT_EQ(counter_try_charge(&leaf, 5), nullptr);
    EXPECT_EQ(counter_try_charge(&other, 2), nullptr);
    EXPECT_EQ(leaf.read(), 5u);
    EXPECT_EQ(mid.read(), 5u);
    EXPECT_EQ(top.read(), 7u);
    counter_uncharge(&leaf, 5);
    EXPECT_EQ(mid.read(), 0u);
    EXPECT_EQ(top.read(), 2u);
    EXPECT_EQ(top.peak(), 7u);
}

TEST(MemcgCounter, AncestorLimitBacksOutLowerLevels) {
    PageCounter top, leaf, sibling;
    top.max = 10;
    leaf.parent = &top;
    sibling.parent = &top;
    EXPECT_EQ(counter_try_charge(&sibling, 8), nullptr);
    EXPECT_EQ(counter_try_charge(&leaf, 3), &top);
    EXPECT_EQ(leaf.read(), 0u);
    EXPECT_EQ(top.read(), 8u);
    EXPECT_EQ(top.failcnt, 1u);
    EXPECT_EQ(leaf.failcnt, 0u);
    EXPECT_EQ(counter_try_charge(&leaf, 2), nullptr);
    EXPECT_EQ(top.read(), 10u);
}

TEST(MemcgCounter, LocalPeakRestartsFromUsage) {
    PageCounter c;
    counter_charge(&c, 10);
    counter_uncharge(&c, 7);
    EXPECT_EQ(reset_local_peak(c), 3u);
    EXPECT_EQ(c.local_peak(), 3u);
    EXPECT_EQ(c.peak(), 10u);
    counter_charge(&c, 2);
    EXPECT_EQ(c.local_peak(), 5u);
}

TEST(MemcgCounter, HighOverageIsTheWorstLevel) {
    PageCounter top, leaf;
    leaf.parent = &top;
    EXPECT_EQ(high_overage(&leaf), 0u);
    top.high = 100;
    leaf.high = 50;
    counter_charge(&leaf, 60);  // leaf 20% over, top under
    EXPECT_EQ(high_overage(&leaf), (10ull << 20) / 50);
    counter_charge(&leaf, 90);  // leaf 200% over, top 50%
    EXPECT_EQ(high_overage(&leaf), (100ull << 20) / 50);
    EXPECT_EQ(high_overage(&top), (50ull << 20) / 100);
}

TEST(MemcgCounter, ConcurrentChargersNeverExceedTheLimit) {
    PageCounter top, a, b;
    top.max = 1000;
    a.parent = &top;
    b.parent = &top;
    auto hammer = [](PageCounter* c, int* got) {
        for (int i = 0; i < 2000; ++i)
            if (!counter_try_charge(c, 1)) ++*got;
    };
    int got_a = 0, got_b = 0;
    std::thread ta(hammer, &a, &got_a), tb(hammer, &b, &got_b);
    ta.join();
    tb.join();
    EXPECT_EQ(got_a + got_b, 1000);
    EXPECT_EQ(top.read(), 1000u);
    EXPECT_EQ(a.read() + b.read(), 1000u);
    EXPECT_LE(top.peak(), 1000u);
}

TEST(MemcgCounter, ObjectBytesAreChargedAsWholePages) {
    PageCounter top, leaf;
    leaf.parent = &top;
    u64 bytes = 0;
    EXPECT_EQ(counter_try_charge_bytes(&leaf, &bytes, 100), nullptr);
    EXPECT_EQ(leaf.read(), 1u);
    EXPECT_EQ(top.read(), 1u);
    EXPECT_EQ(counter_try_charge_bytes(&leaf, &bytes, 3996), nullptr);  // exactly one page
    EXPECT_EQ(leaf.read(), 1u);
    EXPECT_EQ(counter_try_charge_bytes(&leaf, &bytes, 1), nullptr);
    EXPECT_EQ(leaf.read(), 2u);
    EXPECT_EQ(counter_try_charge_bytes(&leaf, &bytes, 8192), nullptr);
    EXPECT_EQ(bytes, 4097u + 8192u);
    EXPECT_EQ(top.read(), 4u);
    counter_uncharge_bytes(&leaf, &bytes, 8192);
    EXPECT_EQ(leaf.read(), 2u);
    counter_uncharge_bytes(&leaf, &bytes, 1);
    EXPECT_EQ(leaf.read(), 1u);
    counter_uncharge_bytes(&leaf, &bytes, 4096);
    EXPECT_EQ(bytes, 0u);
    EXPECT_EQ(leaf.read(), 0u);
    EXPECT_EQ(top.read(), 0u);
}

TEST(MemcgCounter, ObjectBytesOverTheLimitChangeNothing) {
    PageCounter top, leaf;
    leaf.parent = &top;
    top.max = 2;
    u64 bytes = 0;
    EXPECT_EQ(counter_try_charge_bytes(&leaf, &bytes, 5000), nullptr);  // 2 pages
    EXPECT_EQ(counter_try_charge_bytes(&leaf, &bytes, 3000), nullptr);  // still 2 pages
    EXPECT_EQ(counter_try_charge_bytes(&leaf, &bytes, 500), &top);      // a third page
    EXPECT_EQ(bytes, 8000u);
    EXPECT_EQ(leaf.read(), 2u);
    EXPECT_EQ(top.failcnt, 1u);
}

TEST(MemcgCounter, ConcurrentObjectChargesKeepTheRounding) {
    PageCounter c;
    u64 bytes = 0;
    auto churn = [&](usize size) {
        for (int i = 0; i < 20000; ++i) {
            ASSERT_EQ(counter_try_charge_bytes(&c, &bytes, size), nullptr);
            if (i % 3) counter_uncharge_bytes(&c, &bytes, size);
        }
    };
    std::thread t1(churn, 96), t2(churn, 200);
    t1.join();
    t2.join();
    u64 left = 96u * 6667 + 200u * 6667;
    EXPECT_EQ(bytes, left);
    EXPECT_EQ(c.read(), slab_pages(left));
}
