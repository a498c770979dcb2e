// The memory controller's page counter: usage, limit and peak of one cgroup,
// linked to its parent's so that a charge counts in every ancestor (Linux's
// page_counter). Lock-free: a charge adds at each level and backs out if a
// level would go over its limit, so concurrent chargers never overshoot a
// limit together, at worst both fail near it.
//
// Portable (host-tested, tests/host/memcg_counter_test.cpp).
#pragma once

#include "lib/types.h"

namespace keel::memcg {

inline constexpr u64 NO_LIMIT = ~0ull;

// memory.events keys, in Linux's order.
enum Event : u8 { EV_LOW, EV_HIGH, EV_MAX, EV_OOM, EV_OOM_KILL, EV_OOM_GROUP_KILL, NR_EVENTS };
// What a charged page is, for memory.stat: user pages, and the kernel
// memory charged (memory.stat "kernel" is their sum; KMEM is kernel memory
// with no line of its own, such as pipe buffers).
enum Kind : u8 { ANON, SHMEM, PAGETABLES, KERNEL_STACK, KMEM, NR_KINDS };

struct PageCounter {
    u64 usage = 0;             // pages, this group and its descendants
    u64 max = NO_LIMIT;        // pages (memory.max)
    u64 high = NO_LIMIT;       // pages (memory.high): never refuses a charge
    u64 watermark = 0;         // the highest usage ever (memory.peak)
    u64 local_watermark = 0;   // the highest usage since the last memory.peak write
    u64 failcnt = 0;           // charges refused at this level
    PageCounter* parent = nullptr;  // null at the top (the root is not counted)

    u64 read() const { return __atomic_load_n(&usage, __ATOMIC_RELAXED); }
    u64 limit() const { return __atomic_load_n(&max, __ATOMIC_RELAXED); }
    u64 high_limit() const { return __atomic_load_n(&high, __ATOMIC_RELAXED); }
    u64 peak() const { return __atomic_load_n(&watermark, __ATOMIC_RELAXED); }
    u64 local_peak() const { return __atomic_load_n(&local_watermark, __ATOMIC_RELAXED); }
};

namespace detail {
inline void raise_to(u64* v, u64 to) {
    u64 cur = __atomic_load_n(v, __ATOMIC_RELAXED);
    while (cur < to && !__atomic_compare_exchange_n(v, &cur, to, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}
inline void note_usage(PageCounter& c, u64 now) {
    raise_to(&c.watermark, now);
    raise_to(&c.local_watermark, now);
}
}  // namespace detail

// Charges n pages at every level regardless of limits (for a charge that
// must not fail, or one already accepted).
inline void counter_charge(PageCounter* c, u64 n) {
    for (; c; c = c->parent) detail::note_usage(*c, __atomic_add_fetch(&c->usage, n, __ATOMIC_RELAXED));
}

inline void counter_uncharge(PageCounter* c, u64 n) {
    for (; c; c = c->parent) __atomic_sub_fetch(&c->usage, n, __ATOMIC_RELAXED);
}

// Charges n pages at every level, or none: on failure returns the level
// whose limit would be exceeded (its failcnt counted) and leaves usage as
// it was. Null when the charge succeeded.
inline PageCounter* counter_try_charge(PageCounter* c, u64 n) {
    for (PageCounter* a = c; a; a = a->parent) {
        u64 now = __atomic_add_fetch(&a->usage, n, __ATOMIC_RELAXED);
        if (now > a->limit()) {
            __atomic_sub_fetch(&a->usage, n, __ATOMIC_RELAXED);
            __atomic_add_fetch(&a->failcnt, 1, __ATOMIC_RELAXED);
            for (PageCounter* b = c; b != a; b = b->parent) __atomic_sub_fetch(&b->usage, n, __ATOMIC_RELAXED);
            return a;
        }
        detail::note_usage(*a, now);
    }
    return nullptr;
}

// Whether this level or one above it is over its memory.high.
inline bool above_high(const PageCounter* c) {
    for (; c; c = c->parent)
        if (c->read() > c->high_limit()) return true;
    return false;
}

// The level furthest above its memory.high, as a fraction of that limit in
// 1/2^20 units (Linux's overage precision); 0 when none is above.
inline u64 high_overage(const PageCounter* c) {
    u64 worst = 0;
    for (; c; c = c->parent) {
        u64 u = c->read(), h = c->high_limit();
        if (u <= h) continue;
        u64 over = h ? ((u - h) << 20) / h : (1ull << 40);
        if (over > worst) worst = over;
    }
    return worst;
}

// Kernel objects are charged by the byte (Kmalloc's accounted caches): a
// cgroup's counter holds its object bytes rounded up to whole pages.
inline u64 slab_pages(u64 bytes) { return (bytes + 4095) / 4096; }

// Charges `bytes` of kernel objects to a cgroup with *obj_bytes of them
// so far and page counter `c`: the pages the new total needs beyond the
// old, at every level, or none: then returns the level whose limit would
// be exceeded and leaves both as they were. Null on success.
inline PageCounter* counter_try_charge_bytes(PageCounter* c, u64* obj_bytes, u64 bytes) {
    u64 old = __atomic_load_n(obj_bytes, __ATOMIC_RELAXED);
    for (;;) {
        u64 pages = slab_pages(old + bytes) - slab_pages(old);
        if (pages)
            if (PageCounter* over = counter_try_charge(c, pages)) return over;
        // Each change of the total charges exactly the pages it adds, so
        // racing chargers and unchargers keep the counter at its rounding.
        if (__atomic_compare_exchange_n(obj_bytes, &old, old + bytes, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return nullptr;
        if (pages) counter_uncharge(c, pages);
    }
}

inline void counter_uncharge_bytes(PageCounter* c, u64* obj_bytes, u64 bytes) {
    u64 old = __atomic_fetch_sub(obj_bytes, bytes, __ATOMIC_RELAXED);
    u64 pages = slab_pages(old) - slab_pages(old - bytes);
    if (pages) counter_uncharge(c, pages);
}

// memory.peak written: the peak that open file reports restarts from the
// usage now.
inline u64 reset_local_peak(PageCounter& c) {
    u64 now = c.read();
    __atomic_store_n(&c.local_watermark, now, __ATOMIC_RELAXED);
    return now;
}

}  // namespace keel::memcg
