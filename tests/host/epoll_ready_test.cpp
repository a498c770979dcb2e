#include <gtest/gtest.h>

#include <vector>

#include "fs/epoll_ready.h"

using namespace keel;
using namespace keel::fs;

namespace {

struct Item : EpollReadyItem {
    int id = 0;
    u32 poll = 0;  // what the file's poll would answer
};

// One epoll_wait pass as fs/epoll.cpp runs it: returns the ids reported.
std::vector<int> scan(EpollReadyList& rl, usize max, std::vector<Item*>* wake_during = nullptr) {
    EpollReadyList::List tx;
    rl.start_scan(tx);
    std::vector<int> out;
    bool woke = false;
    while (out.size() < max) {
        auto* it = static_cast<Item*>(tx.pop_front());
        if (!it) break;
        if (wake_during && !woke) {
            for (Item* w : *wake_during) rl.wake(*w, 0);
            woke = true;
        }
        if (!(it->poll & it->events)) {
            rl.scanned_idle(*it);
            continue;
        }
        out.push_back(it->id);
        rl.scanned_reported(*it);
    }
    rl.done_scan(tx);
    return out;
}

Item make_item(int id, u32 events, u32 poll) {
    Item it;
    it.id = id;
    it.events = events;
    it.poll = poll;
    return it;
}

TEST(EpollReady, LevelTriggeredStaysReady) {
    EpollReadyList rl;
    Item a = make_item(1, EPOLLIN, EPOLLIN);
    EXPECT_TRUE(rl.wake(a, EPOLLIN));
    EXPECT_EQ(scan(rl, 8), std::vector<int>{1});
    EXPECT_EQ(scan(rl, 8), std::vector<int>{1});
    a.poll = 0;  // drained
    EXPECT_TRUE(scan(rl, 8).empty());
    EXPECT_TRUE(rl.empty());
    EXPECT_TRUE(scan(rl, 8).empty());
}

TEST(EpollReady, EdgeTriggeredReportsOncePerWake) {
    EpollReadyList rl;
    Item a = make_item(1, EPOLLIN | EPOLLET, EPOLLIN);
    rl.wake(a, EPOLLIN);
    EXPECT_EQ(scan(rl, 8), std::vector<int>{1});
    EXPECT_TRUE(scan(rl, 8).empty());
    rl.wake(a, EPOLLIN);
    EXPECT_EQ(scan(rl, 8), std::vector<int>{1});
}

TEST(EpollReady, OneShotDisarmsUntilModified) {
    EpollReadyList rl;
    Item a = make_item(1, EPOLLIN | EPOLLONESHOT, EPOLLIN);
    rl.wake(a, 0);
    EXPECT_EQ(scan(rl, 8), std::vector<int>{1});
    EXPECT_FALSE(a.armed());
    EXPECT_FALSE(rl.wake(a, EPOLLIN));
    EXPECT_TRUE(scan(rl, 8).empty());
    a.events = EPOLLIN | EPOLLONESHOT;  // EPOLL_CTL_MOD
    rl.enqueue(a);
    EXPECT_EQ(scan(rl, 8), std::vector<int>{1});
}

TEST(EpollReady, KeyFiltersUninterestingWakeups) {
    EpollReadyList rl;
    Item a = make_item(1, EPOLLIN, EPOLLIN | EPOLLOUT);
    EXPECT_FALSE(rl.wake(a, EPOLLOUT));
    EXPECT_TRUE(rl.empty());
    EXPECT_TRUE(rl.wake(a, EPOLLOUT | EPOLLIN));
    EXPECT_TRUE(rl.wake(a, EPOLLIN));  // already queued: still wakes, queued once
    EXPECT_EQ(rl.size(), 1u);
}

TEST(EpollReady, MaxEventsRoundRobin) {
    EpollReadyList rl;
    Item a = make_item(1, EPOLLIN, EPOLLIN), b = make_item(2, EPOLLIN, EPOLLIN), c = make_item(3, EPOLLIN, EPOLLIN);
    rl.wake(a, 0);
    rl.wake(b, 0);
    rl.wake(c, 0);
    EXPECT_EQ(scan(rl, 1), std::vector<int>{1});
    EXPECT_EQ(scan(rl, 1), std::vector<int>{2});
    EXPECT_EQ(scan(rl, 2), (std::vector<int>{3, 1}));
    EXPECT_EQ(scan(rl, 8), (std::vector<int>{2, 3, 1}));
}

TEST(EpollReady, SkippedItemsLeaveWhileUnreachedStay) {
    EpollReadyList rl;
    Item a = make_item(1, EPOLLIN, 0), b = make_item(2, EPOLLIN, EPOLLIN), c = make_item(3, EPOLLIN | EPOLLET, EPOLLIN);
    rl.wake(a, 0);
    rl.wake(b, 0);
    rl.wake(c, 0);
    // a polls empty and leaves; b reports and goes to the tail; c is not
    // reached and stays in front.
    EXPECT_EQ(scan(rl, 1), std::vector<int>{2});
    EXPECT_EQ(rl.size(), 2u);
    EXPECT_EQ(static_cast<Item*>(rl.front())->id, 3);
    EXPECT_EQ(scan(rl, 8), (std::vector<int>{3, 2}));
    EXPECT_EQ(scan(rl, 8), std::vector<int>{2});
}

TEST(EpollReady, WakeDuringScanIsNotLost) {
    EpollReadyList rl;
    // ET item that polls empty at scan time but is woken meanwhile: it must
    // stay queued for the next scan.
    Item a = make_item(1, EPOLLIN | EPOLLET, 0), b = make_item(2, EPOLLIN | EPOLLET, 0);
    rl.wake(a, 0);
    rl.wake(b, 0);
    std::vector<Item*> w{&a};
    EXPECT_TRUE(scan(rl, 8, &w).empty());
    EXPECT_EQ(rl.size(), 1u);
    a.poll = EPOLLIN;
    EXPECT_EQ(scan(rl, 8), std::vector<int>{1});
    EXPECT_TRUE(rl.empty());
}

TEST(EpollReady, RemoveQueuedItem) {
    EpollReadyList rl;
    Item a = make_item(1, EPOLLIN, EPOLLIN), b = make_item(2, EPOLLIN, EPOLLIN);
    rl.wake(a, 0);
    rl.wake(b, 0);
    rl.remove(a);
    EXPECT_EQ(scan(rl, 8), std::vector<int>{2});
    rl.remove(a);  // idle: nothing to do
    rl.remove(b);
    EXPECT_TRUE(rl.empty());
}

}  // namespace
