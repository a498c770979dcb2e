#include <gtest/gtest.h>

#include "lib/intrusive_list.h"
#include "lib/result.h"

using namespace keel;

static Result<int> half(int v) {
    if (v % 2) return Error(EINVAL);
    return v / 2;
}

static Result<int> quarter(int v) {
    int h = TRY(half(v));
    return TRY(half(h));
}

TEST(Result, TryPropagatesError) {
    EXPECT_EQ(quarter(8).value(), 2);
    auto r = quarter(6);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code(), EINVAL);
}

struct Item {
    int v;
    ListNode node;
};

TEST(IntrusiveList, PushRemoveOrder) {
    IntrusiveList<Item, &Item::node> list;
    Item a{1, {}}, b{2, {}}, c{3, {}};
    list.push_back(a);
    list.push_back(b);
    list.push_front(c);
    EXPECT_EQ(list.size(), 3u);
    EXPECT_EQ(list.front()->v, 3);
    list.remove(a);
    EXPECT_EQ(list.back()->v, 2);
    EXPECT_EQ(list.pop_front()->v, 3);
    EXPECT_EQ(list.pop_front()->v, 2);
    EXPECT_TRUE(list.empty());
    EXPECT_FALSE(a.node.linked());
}

TEST(IntrusiveList, NextAndPrevStopAtTheEnds) {
    IntrusiveList<Item, &Item::node> list;
    Item a{1, {}}, b{2, {}}, c{3, {}};
    list.push_back(a);
    list.push_back(b);
    list.push_back(c);
    EXPECT_EQ(list.prev(a), nullptr);
    EXPECT_EQ(list.prev(b), &a);
    EXPECT_EQ(list.prev(c), &b);
    EXPECT_EQ(list.next(c), nullptr);
    EXPECT_EQ(list.next(a), &b);
}
