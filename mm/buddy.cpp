#include "mm/buddy.h"

namespace keel::mm {

namespace {

// Poison is checked a word at a time; the pages are page-aligned.
using PoisonWord = u64 __attribute__((may_alias));
constexpr u64 POISON_WORD = 0x0101010101010101ull * PAGE_POISON;

}  // namespace

void BuddyAllocator::init(PageFrame* frames, u64 base_pfn, u64 npages, const BuddyOptions& opts) {
    KASSERT(frames != nullptr || npages == 0);
    KASSERT(base_pfn + npages >= base_pfn);
    frames_ = frames;
    base_pfn_ = base_pfn;
    npages_ = npages;
    managed_pages_ = 0;
    free_pages_ = 0;
    opts_ = opts;
    if (opts_.check_poison) opts_.poison = true;
    KASSERT(!opts_.poison || opts_.pfn_to_virt != nullptr);
    for (auto& list : free_lists_) KASSERT(list.empty());
    for (u64 i = 0; i < npages; ++i) {
        // Placement new: the array is raw memory carved out at boot.
        new (&frames_[i]) PageFrame{};
        frames_[i].flags = PageReserved;
    }
}

u64 BuddyAllocator::add_free_range(u64 pfn, u64 count) {
    u64 end = pfn + count < pfn ? ~0ull : pfn + count;
    u64 lo = max(pfn, base_pfn_);
    u64 hi = min(end, base_pfn_ + npages_);
    if (lo >= hi) return 0;

    for (u64 p = lo; p < hi; ++p) {
        PageFrame& f = frame(p);
        KASSERT(f.flags == PageReserved);  // donated twice?
        f.flags = 0;
    }
    if (opts_.poison) poison_pages(lo, hi - lo);

    // Cut the range into the largest naturally aligned blocks it contains;
    // insert_block merges them with neighbours donated earlier.
    for (u64 p = lo; p < hi;) {
        unsigned order = MAX_ORDER;
        if (p != 0) order = min(order, static_cast<unsigned>(__builtin_ctzll(p)));
        order = min(order, ilog2(hi - p));
        insert_block(p, order);
        free_pages_ += 1ull << order;
        p += 1ull << order;
    }
    managed_pages_ += hi - lo;
    return hi - lo;
}

Result<u64> BuddyAllocator::alloc(unsigned order) {
    if (order > MAX_ORDER) return Error(ENOMEM);
    unsigned o = order;
    while (o <= MAX_ORDER && free_lists_[o].empty()) ++o;
    if (o > MAX_ORDER) return Error(ENOMEM);
    u64 pfn = take_block(order);
    if (opts_.check_poison) check_poison(pfn, 1ull << order);
    return pfn;
}

void BuddyAllocator::free(u64 pfn, unsigned order) {
    KASSERT(order <= MAX_ORDER);
    KASSERT(contains(pfn));
    PageFrame& f = frame(pfn);
    // Only the head of a live block may be freed, with the order it was
    // allocated with. A double free finds PageFree or a merged (flag-less)
    // frame; a slab page still owned by the slab allocator has PageSlab.
    KASSERT_MSG(f.flags == PageHead, "page allocator: double free, or a free of a page that is not an allocated block");
    KASSERT_MSG(f.order == order, "page allocator: block freed with the wrong order");
    f.flags = 0;
    if (opts_.poison) poison_pages(pfn, 1ull << order);
    insert_block(pfn, order);
    free_pages_ += 1ull << order;
}

// Pops the smallest free block of at least `order` and splits it down,
// putting each upper half back on the free list one order lower.
u64 BuddyAllocator::take_block(unsigned order) {
    unsigned o = order;
    while (free_lists_[o].empty()) {
        ++o;
        KASSERT(o <= MAX_ORDER);
    }
    PageFrame* f = free_lists_[o].pop_front();
    KASSERT(f->flags == PageFree && f->order == o);
    u64 pfn = pfn_of(*f);
    while (o > order) {
        --o;
        PageFrame& upper = frame(pfn + (1ull << o));
        upper.flags = PageFree;
        upper.order = static_cast<u8>(o);
        free_lists_[o].push_front(upper);
    }
    f->flags = PageHead;
    f->order = static_cast<u8>(order);
    free_pages_ -= 1ull << order;
    return pfn;
}

// The buddy of a block is the block of the same order whose pfn differs only
// in bit `order`; blocks are aligned to their size in absolute pfns, so
// merged blocks stay aligned too. Holes and allocated blocks stop merging
// because their head frames are not PageFree of the same order.
void BuddyAllocator::insert_block(u64 pfn, unsigned order) {
    while (order < MAX_ORDER) {
        u64 buddy = pfn ^ (1ull << order);
        if (!contains(buddy)) break;
        PageFrame& b = frame(buddy);
        if (b.flags != PageFree || b.order != order) break;
        free_lists_[order].remove(b);
        b.flags = 0;
        pfn &= ~(1ull << order);
        ++order;
    }
    PageFrame& f = frame(pfn);
    f.flags = PageFree;
    f.order = static_cast<u8>(order);
    free_lists_[order].push_front(f);
}

void BuddyAllocator::poison_pages(u64 pfn, u64 count) {
    for (u64 i = 0; i < count; ++i) __builtin_memset(opts_.pfn_to_virt(pfn + i), PAGE_POISON, PAGE_SIZE);
}

void BuddyAllocator::check_poison(u64 pfn, u64 count) {
    for (u64 i = 0; i < count; ++i) {
        auto* w = static_cast<const PoisonWord*>(opts_.pfn_to_virt(pfn + i));
        for (usize j = 0; j < PAGE_SIZE / sizeof(u64); ++j) {
            // A mismatch means someone wrote to this page after freeing it.
            KASSERT_MSG(w[j] == POISON_WORD, "page allocator: page written after it was freed");
        }
    }
}

void PageCache::init(BuddyAllocator& buddy, u32 high, u32 batch) {
    KASSERT(batch >= 1 && batch <= high);
    KASSERT(pages_.empty());
    buddy_ = &buddy;
    high_ = high;
    batch_ = batch;
}

u32 PageCache::refill_locked(u32 n) {
    u32 moved = 0;
    for (; moved < n; ++moved) {
        // Skip BuddyAllocator::alloc's poison check: take() checks each page
        // when it is handed out, which also covers time spent in the cache.
        if (buddy_->free_pages_ == 0) break;
        u64 pfn = buddy_->take_block(0);
        PageFrame& f = buddy_->frame(pfn);
        f.flags = PageHead | PageCached;
        pages_.push_front(f);
    }
    return moved;
}

u32 PageCache::drain_locked(u32 n) {
    u32 moved = 0;
    for (; moved < n && !pages_.empty(); ++moved) {
        // The coldest pages go back; they are already poisoned.
        PageFrame* f = pages_.back();
        pages_.remove(*f);
        f->flags = 0;
        buddy_->insert_block(buddy_->pfn_of(*f), 0);
        buddy_->free_pages_ += 1;
    }
    return moved;
}

u64 PageCache::take() {
    PageFrame* f = pages_.pop_front();
    KASSERT(f->flags == (PageHead | PageCached) && f->order == 0);
    f->flags = PageHead;
    u64 pfn = buddy_->pfn_of(*f);
    if (buddy_->opts_.check_poison) buddy_->check_poison(pfn, 1);
    return pfn;
}

void PageCache::put(u64 pfn) {
    KASSERT(buddy_->contains(pfn));
    PageFrame& f = buddy_->frame(pfn);
    // A page already in some cache (double free) has PageCached set.
    KASSERT(f.flags == PageHead);
    KASSERT(f.order == 0);
    if (buddy_->opts_.poison) buddy_->poison_pages(pfn, 1);
    f.flags = PageHead | PageCached;
    pages_.push_front(f);
}

}  // namespace keel::mm
