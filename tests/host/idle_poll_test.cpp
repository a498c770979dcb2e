// The idle CPU's adaptive polling window (kernel/sched/idle_poll.h).
#include "kernel/sched/idle_poll.h"

#include <gtest/gtest.h>

using keel::sched::IdlePoll;

TEST(IdlePoll, StartsWithoutPolling) {
    IdlePoll p;
    EXPECT_EQ(p.limit_ns(), 0u);
}

TEST(IdlePoll, ShortSleepsGrowTheWindowUpToTheCap) {
    IdlePoll p;
    p.adjust(10000);  // woken 10 us after going idle: polling would have caught it
    EXPECT_EQ(p.limit_ns(), IdlePoll::GROW_START_NS);
    p.adjust(IdlePoll::GROW_START_NS + 1);
    EXPECT_EQ(p.limit_ns(), 2 * IdlePoll::GROW_START_NS);
    for (int i = 0; i < 10; ++i) p.adjust(IdlePoll::MAX_NS);
    EXPECT_EQ(p.limit_ns(), IdlePoll::MAX_NS);
}

TEST(IdlePoll, WakeUpsCaughtByPollingKeepTheWindow) {
    IdlePoll p;
    p.adjust(10000);
    p.adjust(60000);
    keel::u64 before = p.limit_ns();
    p.adjust(before / 2);
    EXPECT_EQ(p.limit_ns(), before);
}

TEST(IdlePoll, LongSleepsShrinkItToNothing) {
    IdlePoll p;
    for (int i = 0; i < 5; ++i) p.adjust(150000);
    EXPECT_EQ(p.limit_ns(), IdlePoll::MAX_NS);
    p.adjust(5 * IdlePoll::MAX_NS);
    EXPECT_EQ(p.limit_ns(), IdlePoll::MAX_NS / 2);
    for (int i = 0; i < 64; ++i) p.adjust(1000000000);
    EXPECT_EQ(p.limit_ns(), 0u);
}
