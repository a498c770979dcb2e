// The real-time run queue's order and the RT throttling budget.
#include <gtest/gtest.h>

#include "kernel/sched/rt_queue.h"

using namespace keel;
using namespace keel::sched;

namespace {

struct Task {
    ListNode node;
    int id = 0;
};
using Queue = RtPrioQueue<Task, &Task::node>;

constexpr u64 kMs = 1000000;

TEST(RtQueue, HighestPriorityFirstThenFifo) {
    Queue q;
    Task a{{}, 1}, b{{}, 2}, c{{}, 3}, d{{}, 4};
    EXPECT_EQ(q.top(), nullptr);
    EXPECT_EQ(q.top_prio(), 0u);
    q.push_back(a, 10);
    q.push_back(b, 99);
    q.push_back(c, 10);
    q.push_back(d, 64);  // the second bitmap word
    EXPECT_EQ(q.size(), 4u);
    EXPECT_EQ(q.top()->id, 2);
    q.remove(b, 99);
    EXPECT_EQ(q.top()->id, 4);
    q.remove(d, 64);
    EXPECT_EQ(q.top()->id, 1);  // FIFO among equals
    q.requeue_tail(a, 10);      // sched_yield, an RR slice used up
    EXPECT_EQ(q.top()->id, 3);
    EXPECT_EQ(q.count_at(10), 2u);
    q.push_front(b, 10);  // a lowered priority goes first among its new peers
    EXPECT_EQ(q.top()->id, 2);
}

TEST(RtBandwidth, ThrottlesAfterTheRuntimeOfEachPeriod) {
    RtBandwidth bw;
    u64 t = 5000 * kMs;  // periods are aligned to multiples of 1 s
    bw.charge(0, t);
    EXPECT_EQ(bw.left(t), 950 * kMs);
    bw.charge(900 * kMs, t + 900 * kMs);
    EXPECT_FALSE(bw.exhausted(t + 900 * kMs));
    EXPECT_EQ(bw.next_check(t + 900 * kMs), 50 * kMs);
    bw.charge(50 * kMs, t + 950 * kMs);
    EXPECT_TRUE(bw.exhausted(t + 950 * kMs));
    // The next period renews the budget.
    EXPECT_FALSE(bw.exhausted(t + 1000 * kMs));
}

TEST(RtBandwidth, TimeBeforeAPeriodBoundaryIsNotChargedToTheNext) {
    RtBandwidth bw;
    u64 t = 7300 * kMs;
    bw.charge(0, t);
    // Ran from 7.3 s to 8.25 s in one stretch: only 250 ms fall in [8 s, 9 s).
    bw.charge(950 * kMs, 8250 * kMs);
    EXPECT_EQ(bw.used, 250 * kMs);
    EXPECT_FALSE(bw.exhausted(8250 * kMs));
    // The check before the boundary comes at the period's end.
    RtBandwidth b2;
    b2.charge(0, t);
    EXPECT_EQ(b2.next_check(t), 700 * kMs);
}

TEST(RtBandwidth, UnlimitedNeverThrottles) {
    RtBandwidth bw;
    bw.runtime_ns = ~0ull;
    bw.charge(999 * kMs, 999 * kMs);
    EXPECT_FALSE(bw.exhausted(999 * kMs));
}

}  // namespace
