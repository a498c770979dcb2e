// The few pieces of <utility>/<type_traits> the kernel needs. The kernel is
// built with -nostdinc++, so these are written once here and used by both
// the kernel and the host tests.
#pragma once

#include "lib/types.h"

namespace keel {

template <typename T> struct remove_reference { using type = T; };
template <typename T> struct remove_reference<T&> { using type = T; };
template <typename T> struct remove_reference<T&&> { using type = T; };
template <typename T> using remove_reference_t = typename remove_reference<T>::type;

template <typename T>
constexpr remove_reference_t<T>&& move(T&& t) noexcept { return static_cast<remove_reference_t<T>&&>(t); }

template <typename T>
constexpr T&& forward(remove_reference_t<T>& t) noexcept { return static_cast<T&&>(t); }
template <typename T>
constexpr T&& forward(remove_reference_t<T>&& t) noexcept { return static_cast<T&&>(t); }

template <typename T>
constexpr void swap(T& a, T& b) noexcept {
    T tmp = move(a);
    a = move(b);
    b = move(tmp);
}

template <typename T, typename U> inline constexpr bool is_same_v = false;
template <typename T> inline constexpr bool is_same_v<T, T> = true;

template <typename T>
inline constexpr bool is_trivially_copyable_v = __is_trivially_copyable(T);

// Byte offset of a member, usable for intrusive containers.
template <typename Owner, typename Member>
inline usize offset_of_member(Member Owner::*member) {
    alignas(Owner) static constexpr char probe[sizeof(Owner)] = {};
    auto* owner = reinterpret_cast<const Owner*>(probe);
    return static_cast<usize>(reinterpret_cast<const char*>(&(owner->*member)) - probe);
}

}  // namespace keel

// Placement new without <new>. The host build gets it from <new> already.
#if defined(KEEL_KERNEL)
inline void* operator new(keel::usize, void* p) noexcept { return p; }
inline void* operator new[](keel::usize, void* p) noexcept { return p; }
#else
#include <new>
#endif
