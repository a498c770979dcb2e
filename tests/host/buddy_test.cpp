#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "mm/buddy.h"
#include "tests/host/test_support.h"

using namespace keel;
using namespace keel::mm;

namespace {

// Simulated physical memory: frames plus a page-aligned arena that
// pfn_to_virt maps into. One live instance at a time (the callback has no
// context argument, like the kernel's direct map).
struct Memory {
    static inline Memory* current = nullptr;

    u64 base;
    u64 npages;
    std::vector<PageFrame> frames;
    u8* arena;
    BuddyAllocator buddy;

    Memory(u64 base_pfn, u64 n, BuddyOptions opts = {}) : base(base_pfn), npages(n), frames(n) {
        arena = static_cast<u8*>(std::aligned_alloc(PAGE_SIZE, n * PAGE_SIZE));
        current = this;
        opts.pfn_to_virt = &pfn_to_virt;
        buddy.init(frames.data(), base, npages, opts);
    }
    ~Memory() {
        std::free(arena);
        current = nullptr;
    }
    static void* pfn_to_virt(u64 pfn) { return current->arena + (pfn - current->base) * PAGE_SIZE; }
    u8* page(u64 pfn) { return static_cast<u8*>(pfn_to_virt(pfn)); }
};

constexpr u64 BASE = 0x100000;  // 4 GiB, aligned to every order

std::vector<u64> alloc_all(BuddyAllocator& b, unsigned order) {
    std::vector<u64> out;
    for (;;) {
        auto r = b.alloc(order);
        if (r.is_error()) {
            EXPECT_EQ(r.error().code(), ENOMEM);
            return out;
        }
        out.push_back(r.value());
    }
}

}  // namespace

TEST(Buddy, NothingDonatedMeansENOMEM) {
    Memory m(BASE, 1024);
    auto r = m.buddy.alloc(0);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code(), ENOMEM);
    EXPECT_EQ(m.buddy.free_pages(), 0u);
}

TEST(Buddy, AlignedDonationFormsMaximalBlocks) {
    Memory m(BASE, 4096);
    EXPECT_EQ(m.buddy.add_free_range(BASE, 4096), 4096u);
    EXPECT_EQ(m.buddy.free_pages(), 4096u);
    EXPECT_EQ(m.buddy.managed_pages(), 4096u);
    EXPECT_EQ(m.buddy.free_blocks(MAX_ORDER), 4u);
    for (unsigned o = 0; o < MAX_ORDER; ++o) EXPECT_EQ(m.buddy.free_blocks(o), 0u) << o;
}

TEST(Buddy, SplitLeavesOneBlockPerOrderAndMergesBack) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE, 1024);
    u64 p = m.buddy.alloc(0).value();
    EXPECT_EQ(p, BASE);
    for (unsigned o = 0; o < MAX_ORDER; ++o) EXPECT_EQ(m.buddy.free_blocks(o), 1u) << o;
    EXPECT_EQ(m.buddy.free_blocks(MAX_ORDER), 0u);
    m.buddy.free(p, 0);
    EXPECT_EQ(m.buddy.free_blocks(MAX_ORDER), 1u);
    for (unsigned o = 0; o < MAX_ORDER; ++o) EXPECT_EQ(m.buddy.free_blocks(o), 0u) << o;
}

TEST(Buddy, AllOrderZeroThenFreeAllRestoresMaximalBlocks) {
    Memory m(BASE, 4096);
    m.buddy.add_free_range(BASE, 4096);
    auto pages = alloc_all(m.buddy, 0);
    ASSERT_EQ(pages.size(), 4096u);
    std::set<u64> unique(pages.begin(), pages.end());
    EXPECT_EQ(unique.size(), 4096u);
    EXPECT_EQ(*unique.begin(), BASE);
    EXPECT_EQ(*unique.rbegin(), BASE + 4095);
    EXPECT_EQ(m.buddy.free_pages(), 0u);

    std::mt19937 rng(1);
    std::shuffle(pages.begin(), pages.end(), rng);
    for (u64 p : pages) m.buddy.free(p, 0);
    EXPECT_EQ(m.buddy.free_pages(), 4096u);
    EXPECT_EQ(m.buddy.free_blocks(MAX_ORDER), 4u);
    for (unsigned o = 0; o < MAX_ORDER; ++o) EXPECT_EQ(m.buddy.free_blocks(o), 0u) << o;
}

TEST(Buddy, UnalignedDonationIsCutIntoAlignedBlocks) {
    Memory m(BASE, 4096);
    EXPECT_EQ(m.buddy.add_free_range(BASE + 3, 1000), 1000u);
    EXPECT_EQ(m.buddy.free_pages(), 1000u);
    // [3, 1003) holds no aligned 512-page block.
    EXPECT_TRUE(m.buddy.alloc(9).is_error());
    u64 total = 0;
    for (int o = MAX_ORDER; o >= 0; --o) {
        for (u64 p : alloc_all(m.buddy, static_cast<unsigned>(o))) {
            EXPECT_EQ(p % (1ull << o), 0u) << "order " << o;
            EXPECT_GE(p, BASE + 3);
            EXPECT_LE(p + (1ull << o), BASE + 1003);
            total += 1ull << o;
        }
    }
    EXPECT_EQ(total, 1000u);
}

TEST(Buddy, HolesAreNeverAllocatedNorMergedAcross) {
    Memory m(BASE, 2048);
    m.buddy.add_free_range(BASE, 1000);
    m.buddy.add_free_range(BASE + 1100, 948);
    EXPECT_EQ(m.buddy.free_pages(), 1948u);
    EXPECT_EQ(m.buddy.managed_pages(), 1948u);
    // Both 1024-page blocks contain part of the hole.
    EXPECT_TRUE(m.buddy.alloc(10).is_error());

    auto pages = alloc_all(m.buddy, 0);
    EXPECT_EQ(pages.size(), 1948u);
    for (u64 p : pages) EXPECT_FALSE(p >= BASE + 1000 && p < BASE + 1100) << p;
    for (u64 p : pages) m.buddy.free(p, 0);
    EXPECT_EQ(m.buddy.free_pages(), 1948u);
    EXPECT_TRUE(m.buddy.alloc(10).is_error());
    EXPECT_EQ(m.buddy.free_blocks(MAX_ORDER), 0u);
}

TEST(Buddy, AdjacentDonationsMerge) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE + 512, 512);
    m.buddy.add_free_range(BASE, 512);
    EXPECT_EQ(m.buddy.free_blocks(MAX_ORDER), 1u);
    EXPECT_EQ(m.buddy.free_blocks(9), 0u);
}

TEST(Buddy, DonationOutsideTheSpanIsClipped) {
    Memory m(BASE, 64);
    EXPECT_EQ(m.buddy.add_free_range(BASE - 10, 20), 10u);
    EXPECT_EQ(m.buddy.add_free_range(BASE + 60, 100), 4u);
    EXPECT_EQ(m.buddy.add_free_range(BASE + 1000, 100), 0u);
    EXPECT_EQ(m.buddy.free_pages(), 14u);
}

TEST(Buddy, BlocksAreNaturallyAlignedWithUnalignedSpan) {
    constexpr u64 base = 0x12345;
    Memory m(base, 5000);
    m.buddy.add_free_range(base, 5000);
    for (unsigned o = 0; o <= MAX_ORDER; ++o) {
        u64 p = m.buddy.alloc(o).value();
        EXPECT_EQ(p % (1ull << o), 0u) << o;
        EXPECT_GE(p, base);
        EXPECT_LE(p + (1ull << o), base + 5000);
        m.buddy.free(p, o);
    }
    EXPECT_EQ(m.buddy.free_pages(), 5000u);
}

TEST(Buddy, ENOMEMWhenExhaustedAndWhenFragmented) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE, 1024);
    auto pages = alloc_all(m.buddy, 0);
    ASSERT_EQ(pages.size(), 1024u);
    EXPECT_EQ(m.buddy.alloc(0).error().code(), ENOMEM);
    // Free every other page: half the memory is free, yet no two free pages
    // are adjacent.
    for (u64 p : pages)
        if (p % 2 == 0) m.buddy.free(p, 0);
    EXPECT_EQ(m.buddy.free_pages(), 512u);
    EXPECT_EQ(m.buddy.free_blocks(0), 512u);
    auto r = m.buddy.alloc(1);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code(), ENOMEM);
    EXPECT_TRUE(m.buddy.alloc(0).is_ok());
}

TEST(Buddy, OrderAboveMaximumIsENOMEM) {
    Memory m(BASE, 4096);
    m.buddy.add_free_range(BASE, 4096);
    EXPECT_EQ(m.buddy.alloc(MAX_ORDER + 1).error().code(), ENOMEM);
    EXPECT_EQ(m.buddy.alloc(63).error().code(), ENOMEM);
    EXPECT_EQ(m.buddy.free_pages(), 4096u);
}

TEST(Buddy, PerOrderCountersTrackSplits) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE, 1024);
    u64 a = m.buddy.alloc(8).value();
    EXPECT_EQ(m.buddy.free_pages(), 768u);
    EXPECT_EQ(m.buddy.free_blocks(9), 1u);
    EXPECT_EQ(m.buddy.free_blocks(8), 1u);
    u64 b = m.buddy.alloc(8).value();
    EXPECT_EQ(m.buddy.free_blocks(8), 0u);
    EXPECT_EQ(a ^ b, 256u);  // buddies
    m.buddy.free(a, 8);
    m.buddy.free(b, 8);
    EXPECT_EQ(m.buddy.free_blocks(MAX_ORDER), 1u);
}

using BuddyDeathTest = ::testing::Test;

TEST(BuddyDeathTest, DoubleFree) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE, 1024);
    u64 p = m.buddy.alloc(0).value();
    u64 q = m.buddy.alloc(0).value();
    m.buddy.free(p, 0);
    EXPECT_DEATH(m.buddy.free(p, 0), "KASSERT");
    m.buddy.free(q, 0);  // p and q merge away entirely
    EXPECT_DEATH(m.buddy.free(q, 0), "KASSERT");
}

TEST(BuddyDeathTest, WrongOrder) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE, 1024);
    u64 p = m.buddy.alloc(2).value();
    EXPECT_DEATH(m.buddy.free(p, 1), "KASSERT");
    EXPECT_DEATH(m.buddy.free(p, 3), "KASSERT");
    m.buddy.free(p, 2);
}

TEST(BuddyDeathTest, FreeOfNonHeadOrNeverAllocatedPage) {
    Memory m(BASE, 2048);
    m.buddy.add_free_range(BASE, 1000);
    u64 p = m.buddy.alloc(2).value();
    EXPECT_DEATH(m.buddy.free(p + 1, 0), "KASSERT");       // inside a block
    EXPECT_DEATH(m.buddy.free(BASE + 512, 0), "KASSERT");  // free memory
    EXPECT_DEATH(m.buddy.free(BASE + 1500, 0), "KASSERT");  // never donated
    EXPECT_DEATH(m.buddy.free(BASE + 4096, 0), "KASSERT");  // outside the span
}

TEST(BuddyDeathTest, DonatingTwice) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE, 100);
    EXPECT_DEATH(m.buddy.add_free_range(BASE + 50, 100), "KASSERT");
}

TEST(BuddyPoison, FreedAndDonatedPagesArePoisoned) {
    Memory m(BASE, 16, {.poison = true});
    m.buddy.add_free_range(BASE, 16);
    for (u64 i = 0; i < 16 * PAGE_SIZE; ++i) ASSERT_EQ(m.arena[i], PAGE_POISON) << i;
    u64 p = m.buddy.alloc(1).value();
    std::memset(m.page(p), 0x11, 2 * PAGE_SIZE);
    m.buddy.free(p, 1);
    for (u64 i = 0; i < 2 * PAGE_SIZE; ++i) ASSERT_EQ(m.page(p)[i], PAGE_POISON) << i;
}

TEST(BuddyPoison, IntactPoisonPassesTheCheck) {
    Memory m(BASE, 64, {.check_poison = true});
    m.buddy.add_free_range(BASE, 64);
    auto pages = alloc_all(m.buddy, 0);
    EXPECT_EQ(pages.size(), 64u);
    for (u64 p : pages) std::memset(m.page(p), 0, PAGE_SIZE);  // legitimate use
    for (u64 p : pages) m.buddy.free(p, 0);
    EXPECT_EQ(alloc_all(m.buddy, 0).size(), 64u);
}

TEST(BuddyDeathTest, WriteAfterFreeIsCaughtOnAllocation) {
    Memory m(BASE, 64, {.check_poison = true});
    m.buddy.add_free_range(BASE, 64);
    u64 p = m.buddy.alloc(0).value();
    m.buddy.free(p, 0);
    m.page(p)[100] = 1;  // use after free
    EXPECT_DEATH(alloc_all(m.buddy, 0), "KASSERT");
}

TEST(Buddy, WriteAfterFreeGoesUnnoticedWithoutTheCheck) {
    // The control for the test above: only check_poison catches it.
    Memory m(BASE, 64, {.poison = true});
    m.buddy.add_free_range(BASE, 64);
    u64 p = m.buddy.alloc(0).value();
    m.buddy.free(p, 0);
    m.page(p)[100] = 1;
    EXPECT_EQ(alloc_all(m.buddy, 0).size(), 64u);
}

// Random allocations and frees against a model of which pages are owned.
// Also checks the buddy invariant: ENOMEM for order k exactly when no
// naturally aligned, fully free 2^k region exists.
TEST(Buddy, RandomStressAgainstReferenceModel) {
    constexpr u64 base = 0x4000;
    constexpr u64 n = 4096;
    Memory m(base, n);
    std::vector<bool> donated(n, false), owned(n, false);
    auto donate = [&](u64 off, u64 cnt) {
        m.buddy.add_free_range(base + off, cnt);
        for (u64 i = off; i < off + cnt; ++i) donated[i] = true;
    };
    donate(0, 700);
    donate(777, 1300);
    donate(2100, 1996);
    u64 donated_pages = static_cast<u64>(std::count(donated.begin(), donated.end(), true));
    std::vector<u64> initial_blocks;
    for (unsigned o = 0; o <= MAX_ORDER; ++o) initial_blocks.push_back(m.buddy.free_blocks(o));

    auto region_free = [&](u64 off, unsigned order) {
        for (u64 i = off; i < off + (1ull << order); ++i)
            if (i >= n || !donated[i] || owned[i]) return false;
        return true;
    };

    std::mt19937_64 rng(42);
    std::map<u64, unsigned> live;
    u64 owned_pages = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        bool do_alloc = live.empty() || rng() % 100 < 55;
        if (do_alloc) {
            unsigned order = static_cast<unsigned>(std::min<u64>(rng() % 8, rng() % 12));
            auto r = m.buddy.alloc(order);
            if (r.is_error()) {
                ASSERT_EQ(r.error().code(), ENOMEM);
                u64 first = (base + (1ull << order) - 1) / (1ull << order) * (1ull << order) - base;
                for (u64 off = first; off < n; off += 1ull << order)
                    ASSERT_FALSE(region_free(off, order)) << "missed a free block of order " << order;
                continue;
            }
            u64 p = r.value();
            ASSERT_EQ(p % (1ull << order), 0u);
            ASSERT_GE(p, base);
            for (u64 i = p - base; i < p - base + (1ull << order); ++i) {
                ASSERT_LT(i, n);
                ASSERT_TRUE(donated[i]) << "allocated a hole";
                ASSERT_FALSE(owned[i]) << "overlapping allocation";
                owned[i] = true;
            }
            live[p] = order;
            owned_pages += 1ull << order;
        } else {
            auto it = live.begin();
            std::advance(it, static_cast<long>(rng() % live.size()));
            m.buddy.free(it->first, it->second);
            for (u64 i = it->first - base; i < it->first - base + (1ull << it->second); ++i) owned[i] = false;
            owned_pages -= 1ull << it->second;
            live.erase(it);
        }
        ASSERT_EQ(m.buddy.free_pages(), donated_pages - owned_pages);
    }
    for (auto [p, o] : live) m.buddy.free(p, o);
    EXPECT_EQ(m.buddy.free_pages(), donated_pages);
    for (unsigned o = 0; o <= MAX_ORDER; ++o) EXPECT_EQ(m.buddy.free_blocks(o), initial_blocks[o]) << o;
}

TEST(PageCache, FirstAllocationRefillsOneBatch) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE, 1024);
    PageCache pcp;
    pcp.init(m.buddy, 8, 4);
    test::CountingLock lock;
    std::set<u64> got;
    got.insert(pcp.alloc(lock).value());
    EXPECT_EQ(m.buddy.free_pages(), 1020u);
    EXPECT_EQ(pcp.count(), 3u);
    EXPECT_EQ(lock.locks, 1);
    for (int i = 0; i < 3; ++i) got.insert(pcp.alloc(lock).value());
    EXPECT_EQ(m.buddy.free_pages(), 1020u);  // served from the cache
    EXPECT_EQ(lock.locks, 1);
    EXPECT_EQ(pcp.count(), 0u);
    got.insert(pcp.alloc(lock).value());
    EXPECT_EQ(m.buddy.free_pages(), 1016u);
    EXPECT_EQ(lock.locks, 2);
    EXPECT_EQ(lock.unlocks, 2);
    EXPECT_EQ(got.size(), 5u);
}

TEST(PageCache, FreeDrainsOneBatchAboveHigh) {
    Memory m(BASE, 1024);
    m.buddy.add_free_range(BASE, 1024);
    PageCache pcp;
    pcp.init(m.buddy, 8, 4);
    test::CountingLock lock;
    std::vector<u64> pages;
    for (int i = 0; i < 20; ++i) pages.push_back(pcp.alloc(lock).value());
    pcp.drain_all_locked();
    EXPECT_EQ(m.buddy.free_pages(), 1004u);
    int locks = lock.locks;
    for (int i = 0; i < 8; ++i) pcp.free(pages[i], lock);
    EXPECT_EQ(pcp.count(), 8u);
    EXPECT_EQ(m.buddy.free_pages(), 1004u);
    EXPECT_EQ(lock.locks, locks);
    pcp.free(pages[8], lock);
    EXPECT_EQ(pcp.count(), 5u);
    EXPECT_EQ(m.buddy.free_pages(), 1008u);
    EXPECT_EQ(lock.locks, locks + 1);
    for (int i = 9; i < 20; ++i) {
        pcp.free(pages[i], lock);
        EXPECT_LE(pcp.count(), 8u);
    }
    pcp.drain_all_locked();
    EXPECT_EQ(pcp.count(), 0u);
    EXPECT_EQ(m.buddy.free_pages(), 1024u);
    EXPECT_EQ(m.buddy.free_blocks(MAX_ORDER), 1u);
}

TEST(PageCache, PartialRefillThenENOMEM) {
    Memory m(BASE, 8);
    m.buddy.add_free_range(BASE, 6);
    PageCache pcp;
    pcp.init(m.buddy, 16, 4);
    std::set<u64> got;
    for (int i = 0; i < 6; ++i) got.insert(pcp.alloc().value());
    EXPECT_EQ(got.size(), 6u);
    auto r = pcp.alloc();
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code(), ENOMEM);
}

TEST(PageCache, PagesMoveBetweenCachesAndTheBuddy) {
    Memory m(BASE, 64);
    m.buddy.add_free_range(BASE, 64);
    PageCache cpu0, cpu1;
    cpu0.init(m.buddy, 8, 2);
    cpu1.init(m.buddy, 8, 2);
    u64 a = cpu0.alloc().value();
    u64 b = m.buddy.alloc(0).value();
    cpu1.free(a);  // freed on another CPU
    cpu1.free(b);  // a page from the buddy directly
    EXPECT_EQ(cpu1.count(), 2u);
    cpu0.drain_all_locked();
    cpu1.drain_all_locked();
    EXPECT_EQ(m.buddy.free_pages(), 64u);
    EXPECT_EQ(m.buddy.free_blocks(6), 1u);
}

TEST(PageCacheDeathTest, DoubleFreeIntoTheCache) {
    Memory m(BASE, 64);
    m.buddy.add_free_range(BASE, 64);
    PageCache pcp;
    pcp.init(m.buddy, 8, 2);
    u64 p = pcp.alloc().value();
    pcp.free(p);
    EXPECT_DEATH(pcp.free(p), "KASSERT");
    EXPECT_DEATH(m.buddy.free(p, 0), "KASSERT");  // cached pages are not the buddy's
    u64 q = m.buddy.alloc(1).value();
    EXPECT_DEATH(pcp.free(q), "KASSERT");  // only order-0 pages
}

TEST(PageCacheDeathTest, WriteAfterFreeToCachedPage) {
    Memory m(BASE, 64, {.check_poison = true});
    m.buddy.add_free_range(BASE, 64);
    PageCache pcp;
    pcp.init(m.buddy, 8, 2);
    u64 p = pcp.alloc().value();
    std::memset(m.page(p), 0, PAGE_SIZE);
    pcp.free(p);
    for (u64 i = 0; i < PAGE_SIZE; ++i) ASSERT_EQ(m.page(p)[i], PAGE_POISON);
    m.page(p)[7] = 0;
    EXPECT_DEATH(pcp.alloc().value(), "KASSERT");  // LIFO: p comes back first
}
