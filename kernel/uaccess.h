// Access to user memory. Every user pointer is a UserPtr (an address that
// cannot be dereferenced); data moves only through these fault-safe copies,
// which return EFAULT for unmapped, kernel or overflowing ranges instead of
// crashing. Direction is part of the type: UserIn<T> can only be read,
// UserOut<T> only written.
#pragma once

#include "lib/result.h"
#include "mm/layout.h"

extern "C" keel::usize arch_copy_user(void* dst, const void* src, keel::usize n);
extern "C" long arch_strncpy_from_user(char* dst, const char* src, keel::usize n);

namespace keel {

// A user range is valid if it lies entirely below the top of user space.
inline bool user_range_ok(uptr addr, usize n) {
    return addr <= mm::USER_END && n <= mm::USER_END - addr;
}

inline Status copy_from_user(void* dst, uptr src, usize n) {
    if (!user_range_ok(src, n)) return Error(EFAULT);
    if (n && arch_copy_user(dst, reinterpret_cast<const void*>(src), n)) return Error(EFAULT);
    return {};
}

inline Status copy_to_user(uptr dst, const void* src, usize n) {
    if (!user_range_ok(dst, n)) return Error(EFAULT);
    if (n && arch_copy_user(reinterpret_cast<void*>(dst), src, n)) return Error(EFAULT);
    return {};
}

// An extensible struct (sched_attr, clone_args, open_how): the caller's
// `usize` bytes into a kernel struct of `ksize`. A shorter one leaves the
// rest zeroed; a longer one is accepted only if the bytes Keel does not know
// are zero (E2BIG otherwise), so a newer program fails rather than having
// its new fields ignored.
inline Status copy_struct_from_user(void* dst, usize ksize, uptr src, usize usize_) {
    auto* d = static_cast<unsigned char*>(dst);
    for (usize i = 0; i < ksize; ++i) d[i] = 0;
    TRY(copy_from_user(dst, src, min(ksize, usize_)));
    unsigned char chunk[64];
    for (usize off = ksize; off < usize_; off += sizeof(chunk)) {
        usize n = min<usize>(sizeof(chunk), usize_ - off);
        TRY(copy_from_user(chunk, src + off, n));
        for (usize i = 0; i < n; ++i)
            if (chunk[i]) return Error(E2BIG);
    }
    return {};
}

// Copies a NUL-terminated string of at most max-1 bytes; ENAMETOOLONG-style
// overflow is reported as `too_long` (callers pick the errno Linux uses).
inline Result<usize> strncpy_from_user(char* dst, uptr src, usize max, int too_long) {
    if (src >= mm::USER_END) return Error(EFAULT);
    usize n = min<usize>(max, mm::USER_END - src);
    long r = arch_strncpy_from_user(dst, reinterpret_cast<const char*>(src), n);
    if (r < 0) return Error(EFAULT);
    if (static_cast<usize>(r) == n) return Error(n < max ? EFAULT : too_long);
    return static_cast<usize>(r);
}

template <typename T>
class UserIn {
public:
    constexpr explicit UserIn(uptr a) : addr_(a) {}
    uptr addr() const { return addr_; }
    bool is_null() const { return addr_ == 0; }
    Result<T> read() const {
        static_assert(__is_trivially_copyable(T));
        T v;
        TRY(copy_from_user(&v, addr_, sizeof(T)));
        return v;
    }
    UserIn offset(usize i) const { return UserIn(addr_ + i * sizeof(T)); }

private:
    uptr addr_;
};

template <typename T>
class UserOut {
public:
    constexpr explicit UserOut(uptr a) : addr_(a) {}
    uptr addr() const { return addr_; }
    bool is_null() const { return addr_ == 0; }
    Status write(const T& v) const {
        static_assert(__is_trivially_copyable(T));
        return copy_to_user(addr_, &v, sizeof(T));
    }
    UserOut offset(usize i) const { return UserOut(addr_ + i * sizeof(T)); }

private:
    uptr addr_;
};

template <typename T>
class UserInOut {
public:
    constexpr explicit UserInOut(uptr a) : addr_(a) {}
    uptr addr() const { return addr_; }
    Result<T> read() const { return UserIn<T>(addr_).read(); }
    Status write(const T& v) const { return UserOut<T>(addr_).write(v); }

private:
    uptr addr_;
};

}  // namespace keel

namespace keel {

// A buffer for file I/O that is either user memory (from read/write
// syscalls) or kernel memory (exec reading a binary, the kernel writing a
// file): file code copies through it and never needs to know which.
class IoBuffer {
public:
    static IoBuffer user(uptr addr, usize len) { return IoBuffer(true, addr, len); }
    static IoBuffer kernel(void* p, usize len) { return IoBuffer(false, reinterpret_cast<uptr>(p), len); }

    usize size() const { return len_; }
    // Copies n bytes from src into the buffer at offset `at`.
    Status write_to(usize at, const void* src, usize n) const {
        if (at > len_ || n > len_ - at) return Error(EFAULT);
        if (user_) return copy_to_user(addr_ + at, src, n);
        __builtin_memcpy(reinterpret_cast<void*>(addr_ + at), src, n);
        return {};
    }
    // Copies n bytes of the buffer at offset `at` into dst.
    Status read_from(usize at, void* dst, usize n) const {
        if (at > len_ || n > len_ - at) return Error(EFAULT);
        if (user_) return copy_from_user(dst, addr_ + at, n);
        __builtin_memcpy(dst, reinterpret_cast<const void*>(addr_ + at), n);
        return {};
    }

private:
    IoBuffer(bool user, uptr addr, usize len) : user_(user), addr_(addr), len_(len) {}
    bool user_;
    uptr addr_;
    usize len_;
};

}  // namespace keel
