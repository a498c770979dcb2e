// Fixed-width types and small helpers shared by the kernel and host builds.
// Only compiler-provided freestanding headers are used here.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace keel {

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i8 = int8_t;
using i16 = int16_t;
using i32 = int32_t;
using i64 = int64_t;
using usize = size_t;
using uptr = uintptr_t;

constexpr u64 KiB = 1024;
constexpr u64 MiB = 1024 * KiB;
constexpr u64 GiB = 1024 * MiB;

template <typename T>
constexpr T align_up(T v, T a) { return (v + a - 1) & ~(a - 1); }
template <typename T>
constexpr T align_down(T v, T a) { return v & ~(a - 1); }
template <typename T>
constexpr bool is_pow2(T v) { return v != 0 && (v & (v - 1)) == 0; }

template <typename T>
constexpr const T& min(const T& a, const T& b) { return b < a ? b : a; }
template <typename T>
constexpr const T& max(const T& a, const T& b) { return a < b ? b : a; }
template <typename T>
constexpr const T& clamp(const T& v, const T& lo, const T& hi) { return v < lo ? lo : (hi < v ? hi : v); }

// Index of the highest set bit; v must be non-zero.
constexpr unsigned ilog2(u64 v) { return 63u - static_cast<unsigned>(__builtin_clzll(v)); }

}  // namespace keel
