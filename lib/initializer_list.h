// std::initializer_list, which the compiler needs for range-for over a
// braced list. The kernel has no C++ standard library, so it is defined
// here with the layout GCC and Clang expect; the host uses the real one.
#pragma once

#if defined(KEEL_KERNEL)
#include <stddef.h>

namespace std {

template <class E>
class initializer_list {
public:
    constexpr initializer_list() noexcept : array_(nullptr), len_(0) {}
    constexpr size_t size() const noexcept { return len_; }
    constexpr const E* begin() const noexcept { return array_; }
    constexpr const E* end() const noexcept { return array_ + len_; }

private:
    // The compiler constructs lists through this signature.
    constexpr initializer_list(const E* a, size_t l) : array_(a), len_(l) {}
    const E* array_;
    size_t len_;
};

}  // namespace std
#else
#include <initializer_list>
#endif
