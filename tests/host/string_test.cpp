// lib/string against the host libc, on unaligned and overlapping buffers.
// Each memory routine is checked in every variant the kernel may run: the
// public keel:: entry point, the portable C++ path and the x86-64 string
// instruction path.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lib/string.h"

using namespace keel;

namespace {

using CopyFn = void* (*)(void*, const void*, usize);
using SetFn = void* (*)(void*, int, usize);

struct CopyVariant {
    const char* name;
    CopyFn fn;
};

std::vector<CopyVariant> copy_variants() {
    std::vector<CopyVariant> v = {{"mem_copy", mem_copy},
                                  {"mem_move", mem_move},
                                  {"mem_copy_generic", detail::mem_copy_generic},
                                  {"mem_move_generic", detail::mem_move_generic}};
#if defined(__x86_64__)
    v.push_back({"mem_copy_rep", detail::mem_copy_rep});
#endif
    return v;
}

std::vector<std::pair<const char*, SetFn>> set_variants() {
    std::vector<std::pair<const char*, SetFn>> v = {{"mem_set", mem_set}, {"mem_set_generic", detail::mem_set_generic}};
#if defined(__x86_64__)
    v.push_back({"mem_set_rep", detail::mem_set_rep});
#endif
    return v;
}

std::vector<unsigned char> pattern(usize n, unsigned seed) {
    std::vector<unsigned char> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = static_cast<unsigned char>(rng());
    return v;
}

const usize kLengths[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 300};

}  // namespace

TEST(String, CopyMatchesLibcAtEveryAlignment) {
    auto src = pattern(512, 1);
    for (const auto& variant : copy_variants()) {
        for (usize so = 0; so < 16; ++so) {
            for (usize d_off = 0; d_off < 16; ++d_off) {
                for (usize n : kLengths) {
                    std::vector<unsigned char> ours(400, 0xee), theirs(400, 0xee);
                    void* ret = variant.fn(ours.data() + d_off, src.data() + so, n);
                    std::memcpy(theirs.data() + d_off, src.data() + so, n);
                    ASSERT_EQ(ret, ours.data() + d_off) << variant.name;
                    // Comparing whole buffers also catches writes past the end.
                    ASSERT_EQ(ours, theirs) << variant.name << " so=" << so << " do=" << d_off << " n=" << n;
                }
            }
        }
    }
}

TEST(String, MoveHandlesOverlapInBothDirections) {
    CopyFn movers[] = {mem_move, detail::mem_move_generic};
    auto init = pattern(256, 2);
    for (CopyFn move : movers) {
        for (usize from = 0; from < 40; ++from) {
            for (usize to = 0; to < 40; ++to) {
                for (usize n : {0, 1, 5, 8, 16, 17, 33, 64, 100, 150}) {
                    auto ours = init, theirs = init;
                    void* ret = move(ours.data() + to, ours.data() + from, n);
                    std::memmove(theirs.data() + to, theirs.data() + from, n);
                    ASSERT_EQ(ret, ours.data() + to);
                    ASSERT_EQ(ours, theirs) << "from=" << from << " to=" << to << " n=" << n;
                }
            }
        }
    }
}

TEST(String, SetMatchesLibc) {
    for (const auto& [name, set] : set_variants()) {
        for (usize off = 0; off < 16; ++off) {
            for (usize n : kLengths) {
                for (int value : {0, 0x5a, 0xff, -1, 0x1234, -200}) {
                    std::vector<unsigned char> ours(400, 0x11), theirs(400, 0x11);
                    void* ret = set(ours.data() + off, value, n);
                    std::memset(theirs.data() + off, value, n);
                    ASSERT_EQ(ret, ours.data() + off) << name;
                    ASSERT_EQ(ours, theirs) << name << " off=" << off << " n=" << n << " value=" << value;
                }
            }
        }
    }
}

static int sign(int v) { return (v > 0) - (v < 0); }

TEST(String, CompareAgreesInSignWithLibc) {
    std::mt19937 rng(3);
    for (int iter = 0; iter < 20000; ++iter) {
        usize n = rng() % 40;
        auto a = pattern(n + 1, rng());
        auto b = a;
        // Mostly equal buffers with one difference, often a byte >= 0x80, so
        // that signed-char comparison bugs show up.
        if (n > 0 && rng() % 4 != 0) b[rng() % n] = static_cast<unsigned char>(rng());
        usize len = n == 0 ? 0 : rng() % (n + 1);
        ASSERT_EQ(sign(mem_cmp(a.data(), b.data(), len)), sign(std::memcmp(a.data(), b.data(), len)));
    }
    EXPECT_LT(mem_cmp("\x01", "\x80", 1), 0);
    EXPECT_EQ(mem_cmp(nullptr, nullptr, 0), 0);
}

TEST(String, MemChr) {
    const char buf[] = "abc\0def\x80";
    EXPECT_EQ(mem_chr(buf, 'd', sizeof buf), buf + 4);
    EXPECT_EQ(mem_chr(buf, 0, sizeof buf), buf + 3);
    EXPECT_EQ(mem_chr(buf, 0x80, sizeof buf), buf + 7);
    EXPECT_EQ(mem_chr(buf, 0x180, sizeof buf), buf + 7);  // converted to unsigned char, as in C
    EXPECT_EQ(mem_chr(buf, 'd', 4), nullptr);
}

TEST(String, StringFunctionsMatchLibc) {
    std::mt19937 rng(4);
    const char alphabet[] = "aab\x80\xff/=";
    for (int iter = 0; iter < 20000; ++iter) {
        std::string a, b;
        for (usize i = rng() % 12; i > 0; --i) a += alphabet[rng() % (sizeof alphabet - 1)];
        for (usize i = rng() % 12; i > 0; --i) b += alphabet[rng() % (sizeof alphabet - 1)];
        if (rng() % 3 == 0) b = a.substr(0, rng() % (a.size() + 1)) + b;
        usize n = rng() % 14;
        int c = static_cast<unsigned char>(alphabet[rng() % sizeof alphabet]);  // includes the NUL

        ASSERT_EQ(str_len(a.c_str()), std::strlen(a.c_str()));
        ASSERT_EQ(str_nlen(a.c_str(), n), strnlen(a.c_str(), n));
        ASSERT_EQ(sign(str_cmp(a.c_str(), b.c_str())), sign(std::strcmp(a.c_str(), b.c_str()))) << a << " " << b;
        ASSERT_EQ(sign(str_ncmp(a.c_str(), b.c_str(), n)), sign(std::strncmp(a.c_str(), b.c_str(), n)));
        ASSERT_EQ(str_chr(a.c_str(), c), std::strchr(a.c_str(), c));
        ASSERT_EQ(str_rchr(a.c_str(), c), std::strrchr(a.c_str(), c));
    }
}

TEST(String, StrNlenStopsAtLimitWithoutTerminator) {
    char unterminated[4] = {'a', 'b', 'c', 'd'};
    EXPECT_EQ(str_nlen(unterminated, sizeof unterminated), 4u);
    EXPECT_EQ(str_nlen(unterminated, 2), 2u);
    EXPECT_EQ(str_nlen(unterminated, 0), 0u);
}

TEST(String, StrLcpyTruncatesAndTerminates) {
    char buf[8];
    std::memset(buf, 'x', sizeof buf);
    EXPECT_EQ(str_lcpy(buf, "hello", sizeof buf), 5u);
    EXPECT_STREQ(buf, "hello");
    EXPECT_EQ(str_lcpy(buf, "hello world", sizeof buf), 11u);
    EXPECT_STREQ(buf, "hello w");
    EXPECT_EQ(str_lcpy(buf, "", sizeof buf), 0u);
    EXPECT_STREQ(buf, "");
    buf[0] = 'q';
    EXPECT_EQ(str_lcpy(buf, "abc", 0), 3u);  // size 0: nothing written
    EXPECT_EQ(buf[0], 'q');
    EXPECT_EQ(str_lcpy(buf, "abc", 1), 3u);
    EXPECT_STREQ(buf, "");
}

TEST(String, CopyPreservesTypedData) {
    // Word copies go through a may_alias type; copying an array of another
    // type must give the same values.
    double in[5] = {1.5, -2.25, 3e100, 0.0, 42.0};
    double out[5] = {};
    mem_copy(out, in, sizeof in);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i], in[i]);
}
