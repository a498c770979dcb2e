// Physical memory before the page allocator exists: the firmware's RAM
// ranges minus what is already in use (kernel image, initrd, boot data,
// early allocations). Fixed-size tables: nothing here allocates.
#pragma once

#include "lib/result.h"

namespace keel::mm {

struct PhysRange {
    u64 base;
    u64 size;
    u64 end() const { return base + size; }
};

class BootMemory {
public:
    static constexpr usize MAX_RANGES = 128;

    // Page-aligns inward; zero-sized or overflowing ranges are dropped.
    void add_ram(u64 base, u64 size);
    // Page-aligns outward. Fails only when the table is full.
    Status reserve(u64 base, u64 size);
    // Lowest free, aligned block at or above `floor` that fits; reserved on
    // success.
    Result<u64> alloc(u64 size, u64 align, u64 floor = 0x100000);

    u64 total_ram() const;
    u64 max_ram_end() const;
    usize ram_count() const { return nram_; }
    const PhysRange& ram(usize i) const { return ram_[i]; }

    // Calls f(base, size) for each page-aligned free range, in address order.
    template <typename F>
    void for_each_free(F&& f) const {
        for (usize i = 0; i < nram_; ++i) {
            u64 cur = ram_[i].base;
            while (cur < ram_[i].end()) {
                u64 stop = ram_[i].end();
                u64 skip_to = cur;
                for (usize r = 0; r < nres_; ++r) {
                    const PhysRange& res = reserved_[r];
                    if (res.base <= cur && res.end() > cur) skip_to = max(skip_to, res.end());
                    else if (res.base > cur && res.base < stop) stop = res.base;
                }
                if (skip_to > cur) {
                    cur = skip_to;
                    continue;
                }
                f(cur, stop - cur);
                cur = stop;
            }
        }
    }

private:
    bool overlaps_reserved(u64 base, u64 size, u64* next) const;

    PhysRange ram_[MAX_RANGES];
    PhysRange reserved_[MAX_RANGES];
    usize nram_ = 0;
    usize nres_ = 0;
};

}  // namespace keel::mm
