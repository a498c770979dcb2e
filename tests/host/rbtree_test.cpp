#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "lib/rbtree.h"

using namespace keel;

namespace {

// Keyed by `key`; augmented with the subtree minimum of an unrelated `val`
// (what the scheduler does with vruntime) and the subtree size (an order
// statistic), to check that aggregates survive every rotation.
struct Item {
    int key = 0;
    int val = 0;
    int id = 0;
    RbNode node;
    int sub_min = 0;
    usize sub_size = 0;
};

struct ItemTraits {
    static bool less(const Item& a, const Item& b) { return a.key < b.key; }
    static bool recompute(Item& it);
};
using Tree = RbTree<Item, &Item::node, ItemTraits>;

bool ItemTraits::recompute(Item& it) {
    int m = it.val;
    usize n = 1;
    if (Item* l = Tree::left(it)) {
        m = std::min(m, l->sub_min);
        n += l->sub_size;
    }
    if (Item* r = Tree::right(it)) {
        m = std::min(m, r->sub_min);
        n += r->sub_size;
    }
    bool changed = m != it.sub_min || n != it.sub_size;
    it.sub_min = m;
    it.sub_size = n;
    return changed;
}

struct PlainTraits {
    static bool less(const Item& a, const Item& b) { return a.key < b.key; }
};
using PlainTree = RbTree<Item, &Item::node, PlainTraits>;

// Recomputes every aggregate from scratch; returns the subtree size or -1.
long check_aggregates(const Item* it) {
    if (!it) return 0;
    long l = check_aggregates(Tree::left(*it));
    long r = check_aggregates(Tree::right(*it));
    if (l < 0 || r < 0) return -1;
    int m = it->val;
    if (Tree::left(*it)) m = std::min(m, Tree::left(*it)->sub_min);
    if (Tree::right(*it)) m = std::min(m, Tree::right(*it)->sub_min);
    if (m != it->sub_min || static_cast<usize>(l + r + 1) != it->sub_size) return -1;
    return l + r + 1;
}

int depth(const Item* it) {
    if (!it) return 0;
    return 1 + std::max(depth(Tree::left(*it)), depth(Tree::right(*it)));
}

// k-th smallest (0-based) using the size aggregate: O(log n).
const Item* select(const Tree& t, usize k) {
    const Item* it = t.root();
    while (it) {
        usize ls = Tree::left(*it) ? Tree::left(*it)->sub_size : 0;
        if (k < ls) {
            it = Tree::left(*it);
        } else if (k == ls) {
            return it;
        } else {
            k -= ls + 1;
            it = Tree::right(*it);
        }
    }
    return nullptr;
}

}  // namespace

TEST(RbTree, EmptyTree) {
    Tree t;
    EXPECT_TRUE(t.empty());
    EXPECT_EQ(t.first(), nullptr);
    EXPECT_EQ(t.last(), nullptr);
    EXPECT_EQ(t.root(), nullptr);
    EXPECT_EQ(t.validate(), 1);  // just the null leaf
}

// Ascending inserts 1..7 under the standard bottom-up algorithm give
// 2B(1B, 4R(3B, 6B(5R, 7R))), worked out by hand step by step.
TEST(RbTree, AscendingInsertShape) {
    Item items[7];
    PlainTree t;
    for (int i = 0; i < 7; ++i) {
        items[i].key = i + 1;
        t.insert(items[i]);
    }
    const Item* root = t.root();
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(root->key, 2);
    EXPECT_FALSE(root->node.red);
    EXPECT_EQ(PlainTree::left(*root)->key, 1);
    EXPECT_FALSE(PlainTree::left(*root)->node.red);
    const Item* four = PlainTree::right(*root);
    EXPECT_EQ(four->key, 4);
    EXPECT_TRUE(four->node.red);
    EXPECT_EQ(PlainTree::left(*four)->key, 3);
    const Item* six = PlainTree::right(*four);
    EXPECT_EQ(six->key, 6);
    EXPECT_FALSE(six->node.red);
    EXPECT_TRUE(PlainTree::left(*six)->node.red);
    EXPECT_EQ(PlainTree::right(*six)->key, 7);
    EXPECT_EQ(t.validate(), 3);
    EXPECT_EQ(t.first()->key, 1);
    EXPECT_EQ(t.last()->key, 7);
    EXPECT_EQ(t.size(), 7u);
}

TEST(RbTree, EqualKeysKeepInsertionOrder) {
    Item items[10];
    Tree t;
    for (int i = 0; i < 10; ++i) {
        items[i].key = i % 2;  // alternating 0, 1, 0, 1, ...
        items[i].id = i;
        t.insert(items[i]);
    }
    std::vector<int> ids;
    t.for_each([&](Item& it) { ids.push_back(it.id); });
    EXPECT_EQ(ids, (std::vector<int>{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}));
    EXPECT_EQ(t.first()->id, 0);
    t.erase(items[0]);
    EXPECT_EQ(t.first()->id, 2);
}

TEST(RbTree, IterateBothWays) {
    Item items[50];
    Tree t;
    for (int i = 0; i < 50; ++i) {
        items[i].key = (i * 37) % 50;  // a permutation of 0..49
        t.insert(items[i]);
    }
    int expect = 0;
    for (Item* it = t.first(); it; it = Tree::next(*it)) EXPECT_EQ(it->key, expect++);
    EXPECT_EQ(expect, 50);
    for (Item* it = t.last(); it; it = Tree::prev(*it)) EXPECT_EQ(it->key, --expect);
    EXPECT_EQ(expect, 0);
}

TEST(RbTree, HeightStaysLogarithmic) {
    constexpr int n = 1023;
    std::vector<Item> items(n);
    Tree t;
    for (int i = 0; i < n; ++i) {
        items[i].key = i;
        items[i].val = -i;
        t.insert(items[i]);
    }
    int h = t.validate();
    ASSERT_GT(h, 0);
    // Red-black bound: depth <= 2 log2(n + 1) = 20 for n = 1023.
    EXPECT_LE(depth(t.root()), 20);
    EXPECT_EQ(t.root()->sub_size, static_cast<usize>(n));
    EXPECT_EQ(t.root()->sub_min, -(n - 1));
    EXPECT_EQ(select(t, 500)->key, 500);
}

TEST(RbTree, PropagateAfterInPlaceChange) {
    Item items[20];
    Tree t;
    for (int i = 0; i < 20; ++i) {
        items[i].key = i;
        items[i].val = 100 + i;
        t.insert(items[i]);
    }
    EXPECT_EQ(t.root()->sub_min, 100);
    items[13].val = 7;
    t.propagate(items[13]);
    EXPECT_EQ(t.root()->sub_min, 7);
    EXPECT_GE(check_aggregates(t.root()), 0);
    items[13].val = 500;
    t.propagate(items[13]);
    EXPECT_EQ(t.root()->sub_min, 100);
    EXPECT_GE(check_aggregates(t.root()), 0);
}

// Random inserts and erases against std::multiset, checking shape, order,
// the cached leftmost and both aggregates after every operation.
TEST(RbTree, RandomAgainstMultiset) {
    for (unsigned seed = 1; seed <= 4; ++seed) {
        std::mt19937 rng(seed);
        constexpr int kPool = 300;
        std::vector<std::unique_ptr<Item>> pool;
        for (int i = 0; i < kPool; ++i) {
            pool.push_back(std::make_unique<Item>());
            pool.back()->id = i;
        }
        Tree t;
        std::multiset<std::pair<int, int>> ref;  // (key, val)
        std::vector<Item*> in, out;
        for (auto& p : pool) out.push_back(p.get());

        for (int step = 0; step < 6000; ++step) {
            bool do_insert = !out.empty() && (in.empty() || rng() % 100 < 55);
            if (do_insert) {
                usize k = rng() % out.size();
                Item* it = out[k];
                out.erase(out.begin() + static_cast<long>(k));
                it->key = static_cast<int>(rng() % 64);  // many duplicates
                it->val = static_cast<int>(rng() % 100000) - 50000;
                t.insert(*it);
                ref.insert({it->key, it->val});
                in.push_back(it);
            } else {
                usize k = rng() % in.size();
                Item* it = in[k];
                in.erase(in.begin() + static_cast<long>(k));
                t.erase(*it);
                EXPECT_FALSE(it->node.linked);
                ref.erase(ref.find({it->key, it->val}));
                out.push_back(it);
            }

            ASSERT_GE(t.validate(), 0) << "seed " << seed << " step " << step;
            ASSERT_EQ(t.size(), ref.size());
            ASSERT_EQ(check_aggregates(t.root()), static_cast<long>(ref.size()));
            if (ref.empty()) {
                ASSERT_EQ(t.first(), nullptr);
                continue;
            }
            ASSERT_EQ(t.first()->key, ref.begin()->first);
            int min_val = std::min_element(ref.begin(), ref.end(), [](auto& a, auto& b) {
                              return a.second < b.second;
                          })->second;
            ASSERT_EQ(t.root()->sub_min, min_val);
            if (step % 97 == 0) {
                std::vector<int> keys, want;
                t.for_each([&](Item& it) { keys.push_back(it.key); });
                for (auto& kv : ref) want.push_back(kv.first);
                ASSERT_EQ(keys, want);
                usize k = rng() % ref.size();
                ASSERT_EQ(select(t, k)->key, want[k]);
            }
        }
    }
}

TEST(RbTree, ValidateCatchesCorruption) {
    Item items[8];
    Tree t;
    for (int i = 0; i < 8; ++i) {
        items[i].key = i;
        t.insert(items[i]);
    }
    ASSERT_GE(t.validate(), 0);
    Item* root = t.root();
    root->node.red = true;  // a red root breaks the rules
    EXPECT_EQ(t.validate(), -1);
    root->node.red = false;
    EXPECT_GE(t.validate(), 0);
}
