#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "mm/vmem_arena.h"

using namespace keel;
using namespace keel::mm;

namespace {

constexpr uptr START = VMALLOC_BASE;
constexpr usize P = PAGE_SIZE;

struct Arena {
    std::vector<VmemSegment> pool;
    VmemArena arena;
    explicit Arena(usize pages, usize nodes = 256) : pool(nodes) {
        arena.init(START, START + pages * P, pool.data(), pool.size());
    }
};

// The segments must tile the arena exactly, in order, without two adjacent
// free segments.
void expect_well_formed(const VmemArena& a) {
    uptr cur = a.start();
    bool prev_free = false;
    usize free_bytes = 0;
    a.for_each_segment([&](const VmemSegment& s) {
        EXPECT_EQ(s.start, cur);
        EXPECT_GT(s.size, 0u);
        EXPECT_FALSE(prev_free && !s.busy) << "unmerged free neighbours";
        prev_free = !s.busy;
        if (!s.busy) free_bytes += s.size;
        cur = s.start + s.size;
    });
    EXPECT_EQ(cur, a.end());
    EXPECT_EQ(free_bytes, a.free_bytes());
}

}  // namespace

TEST(VmemArena, FirstFitFromTheBottom) {
    Arena t(64);
    EXPECT_EQ(t.arena.alloc(P).value(), START);
    EXPECT_EQ(t.arena.alloc(3 * P).value(), START + P);
    EXPECT_EQ(t.arena.alloc(1).value(), START + 4 * P);  // rounded up to a page
    EXPECT_EQ(t.arena.free_bytes(), 59 * P);
    EXPECT_EQ(t.arena.allocation_count(), 3u);
    EXPECT_EQ(t.arena.size_of(START + P).value(), 3 * P);
    expect_well_formed(t.arena);
}

TEST(VmemArena, BadArgumentsAndExhaustion) {
    Arena t(16);
    EXPECT_EQ(t.arena.alloc(0).error().code(), EINVAL);
    EXPECT_EQ(t.arena.alloc(P, 0, 3 * P).error().code(), EINVAL);
    EXPECT_EQ(t.arena.alloc(17 * P).error().code(), ENOMEM);
    EXPECT_EQ(t.arena.alloc(~usize{0}).error().code(), ENOMEM);
    EXPECT_EQ(t.arena.alloc(P, ~usize{0} - 10).error().code(), ENOMEM);
    uptr all = t.arena.alloc(16 * P).value();
    EXPECT_EQ(all, START);
    EXPECT_EQ(t.arena.alloc(P).error().code(), ENOMEM);
    EXPECT_EQ(t.arena.free(all), 16 * P);
    EXPECT_EQ(t.arena.alloc(16 * P).value(), START);
}

TEST(VmemArena, GuardGapSitsBelowEachAllocation) {
    Arena t(64);
    uptr a = t.arena.alloc(4 * P, P).value();
    uptr b = t.arena.alloc(4 * P, P).value();
    EXPECT_EQ(a, START + P);
    EXPECT_EQ(b, a + 4 * P + P);  // b's guard page separates them
    EXPECT_EQ(t.arena.size_of(a).value(), 4 * P);
    EXPECT_EQ(t.arena.used_bytes(), 10 * P);
    // An unguarded allocation still cannot take the guard pages.
    uptr c = t.arena.alloc(P).value();
    EXPECT_EQ(c, b + 4 * P);
    EXPECT_EQ(t.arena.free(a), 4 * P);
    EXPECT_EQ(t.arena.free(b), 4 * P);
    // Freed guards are reusable.
    EXPECT_EQ(t.arena.alloc(10 * P).value(), START);
    expect_well_formed(t.arena);
}

TEST(VmemArena, GuardDoesNotFitAtTheEnd) {
    Arena t(4);
    EXPECT_EQ(t.arena.alloc(4 * P, P).error().code(), ENOMEM);
    EXPECT_EQ(t.arena.alloc(3 * P, P).value(), START + P);
}

TEST(VmemArena, AlignmentIsHonouredAndTheGapStaysFree) {
    Arena t(256);
    uptr small = t.arena.alloc(P).value();
    uptr big = t.arena.alloc(4 * P, 0, 64 * KiB).value();
    EXPECT_EQ(small, START);
    EXPECT_EQ(big % (64 * KiB), 0u);
    EXPECT_EQ(big, START + 64 * KiB);
    // The pages skipped for alignment are still allocatable.
    uptr filler = t.arena.alloc(15 * P).value();
    EXPECT_EQ(filler, START + P);
    uptr g = t.arena.alloc(2 * P, P, 32 * KiB).value();  // guard and alignment
    EXPECT_EQ(g % (32 * KiB), 0u);
    EXPECT_GE(g - P, big + 4 * P);
    expect_well_formed(t.arena);
}

TEST(VmemArena, FragmentationAndCoalescing) {
    Arena t(64);
    std::vector<uptr> blocks;
    for (int i = 0; i < 16; ++i) blocks.push_back(t.arena.alloc(4 * P).value());
    EXPECT_EQ(t.arena.alloc(P).error().code(), ENOMEM);
    for (int i = 0; i < 16; i += 2) t.arena.free(blocks[i]);
    // Half the arena is free but in 4-page pieces.
    EXPECT_EQ(t.arena.free_bytes(), 32 * P);
    EXPECT_EQ(t.arena.largest_free(), 4 * P);
    EXPECT_EQ(t.arena.alloc(5 * P).error().code(), ENOMEM);
    expect_well_formed(t.arena);
    // Freeing a middle block merges it with both free neighbours.
    t.arena.free(blocks[1]);
    EXPECT_EQ(t.arena.largest_free(), 12 * P);
    EXPECT_EQ(t.arena.alloc(12 * P).value(), blocks[0]);
    t.arena.free(blocks[0]);
    for (int i = 3; i < 16; i += 2) t.arena.free(blocks[i]);
    EXPECT_EQ(t.arena.segment_count(), 1u);
    EXPECT_EQ(t.arena.free_bytes(), 64 * P);
    EXPECT_EQ(t.arena.alloc(64 * P).value(), START);
}

TEST(VmemArena, NodePoolLimitsSplitsAndCanGrow) {
    Arena t(64, 2);  // one node for the arena, one spare
    uptr a = t.arena.alloc(P).value();  // needs one node for the rest
    EXPECT_EQ(t.arena.spare_nodes(), 0u);
    EXPECT_EQ(t.arena.alloc(P).error().code(), ENOMEM);  // would split: no node
    EXPECT_EQ(t.arena.alloc(63 * P).value(), a + P);     // exact fit needs none
    t.arena.free(a);
    std::vector<VmemSegment> more(4);
    t.arena.add_nodes(more.data(), more.size());
    EXPECT_EQ(t.arena.spare_nodes(), 4u);
    EXPECT_TRUE(t.arena.alloc(P).is_ok());
}

TEST(VmemArena, SizeOfUnknownAddress) {
    Arena t(16);
    uptr a = t.arena.alloc(2 * P, P).value();
    EXPECT_EQ(t.arena.size_of(a - P).error().code(), ENOENT);  // the guard is not the start
    EXPECT_EQ(t.arena.size_of(a + P).error().code(), ENOENT);
}

using VmemArenaDeathTest = ::testing::Test;

TEST(VmemArenaDeathTest, FreeOfAnAddressThatWasNotAllocated) {
    Arena t(16);
    uptr a = t.arena.alloc(2 * P, P).value();
    EXPECT_DEATH(t.arena.free(a + P), "KASSERT");
    EXPECT_DEATH(t.arena.free(a - P), "KASSERT");
    EXPECT_DEATH(t.arena.free(START + 10 * P), "KASSERT");
    t.arena.free(a);
    EXPECT_DEATH(t.arena.free(a), "KASSERT");  // double free
}

TEST(VmemArena, RandomStressAgainstReferenceModel) {
    constexpr usize pages = 1024;
    Arena t(pages, 2048);
    std::vector<bool> used(pages, false);
    struct Live {
        usize size, guard;
    };
    std::map<uptr, Live> live;
    std::mt19937_64 rng(3);
    for (int iter = 0; iter < 20000; ++iter) {
        if (live.empty() || rng() % 100 < 55) {
            usize size = (1 + rng() % 16) * P;
            usize guard = rng() % 3 == 0 ? P : 0;
            usize align = rng() % 5 == 0 ? (P << (rng() % 5)) : 0;
            auto r = t.arena.alloc(size, guard, align);
            if (r.is_error()) {
                ASSERT_EQ(r.error().code(), ENOMEM);
                continue;
            }
            uptr a = r.value();
            if (align) {
                ASSERT_EQ(a % align, 0u);
            }
            ASSERT_GE(a - guard, START);
            ASSERT_LE(a + size, START + pages * P);
            for (usize i = (a - guard - START) / P; i < (a + size - START) / P; ++i) {
                ASSERT_FALSE(used[i]) << "overlap";
                used[i] = true;
            }
            live[a] = {size, guard};
        } else {
            auto it = live.begin();
            std::advance(it, static_cast<long>(rng() % live.size()));
            ASSERT_EQ(t.arena.free(it->first), it->second.size);
            for (usize i = (it->first - it->second.guard - START) / P; i < (it->first + it->second.size - START) / P; ++i)
                used[i] = false;
            live.erase(it);
        }
        usize used_pages = static_cast<usize>(std::count(used.begin(), used.end(), true));
        ASSERT_EQ(t.arena.used_bytes(), used_pages * P);
        if (iter % 500 == 0) expect_well_formed(t.arena);
    }
    for (auto& [a, l] : live) t.arena.free(a);
    EXPECT_EQ(t.arena.segment_count(), 1u);
    EXPECT_EQ(t.arena.spare_nodes(), 2047u);
}
