// Allocator of virtual address ranges inside a fixed arena: vmalloc areas,
// kernel stacks with an unmapped guard gap below them, MMIO windows. It hands
// out addresses only; mapping pages is the caller's job.
//
// The arena is tiled by segments, each free or busy, kept in one list in
// address order, so freeing merges with the neighbours in O(1) once the
// segment is found. Allocation is first-fit; lookups are linear in the
// number of segments, which is fine for the thousands of areas a kernel
// holds (a tree can replace the list behind the same API).
//
// No heap: segment nodes come from pools the caller donates (init and
// add_nodes), e.g. a static array at boot and later a page from the buddy.
// An allocation needs at most two spare nodes; without them alloc fails with
// ENOMEM before changing anything.
//
// Locking is the caller's: one lock around every call.
#pragma once

#include "lib/result.h"
#include "mm/layout.h"

namespace keel::mm {

// The arena keeps its own links: it needs insertion after a given segment
// and the previous neighbour, which IntrusiveList does not offer.
struct VmemSegment {
    VmemSegment* prev = nullptr;
    VmemSegment* next = nullptr;
    uptr start = 0;    // first byte, including the guard gap
    usize size = 0;    // bytes, including the guard gap
    usize guard = 0;   // busy: unmapped gap at the bottom of the segment
    bool busy = false;
};

class VmemArena {
public:
    VmemArena() = default;
    VmemArena(const VmemArena&) = delete;
    VmemArena& operator=(const VmemArena&) = delete;

    // Manage [start, end) in units of `quantum` (a power of two; start and
    // end must be multiples). The pool must hold at least one node.
    void init(uptr start, uptr end, VmemSegment* pool, usize pool_count, usize quantum = PAGE_SIZE);
    // More tracking nodes; they must outlive the arena.
    void add_nodes(VmemSegment* pool, usize count);

    // `size` bytes at an address aligned to `align`, with `guard` bytes
    // below it that no other allocation will use. Sizes round up to the
    // quantum; align below the quantum means the quantum. EINVAL for a zero
    // size or an align that is not a power of two; ENOMEM when no free range
    // fits or the node pool is empty.
    Result<uptr> alloc(usize size, usize guard = 0, usize align = 0);
    // Free by the address alloc returned; returns the size (without the
    // guard) so the caller can unmap it. Unknown addresses are KASSERT failures.
    usize free(uptr addr);
    // The size of a live allocation, or ENOENT.
    Result<usize> size_of(uptr addr) const;

    uptr start() const { return start_; }
    uptr end() const { return end_; }
    usize free_bytes() const { return free_bytes_; }
    usize used_bytes() const { return (end_ - start_) - free_bytes_; }  // includes guards
    usize largest_free() const;
    usize segment_count() const { return segment_count_; }
    usize spare_nodes() const { return spare_count_; }
    usize allocation_count() const { return busy_count_; }

    // Calls f(const VmemSegment&) for each segment in address order.
    template <typename F>
    void for_each_segment(F&& f) const {
        for (const VmemSegment* s = first_; s; s = s->next) f(*s);
    }

private:
    VmemSegment* find_busy(uptr addr) const;
    VmemSegment* take_spare();
    void put_spare(VmemSegment* seg);
    void insert_after(VmemSegment* pos, VmemSegment* seg);
    void unlink(VmemSegment* seg);

    uptr start_ = 0;
    uptr end_ = 0;
    usize quantum_ = PAGE_SIZE;
    usize free_bytes_ = 0;
    usize busy_count_ = 0;
    VmemSegment* first_ = nullptr;  // segments tile [start_, end_) in address order
    usize segment_count_ = 0;
    VmemSegment* spare_ = nullptr;  // unused nodes, linked through next
    usize spare_count_ = 0;
};

}  // namespace keel::mm
