// The iovec arrays of readv/writev-style calls, imported as Linux's
// import_iovec does: at most UIO_MAXIOV segments, negative lengths EINVAL,
// each range checked, the total capped at MAX_RW_COUNT.
#pragma once

#include <linux/uio.h>

#include "kernel/uaccess.h"
#include "mm/slab.h"

namespace keel {

// A kernel copy of the user's iovec array.
class IoVecs {
public:
    static constexpr usize MAX_RW_COUNT = 0x7ffff000;

    IoVecs() = default;
    IoVecs(const IoVecs&) = delete;
    IoVecs& operator=(const IoVecs&) = delete;
    ~IoVecs() {
        if (v_ != stack_) mm::kfree(v_);
    }

    Status import(uptr uvec, u64 count) {
        if (count > UIO_MAXIOV) return Error(EINVAL);
        if (count > sizeof(stack_) / sizeof(stack_[0])) v_ = static_cast<iovec*>(TRY(mm::kmalloc(count * sizeof(iovec))));
        TRY(copy_from_user(v_, uvec, count * sizeof(iovec)));
        count_ = count;
        for (u64 i = 0; i < count; ++i) {
            usize len = reinterpret_cast<usize>(v_[i].iov_len);
            if (static_cast<i64>(len) < 0) return Error(EINVAL);
            if (!user_range_ok(reinterpret_cast<uptr>(v_[i].iov_base), len)) return Error(EFAULT);
            len = min<usize>(len, MAX_RW_COUNT - total_);
            v_[i].iov_len = reinterpret_cast<decltype(v_[i].iov_len)>(len);
            total_ += len;
        }
        return {};
    }

    usize total() const { return total_; }
    u64 count() const { return count_; }
    IoBuffer segment(u64 i) const {
        return IoBuffer::user(reinterpret_cast<uptr>(v_[i].iov_base), reinterpret_cast<usize>(v_[i].iov_len));
    }

    // Moves n bytes between the segments (from `at` on) and `k`.
    Status scatter(const u8* k, usize n) const { return walk(const_cast<u8*>(k), n, true); }
    Status gather(u8* k, usize at, usize n) const { return walk(k, n, false, at); }

private:
    Status walk(u8* k, usize n, bool to_user, usize at = 0) const {
        usize done = 0;
        for (u64 i = 0; i < count_ && done < n; ++i) {
            usize len = reinterpret_cast<usize>(v_[i].iov_len);
            if (at >= len) {
                at -= len;
                continue;
            }
            usize chunk = min(len - at, n - done);
            uptr u = reinterpret_cast<uptr>(v_[i].iov_base) + at;
            TRY(to_user ? copy_to_user(u, k + done, chunk) : copy_from_user(k + done, u, chunk));
            done += chunk;
            at = 0;
        }
        return {};
    }

    iovec stack_[8];
    iovec* v_ = stack_;
    u64 count_ = 0;
    usize total_ = 0;
};

}  // namespace keel
