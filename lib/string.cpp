#include "lib/string.h"

// Optimisers recognise copy and fill loops and replace them with calls to
// memcpy/memset. Inside the implementation of memcpy/memset that call would
// be infinite recursion, so the loops here are compiled with that
// transformation switched off (each compiler spells it differently).
#if defined(__clang__)
#define KEEL_NO_LIBCALLS __attribute__((no_builtin))
#else
#define KEEL_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

namespace keel {

namespace {

// Word accesses go through a may_alias type so that copying, say, an array of
// ints word by word is not undefined behaviour under strict aliasing.
using Word = u64 __attribute__((may_alias));
constexpr usize kWordSize = sizeof(u64);

bool word_aligned(uptr p) { return (p & (kWordSize - 1)) == 0; }

// Word copies are only possible when both pointers can reach word alignment
// together, i.e. they have the same offset within a word.
bool same_word_offset(const void* a, const void* b) {
    return word_aligned(reinterpret_cast<uptr>(a) ^ reinterpret_cast<uptr>(b));
}

}  // namespace

namespace detail {

KEEL_NO_LIBCALLS void* mem_copy_generic(void* dst, const void* src, usize n) {
    auto* d = static_cast<u8*>(dst);
    auto* s = static_cast<const u8*>(src);
    if (n >= 2 * kWordSize && same_word_offset(d, s)) {
        while (!word_aligned(reinterpret_cast<uptr>(d))) {
            *d++ = *s++;
            --n;
        }
        for (; n >= kWordSize; n -= kWordSize, d += kWordSize, s += kWordSize)
            *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
    }
    while (n--) *d++ = *s++;
    return dst;
}

// Copies from the end so that a destination above an overlapping source
// reads each byte before overwriting it.
KEEL_NO_LIBCALLS static void copy_backward(u8* d, const u8* s, usize n) {
    d += n;
    s += n;
    if (n >= 2 * kWordSize && same_word_offset(d, s)) {
        while (!word_aligned(reinterpret_cast<uptr>(d))) {
            *--d = *--s;
            --n;
        }
        for (; n >= kWordSize; n -= kWordSize) {
            d -= kWordSize;
            s -= kWordSize;
            *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
        }
    }
    while (n--) *--d = *--s;
}

KEEL_NO_LIBCALLS void* mem_move_generic(void* dst, const void* src, usize n) {
    auto* d = static_cast<u8*>(dst);
    auto* s = static_cast<const u8*>(src);
    // Compare as integers: relational operators on pointers into different
    // objects are unspecified in C++.
    uptr du = reinterpret_cast<uptr>(d), su = reinterpret_cast<uptr>(s);
    if (du == su || n == 0) return dst;
    if (du < su || du - su >= n)
        mem_copy_generic(d, s, n);  // a forward copy never clobbers unread source
    else
        copy_backward(d, s, n);
    return dst;
}

KEEL_NO_LIBCALLS void* mem_set_generic(void* dst, int value, usize n) {
    auto* d = static_cast<u8*>(dst);
    u8 byte = static_cast<u8>(value);
    if (n >= 2 * kWordSize) {
        while (!word_aligned(reinterpret_cast<uptr>(d))) {
            *d++ = byte;
            --n;
        }
        u64 pattern = 0x0101010101010101ull * byte;
        for (; n >= kWordSize; n -= kWordSize, d += kWordSize) *reinterpret_cast<Word*>(d) = pattern;
    }
    while (n--) *d++ = byte;
    return dst;
}

#if defined(__x86_64__)
// `rep movs`/`rep stos` are the fastest general copy and fill that need no
// SSE state, which kernel code may not touch. The bulk goes in 8-byte units:
// as fast as the byte form on ERMS hardware, and 8x fewer iterations where
// each one is counted or emulated (QEMU TCG, -icount). The direction flag is
// clear per the ABI, so they run upward.
void* mem_copy_rep(void* dst, const void* src, usize n) {
    void* d = dst;
    usize words = n / 8, tail = n % 8;
    asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(words) : : "memory");
    asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(tail) : : "memory");
    return dst;
}

void* mem_set_rep(void* dst, int value, usize n) {
    void* d = dst;
    usize words = n / 8, tail = n % 8;
    u64 pattern = 0x0101010101010101ull * static_cast<u8>(value);
    asm volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
    asm volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(pattern) : "memory");
    return dst;
}
#endif

}  // namespace detail

// The host build keeps the portable C++ paths so that the sanitizers see
// every access; the kernel takes the string instructions where it can.
#if !defined(KEEL_HOST) && defined(__x86_64__)
#define KEEL_STRING_REP 1
#endif

void* mem_copy(void* dst, const void* src, usize n) {
#if defined(KEEL_STRING_REP)
    return detail::mem_copy_rep(dst, src, n);
#else
    return detail::mem_copy_generic(dst, src, n);
#endif
}

void* mem_move(void* dst, const void* src, usize n) {
#if defined(KEEL_STRING_REP)
    uptr du = reinterpret_cast<uptr>(dst), su = reinterpret_cast<uptr>(src);
    // `rep movsb` copies strictly upward, which is only safe when the
    // destination does not start inside the source.
    if (du - su >= n) return detail::mem_copy_rep(dst, src, n);
#endif
    return detail::mem_move_generic(dst, src, n);
}

void* mem_set(void* dst, int value, usize n) {
#if defined(KEEL_STRING_REP)
    return detail::mem_set_rep(dst, value, n);
#else
    return detail::mem_set_generic(dst, value, n);
#endif
}

KEEL_NO_LIBCALLS int mem_cmp(const void* a, const void* b, usize n) {
    auto* x = static_cast<const u8*>(a);
    auto* y = static_cast<const u8*>(b);
    for (usize i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

KEEL_NO_LIBCALLS const void* mem_chr(const void* s, int c, usize n) {
    auto* p = static_cast<const u8*>(s);
    u8 want = static_cast<u8>(c);
    for (usize i = 0; i < n; ++i)
        if (p[i] == want) return p + i;
    return nullptr;
}

KEEL_NO_LIBCALLS usize str_len(const char* s) {
    usize n = 0;
    while (s[n]) ++n;
    return n;
}

KEEL_NO_LIBCALLS usize str_nlen(const char* s, usize max) {
    usize n = 0;
    while (n < max && s[n]) ++n;
    return n;
}

// C compares strings as unsigned char, so bytes >= 0x80 sort after ASCII.
int str_cmp(const char* a, const char* b) {
    auto* x = reinterpret_cast<const u8*>(a);
    auto* y = reinterpret_cast<const u8*>(b);
    while (*x && *x == *y) ++x, ++y;
    return *x == *y ? 0 : (*x < *y ? -1 : 1);
}

int str_ncmp(const char* a, const char* b, usize n) {
    auto* x = reinterpret_cast<const u8*>(a);
    auto* y = reinterpret_cast<const u8*>(b);
    for (usize i = 0; i < n; ++i) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
        if (x[i] == 0) break;
    }
    return 0;
}

const char* str_chr(const char* s, int c) {
    char want = static_cast<char>(c);
    for (;; ++s) {
        if (*s == want) return s;
        if (*s == 0) return nullptr;
    }
}

const char* str_rchr(const char* s, int c) {
    char want = static_cast<char>(c);
    const char* found = nullptr;
    for (;; ++s) {
        if (*s == want) found = s;
        if (*s == 0) return found;
    }
}

usize str_lcpy(char* dst, const char* src, usize size) {
    usize len = str_len(src);
    if (size > 0) {
        usize n = len < size - 1 ? len : size - 1;
        mem_copy(dst, src, n);
        dst[n] = 0;
    }
    return len;
}

}  // namespace keel

#if !defined(KEEL_HOST)
extern "C" {
void* memcpy(void* dst, const void* src, size_t n) { return keel::mem_copy(dst, src, n); }
void* memmove(void* dst, const void* src, size_t n) { return keel::mem_move(dst, src, n); }
void* memset(void* dst, int value, size_t n) { return keel::mem_set(dst, value, n); }
int memcmp(const void* a, const void* b, size_t n) { return keel::mem_cmp(a, b, n); }
// Clang lowers `memcmp(...) == 0` to bcmp, which only reports equality.
int bcmp(const void* a, const void* b, size_t n) { return keel::mem_cmp(a, b, n); }
size_t strlen(const char* s) { return keel::str_len(s); }
}
#endif
