#include "mm/boot_mem.h"

namespace keel::mm {

namespace {
constexpr u64 PAGE = 4096;
}

void BootMemory::add_ram(u64 base, u64 size) {
    if (size == 0 || base + size < base || nram_ == MAX_RANGES) return;
    u64 b = align_up(base, PAGE);
    u64 e = align_down(base + size, PAGE);
    if (e <= b) return;
    // Keep the table sorted; firmware maps are usually sorted already.
    usize i = nram_;
    while (i > 0 && ram_[i - 1].base > b) {
        ram_[i] = ram_[i - 1];
        --i;
    }
    ram_[i] = {b, e - b};
    ++nram_;
}

Status BootMemory::reserve(u64 base, u64 size) {
    if (size == 0) return {};
    if (nres_ == MAX_RANGES) return Error(ENOMEM);
    u64 b = align_down(base, PAGE);
    u64 e = base + size < base ? ~0ull & ~(PAGE - 1) : align_up(base + size, PAGE);
    reserved_[nres_++] = {b, e - b};
    return {};
}

bool BootMemory::overlaps_reserved(u64 base, u64 size, u64* next) const {
    for (usize r = 0; r < nres_; ++r) {
        const PhysRange& res = reserved_[r];
        if (res.base < base + size && base < res.end()) {
            *next = res.end();
            return true;
        }
    }
    return false;
}

Result<u64> BootMemory::alloc(u64 size, u64 align, u64 floor) {
    size = align_up(size, PAGE);
    for (usize i = 0; i < nram_; ++i) {
        u64 cur = align_up(max(ram_[i].base, floor), align);
        while (cur + size <= ram_[i].end() && cur + size > cur) {
            u64 next;
            if (!overlaps_reserved(cur, size, &next)) {
                TRY(reserve(cur, size));
                return cur;
            }
            cur = align_up(next, align);
        }
    }
    return Error(ENOMEM);
}

u64 BootMemory::total_ram() const {
    u64 t = 0;
    for (usize i = 0; i < nram_; ++i) t += ram_[i].size;
    return t;
}

u64 BootMemory::max_ram_end() const { return nram_ ? ram_[nram_ - 1].end() : 0; }

}  // namespace keel::mm
