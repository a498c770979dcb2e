#include "fs/core/fs_types.h"

#include "lib/string.h"

namespace keel::fs {

namespace {

Timespec zero_clock() { return {}; }

ClockFn g_clock = &zero_clock;

}  // namespace

void set_clock(ClockFn fn) { __atomic_store_n(&g_clock, fn ? fn : &zero_clock, __ATOMIC_RELEASE); }

Timespec current_time() { return __atomic_load_n(&g_clock, __ATOMIC_ACQUIRE)(); }

usize DataBuffer::zero(usize at, usize n) {
    static const u8 zeros[256] = {};
    usize done = 0;
    while (done < n) {
        usize chunk = min<usize>(n - done, sizeof(zeros));
        usize c = copy_out(at + done, zeros, chunk);
        done += c;
        if (c < chunk) break;
    }
    return done;
}

usize KernelDataBuffer::copy_out(usize at, const void* src, usize n) {
    if (at > size_ || n > size_ - at) n = at > size_ ? 0 : size_ - at;
    mem_copy(data_ + at, src, n);
    return n;
}

usize KernelDataBuffer::copy_in(usize at, void* dst, usize n) {
    if (at > size_ || n > size_ - at) n = at > size_ ? 0 : size_ - at;
    mem_copy(dst, data_ + at, n);
    return n;
}

usize KernelDataBuffer::zero(usize at, usize n) {
    if (at > size_ || n > size_ - at) n = at > size_ ? 0 : size_ - at;
    mem_set(data_ + at, 0, n);
    return n;
}

}  // namespace keel::fs
