#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "mm/slab.h"
#include "tests/host/test_support.h"

using namespace keel;
using namespace keel::mm;

namespace {

// A page provider backed by a buddy allocator over a malloc'd arena, the
// way the kernel backs it with the buddy and the direct map.
struct HostPages {
    u64 npages;
    std::vector<PageFrame> frames;
    u8* arena;
    BuddyAllocator buddy;
    static constexpr u64 BASE = 0x80000;

    explicit HostPages(u64 n) : npages(n), frames(n) {
        arena = static_cast<u8*>(std::aligned_alloc(PAGE_SIZE, n * PAGE_SIZE));
        buddy.init(frames.data(), BASE, n);
        buddy.add_free_range(BASE, n);
    }
    ~HostPages() { std::free(arena); }

    PageProvider provider() {
        PageProvider p;
        p.ctx = this;
        p.alloc_pages = [](void* ctx, unsigned order) -> Result<void*> {
            auto* self = static_cast<HostPages*>(ctx);
            u64 pfn = TRY(self->buddy.alloc(order));
            return static_cast<void*>(self->arena + (pfn - BASE) * PAGE_SIZE);
        };
        p.free_pages = [](void* ctx, void* addr, unsigned order) {
            auto* self = static_cast<HostPages*>(ctx);
            self->buddy.free(self->pfn_of(addr), order);
        };
        p.virt_to_frame = [](void* ctx, const void* addr) -> PageFrame* {
            auto* self = static_cast<HostPages*>(ctx);
            auto* b = static_cast<const u8*>(addr);
            if (b < self->arena || b >= self->arena + self->npages * PAGE_SIZE) return nullptr;
            return &self->buddy.frame(self->pfn_of(addr));
        };
        return p;
    }
    u64 pfn_of(const void* addr) const {
        return BASE + static_cast<u64>(static_cast<const u8*>(addr) - arena) / PAGE_SIZE;
    }
};

struct Heap {
    HostPages pages;
    Kmalloc heap;
    explicit Heap(u64 npages = 2048, SlabDebug debug = {}) : pages(npages) {
        EXPECT_TRUE(heap.init(pages.provider(), debug).is_ok());
    }
};

usize class_index(usize size) {
    for (usize i = 0; i < KMALLOC_CLASSES; ++i)
        if (KMALLOC_SIZES[i] >= size) return i;
    return KMALLOC_CLASSES;
}

bool all_bytes(const void* p, usize n, u8 v) {
    auto* b = static_cast<const u8*>(p);
    return std::all_of(b, b + n, [v](u8 x) { return x == v; });
}

}  // namespace

TEST(Kmalloc, EverySizeClassIsAlignedAndUsable) {
    Heap h;
    std::vector<void*> ptrs;
    for (usize size : KMALLOC_SIZES) {
        void* p = h.heap.alloc(size).value();
        auto a = reinterpret_cast<uptr>(p);
        EXPECT_EQ(h.heap.usable_size(p), size);
        usize want_align = std::min<usize>(usize{1} << __builtin_ctzll(size), PAGE_SIZE);
        EXPECT_EQ(a % want_align, 0u) << size;
        std::memset(p, 0x5a, size);
        ptrs.push_back(p);
    }
    for (usize i = 0; i < KMALLOC_CLASSES; ++i) {
        EXPECT_EQ(h.heap.cache(i).stats().active_objects, 1u);
        EXPECT_TRUE(all_bytes(ptrs[i], KMALLOC_SIZES[i], 0x5a)) << KMALLOC_SIZES[i];
        h.heap.free(ptrs[i]);
        EXPECT_EQ(h.heap.cache(i).stats().active_objects, 0u);
    }
}

TEST(Kmalloc, OddSizesRoundUpToTheNextClass) {
    Heap h;
    const std::pair<usize, usize> cases[] = {{0, 8},      {1, 8},      {7, 8},       {9, 16},    {17, 32},
                                             {65, 96},    {97, 128},   {129, 192},   {193, 256}, {257, 512},
                                             {1000, 1024}, {1025, 2048}, {3000, 4096}, {4097, 8192}};
    for (auto [req, cls] : cases) {
        void* p = h.heap.alloc(req).value();
        EXPECT_EQ(h.heap.usable_size(p), cls) << req;
        EXPECT_EQ(h.heap.cache(class_index(cls)).stats().active_objects, 1u) << req;
        h.heap.free(p);
    }
}

TEST(Kmalloc, FreeOfNullIsANoOp) {
    Heap h;
    h.heap.free(nullptr);
    EXPECT_EQ(h.heap.usable_size(nullptr), 0u);
}

TEST(Kmalloc, LargeAllocationsUsePagesDirectly) {
    Heap h(2048);
    u64 before = h.pages.buddy.free_pages();
    void* p = h.heap.alloc(8193).value();  // 3 pages -> order 2
    EXPECT_EQ(reinterpret_cast<uptr>(p) % PAGE_SIZE, 0u);
    EXPECT_EQ(h.heap.usable_size(p), 4 * PAGE_SIZE);
    EXPECT_EQ(h.heap.large_pages(), 4u);
    EXPECT_EQ(h.pages.buddy.free_pages(), before - 4);
    void* q = h.heap.alloc(100000).value();  // 25 pages -> order 5
    EXPECT_EQ(h.heap.usable_size(q), 32 * PAGE_SIZE);
    std::memset(q, 1, 100000);
    h.heap.free(p);
    h.heap.free(q);
    EXPECT_EQ(h.heap.large_pages(), 0u);
    EXPECT_EQ(h.pages.buddy.free_pages(), before);

    void* biggest = h.heap.alloc(PAGE_SIZE << MAX_ORDER).value();
    h.heap.free(biggest);
    auto r = h.heap.alloc((PAGE_SIZE << MAX_ORDER) + 1);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code(), ENOMEM);
}

TEST(Kmalloc, ZallocZeroesRecycledObjects) {
    Heap h(256, {.poison = true});
    for (usize size : {24ul, 200ul, 5000ul, 20000ul}) {
        void* p = h.heap.alloc(size).value();
        std::memset(p, 0xee, size);
        h.heap.free(p);
        void* z = h.heap.zalloc(size).value();
        EXPECT_TRUE(all_bytes(z, h.heap.usable_size(z), 0)) << size;
        h.heap.free(z);
    }
}

TEST(Kmalloc, ENOMEMWhenPagesRunOutAndRecoveryAfterFree) {
    Heap h(16);
    std::vector<void*> ptrs;
    Error err(0);
    for (;;) {
        auto r = h.heap.alloc(2048);
        if (r.is_error()) {
            err = r.error();
            break;
        }
        ptrs.push_back(r.value());
    }
    EXPECT_EQ(err.code(), ENOMEM);
    // 16 pages in order-2 slabs of 8 objects, minus what the heap needs for
    // nothing else: every page went to the 2k cache.
    EXPECT_EQ(ptrs.size(), 16u * PAGE_SIZE / 2048);
    EXPECT_EQ(h.pages.buddy.free_pages(), 0u);
    EXPECT_TRUE(h.heap.alloc(20000).is_error());
    EXPECT_TRUE(h.heap.alloc(8).is_error());
    for (void* p : ptrs) h.heap.free(p);
    EXPECT_TRUE(h.heap.alloc(20000).is_ok());
}

TEST(Kmalloc, EmptySlabsBeyondTheReserveGoBackToThePages) {
    Heap h(256);
    usize cls = class_index(64);
    SlabCache& c = h.heap.cache(cls);
    usize per_slab = c.stats().objects_per_slab;
    ASSERT_EQ(per_slab, PAGE_SIZE / 64);  // inline bitmap: no space lost
    u64 before = h.pages.buddy.free_pages();
    u64 slab_before = slab_total_pages();
    std::vector<void*> ptrs;
    for (usize i = 0; i < 3 * per_slab; ++i) ptrs.push_back(h.heap.alloc(64).value());
    EXPECT_EQ(c.stats().slabs, 3u);
    EXPECT_EQ(h.pages.buddy.free_pages(), before - 3);
    EXPECT_EQ(slab_total_pages(), slab_before + 3);
    for (void* p : ptrs) h.heap.free(p);
    EXPECT_EQ(c.stats().slabs, SlabCache::EMPTY_RESERVE);
    EXPECT_EQ(h.pages.buddy.free_pages(), before - SlabCache::EMPTY_RESERVE);
    c.shrink();
    EXPECT_EQ(c.stats().slabs, 0u);
    EXPECT_EQ(h.pages.buddy.free_pages(), before);
    EXPECT_EQ(slab_total_pages(), slab_before);
}

TEST(Kmalloc, SmallObjectsUseAnOutOfLineBitmap) {
    Heap h(256);
    SlabCache& c = h.heap.cache(0);
    SlabStats s = c.stats();
    EXPECT_GT(s.objects_per_slab, 64u);
    EXPECT_LE(s.objects_per_slab * 8 + (s.objects_per_slab + 63) / 64 * 8, PAGE_SIZE << s.slab_order);
    std::vector<void*> ptrs;
    for (usize i = 0; i < 3 * s.objects_per_slab + 5; ++i) {
        void* p = h.heap.alloc(8).value();
        std::memcpy(p, &i, sizeof(i));
        ptrs.push_back(p);
    }
    for (usize i = 0; i < ptrs.size(); ++i) {
        usize v;
        std::memcpy(&v, ptrs[i], sizeof(v));
        ASSERT_EQ(v, i);  // nothing overlaps, and the bitmap was not overwritten
    }
    std::sort(ptrs.begin(), ptrs.end());
    EXPECT_EQ(std::adjacent_find(ptrs.begin(), ptrs.end()), ptrs.end());
    for (void* p : ptrs) h.heap.free(p);
    EXPECT_EQ(c.stats().active_objects, 0u);
}

TEST(Kmalloc, RandomStressKeepsObjectsDisjoint) {
    Heap h(4096, {.check_poison = true});
    std::mt19937_64 rng(7);
    struct Live {
        usize size;
        u8 tag;
    };
    std::map<u8*, Live> live;
    for (int iter = 0; iter < 20000; ++iter) {
        if (live.empty() || rng() % 100 < 55) {
            usize size = rng() % 4 == 0 ? rng() % 40000 : rng() % 600;
            auto r = h.heap.alloc(size);
            if (r.is_error()) {
                ASSERT_EQ(r.error().code(), ENOMEM);
                continue;
            }
            auto* p = static_cast<u8*>(r.value());
            ASSERT_GE(h.heap.usable_size(p), size);
            ASSERT_EQ(reinterpret_cast<uptr>(p) % 8, 0u);
            // No overlap with the neighbours in address order.
            auto next = live.lower_bound(p);
            if (next != live.end()) {
                ASSERT_LE(p + size, next->first);
            }
            if (next != live.begin()) {
                auto prev = std::prev(next);
                ASSERT_LE(prev->first + prev->second.size, p);
            }
            u8 tag = static_cast<u8>(rng());
            std::memset(p, tag, size);
            live[p] = {size, tag};
        } else {
            auto it = live.begin();
            std::advance(it, static_cast<long>(rng() % live.size()));
            ASSERT_TRUE(all_bytes(it->first, it->second.size, it->second.tag));
            h.heap.free(it->first);
            live.erase(it);
        }
    }
    for (auto& [p, l] : live) {
        ASSERT_TRUE(all_bytes(p, l.size, l.tag));
        h.heap.free(p);
    }
    h.heap.destroy();
    EXPECT_EQ(h.pages.buddy.free_pages(), 4096u);
}

namespace {
// A charger that records what is charged to owner `self` and can refuse.
struct FakeCharger {
    static inline usize charged = 0;
    static inline int charges = 0, uncharges = 0;
    static inline bool refuse = false;
    static inline int owner_tag = 0;
    static ObjAccounting hooks() {
        charged = 0;
        charges = uncharges = 0;
        refuse = false;
        return ObjAccounting{
            [](usize bytes) -> Result<void*> {
                if (refuse) return Error(ENOMEM);
                charged += bytes;
                ++charges;
                return static_cast<void*>(&owner_tag);
            },
            [](void* owner, usize bytes) {
                EXPECT_EQ(owner, &owner_tag);
                charged -= bytes;
                ++uncharges;
            },
        };
    }
};
}  // namespace

TEST(Kmalloc, AccountedAllocationsChargeTheirClassAndUnchargeAtFree) {
    Heap h;
    h.heap.set_accounting(FakeCharger::hooks());
    void* a = h.heap.alloc_accounted(100).value();  // kmalloc-128
    EXPECT_EQ(FakeCharger::charged, 128u);
    EXPECT_EQ(h.heap.accounted_cache(class_index(128)).stats().active_objects, 1u);
    EXPECT_EQ(h.heap.cache(class_index(128)).stats().active_objects, 0u);
    void* big = h.heap.zalloc_accounted(9000).value();  // 3 pages -> order 2
    EXPECT_EQ(FakeCharger::charged, 128u + 4 * PAGE_SIZE);
    EXPECT_TRUE(all_bytes(big, 9000, 0));
    void* plain = h.heap.alloc(100).value();
    EXPECT_EQ(FakeCharger::charges, 2);
    h.heap.free(plain);
    EXPECT_EQ(FakeCharger::uncharges, 0);
    h.heap.free(a);
    EXPECT_EQ(FakeCharger::charged, 4 * PAGE_SIZE);
    h.heap.free(big);
    EXPECT_EQ(FakeCharger::charged, 0u);
    EXPECT_EQ(FakeCharger::uncharges, 2);
    EXPECT_EQ(h.heap.large_pages(), 0u);
}

TEST(Kmalloc, RefusedChargeAllocatesNothing) {
    Heap h(64);
    h.heap.set_accounting(FakeCharger::hooks());
    u64 before = h.pages.buddy.free_pages();
    FakeCharger::refuse = true;
    EXPECT_EQ(h.heap.alloc_accounted(64).error().code(), ENOMEM);
    EXPECT_EQ(h.heap.alloc_accounted(20000).error().code(), ENOMEM);
    EXPECT_EQ(h.pages.buddy.free_pages(), before);
    // Pages running out after the charge: it is given back.
    FakeCharger::refuse = false;
    EXPECT_EQ(h.heap.alloc_accounted(PAGE_SIZE << 7).error().code(), ENOMEM);
    EXPECT_EQ(FakeCharger::charged, 0u);
    EXPECT_EQ(FakeCharger::uncharges, 1);
}

TEST(Kmalloc, AccountedSlabsKeepAnOwnerPerObject) {
    Heap h(512, {.check_poison = true});
    h.heap.set_accounting(FakeCharger::hooks());
    for (usize cls = 0; cls < KMALLOC_CLASSES; ++cls) {
        SlabStats plain = h.heap.cache(cls).stats(), acct = h.heap.accounted_cache(cls).stats();
        usize bytes = PAGE_SIZE << acct.slab_order;
        usize n = acct.objects_per_slab;
        usize tail = n * sizeof(void*) + (n > 64 ? (n + 63) / 64 * 8 : 0);
        EXPECT_LE(n * acct.object_size + tail, bytes) << cls;
        // The owners take room: never more objects per page than without.
        EXPECT_LE(n << plain.slab_order, plain.objects_per_slab << acct.slab_order) << cls;
        // Fill three slabs' worth and check the objects and owners survive.
        std::vector<void*> ptrs;
        for (usize i = 0; i < 3 * n; ++i) {
            void* p = h.heap.alloc_accounted(KMALLOC_SIZES[cls]).value();
            std::memset(p, static_cast<int>(i), KMALLOC_SIZES[cls]);
            ptrs.push_back(p);
        }
        EXPECT_EQ(FakeCharger::charged, 3 * n * KMALLOC_SIZES[cls]);
        for (usize i = 0; i < ptrs.size(); ++i) {
            ASSERT_TRUE(all_bytes(ptrs[i], KMALLOC_SIZES[cls], static_cast<u8>(i))) << cls;
            h.heap.free(ptrs[i]);
        }
        EXPECT_EQ(FakeCharger::charged, 0u) << cls;
    }
    h.heap.destroy();
    EXPECT_EQ(h.pages.buddy.free_pages(), 512u);
}

TEST(SlabCache, NamedCacheHonoursAlignmentAndCounts) {
    HostPages pages(256);
    SlabCache c;
    ASSERT_TRUE(c.init("task", 200, 64, pages.provider()).is_ok());
    EXPECT_EQ(c.object_size(), 256u);
    EXPECT_STREQ(c.name(), "task");
    std::vector<void*> objs;
    for (int i = 0; i < 40; ++i) {
        void* p = c.alloc().value();
        EXPECT_EQ(reinterpret_cast<uptr>(p) % 64, 0u);
        objs.push_back(p);
    }
    SlabStats s = c.stats();
    EXPECT_EQ(s.active_objects, 40u);
    EXPECT_GE(s.total_objects, 40u);
    EXPECT_EQ(s.pages, s.slabs << s.slab_order);
    for (void* p : objs) c.free(p);
    c.free(nullptr);
    EXPECT_EQ(c.stats().active_objects, 0u);
    c.destroy();
    EXPECT_EQ(pages.buddy.free_pages(), 256u);
}

TEST(SlabCache, RejectsImpossibleGeometry) {
    HostPages pages(16);
    SlabCache a, b, d;
    EXPECT_EQ(a.init("huge", (PAGE_SIZE << SLAB_MAX_ORDER) + 1, 8, pages.provider()).error().code(), EINVAL);
    EXPECT_EQ(b.init("align", 64, 48, pages.provider()).error().code(), EINVAL);
    EXPECT_EQ(d.init("align", 64, 2 * PAGE_SIZE, pages.provider()).error().code(), EINVAL);
}

TEST(SlabCache, InstalledLockIsTakenAroundEveryOperation) {
    HostPages pages(64);
    SlabCache c;
    test::CountingLock lock;
    ASSERT_TRUE(c.init("locked", 32, 8, pages.provider()).is_ok());
    c.set_lock(lock);
    void* p = c.alloc().value();
    void* q = c.alloc().value();
    c.free(p);
    c.free(q);
    c.shrink();
    EXPECT_EQ(lock.locks, 5);
    EXPECT_EQ(lock.unlocks, 5);
}

TEST(SlabPoison, FreedObjectsArePoisoned) {
    Heap h(64, {.poison = true});
    auto* p = static_cast<u8*>(h.heap.alloc(128).value());
    void* keep = h.heap.alloc(128).value();  // keeps the slab alive
    std::memset(p, 0, 128);
    h.heap.free(p);
    EXPECT_TRUE(all_bytes(p, 128, SLAB_POISON));
    h.heap.free(keep);
}

TEST(SlabPoisonDeathTest, WriteAfterFreeIsCaughtOnAllocation) {
    Heap h(64, {.check_poison = true});
    auto* p = static_cast<u8*>(h.heap.alloc(128).value());
    h.heap.free(p);
    p[50] = 0;
    EXPECT_DEATH(
        {
            for (int i = 0; i < 64; ++i) (void)h.heap.alloc(128).value();
        },
        "KASSERT");
}

TEST(SlabPoison, WriteAfterFreeGoesUnnoticedWithoutTheCheck) {
    Heap h(64, {.poison = true});
    auto* p = static_cast<u8*>(h.heap.alloc(128).value());
    h.heap.free(p);
    p[50] = 0;
    for (int i = 0; i < 64; ++i) EXPECT_TRUE(h.heap.alloc(128).is_ok());
}

using KmallocDeathTest = ::testing::Test;

TEST(KmallocDeathTest, DoubleFree) {
    Heap h(64);
    void* p = h.heap.alloc(96).value();
    void* keep = h.heap.alloc(96).value();
    h.heap.free(p);
    EXPECT_DEATH(h.heap.free(p), "KASSERT");
    h.heap.free(keep);
    void* small = h.heap.alloc(8).value();  // out-of-line bitmap
    void* keep8 = h.heap.alloc(8).value();
    h.heap.free(small);
    EXPECT_DEATH(h.heap.free(small), "KASSERT");
    h.heap.free(keep8);
}

TEST(KmallocDeathTest, DoubleFreeOfLargeBlock) {
    Heap h(64);
    void* p = h.heap.alloc(3 * PAGE_SIZE).value();
    void* keep = h.heap.alloc(3 * PAGE_SIZE).value();
    h.heap.free(p);
    EXPECT_DEATH(h.heap.free(p), "KASSERT");
    h.heap.free(keep);
}

TEST(KmallocDeathTest, PointerThatDoesNotStartAnObject) {
    Heap h(64);
    auto* p = static_cast<u8*>(h.heap.alloc(64).value());
    EXPECT_DEATH(h.heap.free(p + 8), "KASSERT");
    auto* big = static_cast<u8*>(h.heap.alloc(5 * PAGE_SIZE).value());
    EXPECT_DEATH(h.heap.free(big + 16), "KASSERT");
    EXPECT_DEATH(h.heap.free(big + PAGE_SIZE), "KASSERT");
    int on_stack;
    EXPECT_DEATH(h.heap.free(&on_stack), "KASSERT");
    h.heap.free(p);
    h.heap.free(big);
}

TEST(KmallocDeathTest, ObjectFreedToTheWrongCache) {
    HostPages pages(64);
    SlabCache a, b;
    ASSERT_TRUE(a.init("a", 48, 8, pages.provider()).is_ok());
    ASSERT_TRUE(b.init("b", 48, 8, pages.provider()).is_ok());
    void* p = a.alloc().value();
    EXPECT_DEATH(b.free(p), "KASSERT");
    a.free(p);
}

TEST(KmallocDeathTest, DestroyWithLiveObjects) {
    HostPages pages(64);
    SlabCache a;
    ASSERT_TRUE(a.init("a", 48, 8, pages.provider()).is_ok());
    void* p = a.alloc().value();
    EXPECT_DEATH(a.destroy(), "KASSERT");
    a.free(p);
    a.destroy();
}

TEST(KmallocGlobal, HeapFunctionsAndNamedCaches) {
    HostPages pages(512);
    kmalloc_init(pages.provider(), {.poison = true});
    void* p = kmalloc(300).value();
    EXPECT_EQ(ksize(p), 512u);
    void* z = kzalloc(40).value();
    EXPECT_TRUE(all_bytes(z, 40, 0));
    SlabCache* tasks = slab_cache_create("task_struct", 1000, 64).value();
    void* t = tasks->alloc().value();
    EXPECT_EQ(reinterpret_cast<uptr>(t) % 64, 0u);
    EXPECT_EQ(ksize(t), 1024u);
    kfree(t);  // kfree finds the named cache through the slab
    EXPECT_EQ(tasks->stats().active_objects, 0u);
    slab_cache_destroy(tasks);
    EXPECT_EQ(slab_cache_create("bad", 10, 3).error().code(), EINVAL);
    kfree(p);
    kfree(z);
    kfree(nullptr);
    EXPECT_EQ(ksize(nullptr), 0u);
    kmalloc_heap().destroy();
    EXPECT_EQ(pages.buddy.free_pages(), 512u);
}
