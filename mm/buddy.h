// Binary buddy allocator for physical page frames, plus per-CPU caches of
// single pages in front of it.
//
// Portable: it never touches hardware. The kernel hands it an array of
// PageFrame metadata (one per pfn of the managed span) and, for debug
// poisoning, a pfn_to_virt callback. Free lists live in the metadata, never
// in the free memory itself, so the allocator works before the free pages
// are mapped and poison can cover whole pages.
//
// Locking is the caller's job:
//  - BuddyAllocator: every call that changes state (add_free_range, alloc,
//    free) and the counters need the one global buddy lock.
//  - PageCache: alloc/free need only the per-CPU guard of the owning CPU
//    (preemption or interrupts off); they take the buddy lock passed to them
//    only when they must refill or drain. The *_locked calls need both.
// Lock order: per-CPU guard, then the buddy lock.
#pragma once

#include "lib/intrusive_list.h"
#include "lib/result.h"
#include "mm/layout.h"

namespace keel::mm {

// Largest block: 2^10 pages = 4 MiB.
inline constexpr unsigned MAX_ORDER = 10;
inline constexpr unsigned NUM_ORDERS = MAX_ORDER + 1;

// Byte written over free pages when poisoning is on. Distinct from the slab
// poison so a dump tells which layer freed the memory.
inline constexpr u8 PAGE_POISON = 0xaa;

// PageFrame::flags
enum : u16 {
    PageReserved = 1u << 0,  // not managed: firmware hole, kernel image, never donated
    PageFree = 1u << 1,      // head of a free block, on the free list of `order`
    PageHead = 1u << 2,      // head of an allocated block of `order`
    PageCached = 1u << 3,    // order-0 page parked in a PageCache
    PageSlab = 1u << 4,      // part of a slab (head: tail_index == 0)
    PageLarge = 1u << 5,     // head of a kmalloc block too large for a slab
};

// Metadata for one page frame. Only the head frame of a block carries the
// block's state; the other frames of a buddy block have flags == 0.
struct PageFrame {
    ListNode node;       // buddy free list, PageCache list, or a slab cache list
    u16 flags;
    u8 order;            // buddy order of the block this frame heads
    u8 slab_order;       // slab allocator: order of the slab or large block
    u16 tail_index;      // slab allocator: pages from the slab's head page
    u16 inuse;           // slab allocator: objects allocated from this slab
    union {
        void* slab_cache;  // slab allocator: owning SlabCache (head page)
        void* memcg;       // a user page or large kmalloc block: the cgroup it is charged to, or null
    };
    void* slab_base;     // slab allocator: virtual address of the slab
    union {
        u64 slab_bitmap;  // slab allocator: inline allocation bitmap
        u32 map_count;    // a user page: how many address spaces map it (copy-on-write)
    };
};
static_assert(sizeof(PageFrame) <= 48, "metadata is ~1.2% of RAM; keep it small");

struct BuddyOptions {
    // The kernel's direct map. Needed only when poisoning.
    void* (*pfn_to_virt)(u64 pfn) = nullptr;
    // Fill freed (and donated) pages with PAGE_POISON.
    bool poison = false;
    // On allocation, verify the poison is intact: catches writes after free.
    // Implies poison.
    bool check_poison = false;
};

// A no-op lock for single-threaded users and host tests. Real locks provide
// the same lock()/unlock().
struct NoLock {
    void lock() {}
    void unlock() {}
};

class BuddyAllocator {
public:
    BuddyAllocator() = default;
    BuddyAllocator(const BuddyAllocator&) = delete;
    BuddyAllocator& operator=(const BuddyAllocator&) = delete;

    // Manage pfns [base_pfn, base_pfn + npages), described by frames[0..npages).
    // Every page starts reserved; memory becomes allocatable only through
    // add_free_range.
    void init(PageFrame* frames, u64 base_pfn, u64 npages, const BuddyOptions& opts = {});

    // Donate usable RAM. Any alignment; the part outside the managed span is
    // ignored. Pages must not have been donated before. Returns the number
    // of pages added.
    u64 add_free_range(u64 pfn, u64 count);

    // First pfn of a naturally aligned block of 2^order pages, or ENOMEM.
    Result<u64> alloc(unsigned order);
    // Return a block from alloc(order). Double frees, wrong orders and frees
    // of pages that are not a block head are KASSERT failures.
    void free(u64 pfn, unsigned order);

    bool contains(u64 pfn) const { return pfn >= base_pfn_ && pfn - base_pfn_ < npages_; }
    PageFrame& frame(u64 pfn) {
        KASSERT(contains(pfn));
        return frames_[pfn - base_pfn_];
    }
    u64 pfn_of(const PageFrame& f) const { return base_pfn_ + static_cast<u64>(&f - frames_); }

    u64 base_pfn() const { return base_pfn_; }
    u64 span_pages() const { return npages_; }
    u64 managed_pages() const { return managed_pages_; }  // donated so far
    u64 free_pages() const { return free_pages_; }        // excludes PageCache pages
    u64 free_blocks(unsigned order) const { return order < NUM_ORDERS ? free_lists_[order].size() : 0; }
    const BuddyOptions& options() const { return opts_; }

private:
    friend class PageCache;
    using FreeList = IntrusiveList<PageFrame, &PageFrame::node>;

    u64 take_block(unsigned order);  // requires a non-empty list at >= order
    void insert_block(u64 pfn, unsigned order);  // merges with free buddies
    void poison_pages(u64 pfn, u64 count);
    void check_poison(u64 pfn, u64 count);

    PageFrame* frames_ = nullptr;
    u64 base_pfn_ = 0;
    u64 npages_ = 0;
    u64 managed_pages_ = 0;
    u64 free_pages_ = 0;
    BuddyOptions opts_{};
    FreeList free_lists_[NUM_ORDERS];
};

// A per-CPU stack of order-0 pages. Single-page allocations and frees hit
// only this cache; it refills `batch` pages from the buddy when empty and
// gives `batch` pages back when it grows beyond `high`, so the global lock is
// taken once per batch instead of once per page.
//
// Pages in the cache count as allocated for the buddy; free memory for
// /proc/meminfo is buddy.free_pages() plus count() of every CPU's cache. When
// the buddy runs dry the kernel may drain the other CPUs' caches and retry.
class PageCache {
public:
    PageCache() = default;
    PageCache(const PageCache&) = delete;
    PageCache& operator=(const PageCache&) = delete;

    // batch must be in 1..high.
    void init(BuddyAllocator& buddy, u32 high = 64, u32 batch = 16);

    // Per-CPU guard held. `buddy_lock` is taken only around a refill.
    template <typename Lock>
    Result<u64> alloc(Lock& buddy_lock) {
        if (pages_.empty()) {
            buddy_lock.lock();
            refill_locked(batch_);
            buddy_lock.unlock();
            if (pages_.empty()) return Error(ENOMEM);
        }
        return take();
    }

    // Per-CPU guard held. `buddy_lock` is taken only around a drain. The page
    // must have come from alloc() of some PageCache or buddy.alloc(0).
    template <typename Lock>
    void free(u64 pfn, Lock& buddy_lock) {
        put(pfn);
        if (pages_.size() > high_) {
            buddy_lock.lock();
            drain_locked(batch_);
            buddy_lock.unlock();
        }
    }

    Result<u64> alloc() {
        NoLock l;
        return alloc(l);
    }
    void free(u64 pfn) {
        NoLock l;
        free(pfn, l);
    }

    // Per-CPU guard and buddy lock held. Move up to n pages between the cache
    // and the buddy; return how many moved.
    u32 refill_locked(u32 n);
    u32 drain_locked(u32 n);
    u32 drain_all_locked() { return drain_locked(static_cast<u32>(pages_.size())); }

    u32 count() const { return static_cast<u32>(pages_.size()); }
    u32 high() const { return high_; }
    u32 batch() const { return batch_; }

private:
    u64 take();
    void put(u64 pfn);

    BuddyAllocator* buddy_ = nullptr;
    u32 high_ = 0;
    u32 batch_ = 0;
    IntrusiveList<PageFrame, &PageFrame::node> pages_;
};

}  // namespace keel::mm
