// Memory and C-string primitives. The kernel links no libc, yet the compiler
// emits calls to memcpy/memset/memmove/memcmp on its own (struct copies,
// zero-initialisation), so the kernel build defines those with C linkage.
// The host build must not (they would collide with libc); it tests the same
// code under keel:: names instead.
#pragma once

#include "lib/types.h"

namespace keel {

// Behave like their C counterparts, including the return values. As in C,
// pointers may be null only when the length is zero.
void* mem_copy(void* dst, const void* src, usize n);   // no overlap
void* mem_move(void* dst, const void* src, usize n);   // overlap allowed
void* mem_set(void* dst, int value, usize n);
int mem_cmp(const void* a, const void* b, usize n);
const void* mem_chr(const void* s, int c, usize n);

usize str_len(const char* s);
usize str_nlen(const char* s, usize max);
int str_cmp(const char* a, const char* b);
int str_ncmp(const char* a, const char* b, usize n);
const char* str_chr(const char* s, int c);    // c == 0 finds the terminator
const char* str_rchr(const char* s, int c);

// Copies at most size - 1 bytes and always NUL-terminates when size > 0.
// Returns str_len(src) so that a result >= size reveals truncation.
usize str_lcpy(char* dst, const char* src, usize size);

namespace detail {
// The byte-at-a-time/word-at-a-time C++ implementations. The kernel's x86-64
// fast paths use `rep movsb`/`rep stosb` instead; both are exposed so the
// host tests exercise each of them.
void* mem_copy_generic(void* dst, const void* src, usize n);
void* mem_move_generic(void* dst, const void* src, usize n);
void* mem_set_generic(void* dst, int value, usize n);
#if defined(__x86_64__)
void* mem_copy_rep(void* dst, const void* src, usize n);
void* mem_set_rep(void* dst, int value, usize n);
#endif
}  // namespace detail

}  // namespace keel

#if !defined(KEEL_HOST)
// The symbols the compiler calls. Declared here so kernel code may use the
// standard names too; they forward to the keel:: functions above.
extern "C" {
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int value, size_t n);
int memcmp(const void* a, const void* b, size_t n);
int bcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
}
#endif
