#include "mm/vmem_arena.h"

namespace keel::mm {

void VmemArena::init(uptr start, uptr end, VmemSegment* pool, usize pool_count, usize quantum) {
    KASSERT(is_pow2(quantum));
    KASSERT(start < end && start % quantum == 0 && end % quantum == 0);
    KASSERT(pool != nullptr && pool_count >= 1);
    start_ = start;
    end_ = end;
    quantum_ = quantum;
    first_ = nullptr;
    segment_count_ = 0;
    spare_ = nullptr;
    spare_count_ = 0;
    busy_count_ = 0;
    add_nodes(pool, pool_count);

    VmemSegment* all = take_spare();
    all->start = start;
    all->size = end - start;
    first_ = all;
    segment_count_ = 1;
    free_bytes_ = all->size;
}

void VmemArena::add_nodes(VmemSegment* pool, usize count) {
    for (usize i = 0; i < count; ++i) put_spare(new (&pool[i]) VmemSegment{});
}

VmemSegment* VmemArena::take_spare() {
    VmemSegment* s = spare_;
    KASSERT(s != nullptr);
    spare_ = s->next;
    --spare_count_;
    *s = VmemSegment{};
    return s;
}

void VmemArena::put_spare(VmemSegment* seg) {
    seg->prev = nullptr;
    seg->next = spare_;
    spare_ = seg;
    ++spare_count_;
}

void VmemArena::insert_after(VmemSegment* pos, VmemSegment* seg) {
    seg->prev = pos;
    seg->next = pos->next;
    if (pos->next) pos->next->prev = seg;
    pos->next = seg;
    ++segment_count_;
}

void VmemArena::unlink(VmemSegment* seg) {
    if (seg->prev) seg->prev->next = seg->next;
    else first_ = seg->next;
    if (seg->next) seg->next->prev = seg->prev;
    seg->prev = seg->next = nullptr;
    --segment_count_;
}

Result<uptr> VmemArena::alloc(usize size, usize guard, usize align) {
    if (size == 0) return Error(EINVAL);
    if (align < quantum_) align = quantum_;
    if (!is_pow2(align)) return Error(EINVAL);
    // Bound before rounding so the rounding cannot overflow.
    usize span = end_ - start_;
    if (size > span || guard > span - size) return Error(ENOMEM);
    size = align_up(size, quantum_);
    guard = align_up(guard, quantum_);
    if (size > span || guard > span - size) return Error(ENOMEM);

    for (VmemSegment* seg = first_; seg; seg = seg->next) {
        if (seg->busy || seg->size < guard + size) continue;
        uptr seg_end = seg->start + seg->size;
        uptr lo = seg->start + guard;
        uptr base;
        if (__builtin_add_overflow(lo, align - 1, &base)) continue;
        base &= ~(uptr{align} - 1);
        if (base > seg_end || seg_end - base < size) continue;

        usize front = base - guard - seg->start;
        usize back = seg_end - (base + size);
        // Another segment may need fewer nodes (an exact fit needs none).
        if (static_cast<usize>(front != 0) + static_cast<usize>(back != 0) > spare_count_) continue;

        VmemSegment* busy = seg;
        if (front != 0) {
            busy = take_spare();
            insert_after(seg, busy);
            seg->size = front;
        }
        busy->start = base - guard;
        busy->size = guard + size;
        busy->guard = guard;
        busy->busy = true;
        if (back != 0) {
            VmemSegment* rest = take_spare();
            rest->start = base + size;
            rest->size = back;
            insert_after(busy, rest);
        }
        free_bytes_ -= guard + size;
        ++busy_count_;
        return base;
    }
    return Error(ENOMEM);
}

VmemSegment* VmemArena::find_busy(uptr addr) const {
    for (VmemSegment* seg = first_; seg; seg = seg->next) {
        if (seg->start > addr) break;
        if (seg->busy && seg->start + seg->guard == addr) return seg;
    }
    return nullptr;
}

usize VmemArena::free(uptr addr) {
    VmemSegment* seg = find_busy(addr);
    KASSERT(seg != nullptr);  // not an allocation's start, or freed twice
    usize size = seg->size - seg->guard;
    seg->busy = false;
    seg->guard = 0;
    free_bytes_ += seg->size;
    --busy_count_;

    // The list tiles the arena, so list neighbours are address neighbours.
    if (VmemSegment* next = seg->next; next && !next->busy) {
        seg->size += next->size;
        unlink(next);
        put_spare(next);
    }
    if (VmemSegment* prev = seg->prev; prev && !prev->busy) {
        prev->size += seg->size;
        unlink(seg);
        put_spare(seg);
    }
    return size;
}

Result<usize> VmemArena::size_of(uptr addr) const {
    VmemSegment* seg = find_busy(addr);
    if (!seg) return Error(ENOENT);
    return seg->size - seg->guard;
}

usize VmemArena::largest_free() const {
    usize best = 0;
    for (VmemSegment* seg = first_; seg; seg = seg->next)
        if (!seg->busy) best = max(best, seg->size);
    return best;
}

}  // namespace keel::mm
