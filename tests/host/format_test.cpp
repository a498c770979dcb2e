// lib/format against the host's snprintf: a systematic sweep over flags,
// widths, precisions and length modifiers, a randomized one, truncation, and
// the deliberate differences (%n, unsupported conversions).
#include <gtest/gtest.h>

#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "lib/format.h"

// The tests build format strings at run time on purpose.
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"

using namespace keel;

namespace {

struct Outcome {
    int ret;
    std::string text;
    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) { return os << o.ret << " \"" << o.text << "\""; }

Outcome ours(usize size, const char* fmt, ...) {
    std::vector<char> buf(size + 1, '\x7f');
    va_list ap;
    va_start(ap, fmt);
    int ret = vformat(size ? buf.data() : nullptr, size, fmt, ap);
    va_end(ap);
    if (size > 0) {
        EXPECT_LT(std::char_traits<char>::length(buf.data()), size) << "not NUL-terminated: " << fmt;
    }
    EXPECT_EQ(buf[size], '\x7f') << "wrote past the end: " << fmt;
    return {ret, size ? std::string(buf.data(), size_t(std::max(0, std::min<int>(ret, int(size) - 1)))) : ""};
}

Outcome theirs(usize size, const char* fmt, ...) {
    std::vector<char> buf(size + 1, '\x7f');
    va_list ap;
    va_start(ap, fmt);
    int ret = vsnprintf(size ? buf.data() : nullptr, size, fmt, ap);
    va_end(ap);
    return {ret, size ? std::string(buf.data(), size_t(std::max(0, std::min<int>(ret, int(size) - 1)))) : ""};
}

// Compares both implementations with a generous buffer and with buffers that
// cut the output at every length.
template <typename... Args>
void expect_same(const std::string& fmt, Args... args) {
    Outcome want = theirs(256, fmt.c_str(), args...);
    ASSERT_EQ(ours(256, fmt.c_str(), args...), want) << "format: \"" << fmt << "\"";
}

template <typename... Args>
void expect_same_truncated(const std::string& fmt, Args... args) {
    Outcome full = theirs(512, fmt.c_str(), args...);
    for (usize size = 0; size <= usize(full.ret) + 1; ++size)
        ASSERT_EQ(ours(size, fmt.c_str(), args...), theirs(size, fmt.c_str(), args...)) << fmt << " size " << size;
}

std::vector<std::string> spec_prefixes() {
    const char* flags[] = {"", "-", "0", "+", " ", "#", "-0", "+ ", "0#", "-+#", "0 +#-"};
    const char* widths[] = {"", "1", "5", "12", "25"};
    const char* precisions[] = {"", ".", ".0", ".1", ".3", ".15", ".24"};
    std::vector<std::string> out;
    for (auto f : flags)
        for (auto w : widths)
            for (auto p : precisions) out.push_back(std::string("%") + f + w + p);
    return out;
}

}  // namespace

TEST(Format, SignedSweepMatchesSnprintf) {
    const long long values[] = {0, 1, -1, 7, 42, -42, 127, 128, -128, 255, 32767, -32768, 65535, INT_MAX, INT_MIN,
                                UINT_MAX, LLONG_MAX, LLONG_MIN, 0x123456789abcdefLL};
    for (const auto& prefix : spec_prefixes()) {
        for (char conv : {'d', 'i'}) {
            for (long long v : values) {
                expect_same(prefix + conv, int(v));
                expect_same(prefix + "hh" + conv, int(v));
                expect_same(prefix + "h" + conv, int(v));
                expect_same(prefix + "l" + conv, long(v));
                expect_same(prefix + "ll" + conv, v);
                expect_same(prefix + "z" + conv, static_cast<ssize_t>(v));
                expect_same(prefix + "t" + conv, static_cast<ptrdiff_t>(v));
                expect_same(prefix + "j" + conv, static_cast<intmax_t>(v));
            }
        }
    }
}

TEST(Format, UnsignedSweepMatchesSnprintf) {
    const unsigned long long values[] = {0, 1, 7, 8, 9, 15, 16, 255, 256, 0xdeadbeef, UINT_MAX, ULLONG_MAX,
                                         0x8000000000000000ULL, 01234567};
    for (const auto& prefix : spec_prefixes()) {
        for (char conv : {'u', 'x', 'X', 'o'}) {
            for (unsigned long long v : values) {
                expect_same(prefix + conv, unsigned(v));
                expect_same(prefix + "hh" + conv, unsigned(v));
                expect_same(prefix + "h" + conv, unsigned(v));
                expect_same(prefix + "l" + conv, static_cast<unsigned long>(v));
                expect_same(prefix + "ll" + conv, v);
                expect_same(prefix + "z" + conv, static_cast<size_t>(v));
                expect_same(prefix + "j" + conv, static_cast<uintmax_t>(v));
            }
        }
    }
}

TEST(Format, StringsCharsAndPointers) {
    const char* strings[] = {"", "a", "hello", "a longer string than most widths", "\x80\xff high bytes", nullptr};
    for (const auto& prefix : spec_prefixes()) {
        for (const char* s : strings) expect_same(prefix + "s", s);
        for (int c : {int('x'), int(' '), int('%'), 0x80, 0}) expect_same(prefix + "c", c);
        for (const void* p : {static_cast<const void*>(nullptr), reinterpret_cast<const void*>(0x1234),
                              reinterpret_cast<const void*>(~uintptr_t(0))})
            expect_same(prefix + "p", p);
    }
}

TEST(Format, StarWidthAndPrecision) {
    for (int w : {-30, -5, -1, 0, 1, 4, 30}) {
        for (int p : {-3, -1, 0, 1, 2, 8}) {
            expect_same("[%*d]", w, 42);
            expect_same("[%-*d]", w, -42);
            expect_same("[%.*d]", p, 42);
            expect_same("[%*.*x]", w, p, 0xbeefu);
            expect_same("[%0*.*d]", w, p, -7);
            expect_same("[%*.*s]", w, p, "abcdef");
            expect_same("[%.*s]", p, "abc");
        }
    }
}

TEST(Format, LiteralsAndPercent) {
    expect_same("");
    expect_same("plain text");
    expect_same("100%% sure");
    expect_same("%%%d%%", 5);
    expect_same("a%cb%sc%dd", 'X', "mid", -3);
    expect_same("%5%|%-5%|%05%");
    expect_same("%s=%#x, %s=%#o", "hex", 255u, "oct", 8u);
}

TEST(Format, TruncationAtEveryLength) {
    expect_same_truncated("hello %s, you are %d years and %x%% done", "world", 42, 0xabcu);
    expect_same_truncated("%-10s|%10s|", "left", "right");
    expect_same_truncated("%020p", reinterpret_cast<void*>(0xdeadbeef));
    expect_same_truncated("%.30d", -1);
}

TEST(Format, RandomizedMatchesSnprintf) {
    std::mt19937_64 rng(12345);
    const char convs[] = "diuxXoc";
    const char lengths[][3] = {"", "hh", "h", "l", "ll", "z", "t", "j"};
    for (int iter = 0; iter < 100000; ++iter) {
        std::string fmt = "<";
        for (const char* f = "-0+ #"; *f; ++f)
            if (rng() % 4 == 0) fmt += *f;
        if (rng() % 2) fmt += std::to_string(rng() % 30);
        if (rng() % 2) fmt += "." + std::to_string(rng() % 30);
        char conv = convs[rng() % (sizeof convs - 1)];
        if (conv != 'c') fmt += lengths[rng() % 8];
        fmt.insert(1, "%");
        fmt += conv;
        fmt += ">";
        // Shift a random 64-bit value to get every magnitude.
        unsigned long long v = rng() >> (rng() % 64);
        if (rng() % 2) v = -v;
        if (conv == 'c')
            expect_same(fmt, int(v & 0xff));
        else
            expect_same(fmt, v);  // a 64-bit slot serves every length on x86-64 and aarch64
        if (HasFatalFailure()) return;
    }
}

// These format strings are wrong on purpose; the compiler rightly says so.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-overflow"
#endif

TEST(Format, UnsupportedConversionIsCopiedThrough) {
    char buf[64];
    EXPECT_EQ(format(buf, sizeof buf, "a%yb"), 4);
    EXPECT_STREQ(buf, "a%yb");
    EXPECT_EQ(format(buf, sizeof buf, "%5yz%d", 3), 5);  // consumes no argument
    EXPECT_STREQ(buf, "%5yz3");
    EXPECT_EQ(format(buf, sizeof buf, "end%"), 4);
    EXPECT_STREQ(buf, "end%");
    EXPECT_EQ(format(buf, sizeof buf, "end%-5"), 6);
    EXPECT_STREQ(buf, "end%-5");
    // Wide conversions are not supported but still consume their argument.
    EXPECT_EQ(format(buf, sizeof buf, "%lc,%ls,%d", wint_t('x'), L"w", 9), 9);
    EXPECT_STREQ(buf, "%lc,%ls,9");
}

TEST(Format, HugeWidthIsCountedNotWritten) {
    char buf[16];
    // Past the buffer only the count grows, so this is instant.
    EXPECT_EQ(format(buf, sizeof buf, "%2000000000d", 1), 2000000000);
    EXPECT_STREQ(buf, "               ");
    EXPECT_EQ(format(buf, sizeof buf, "%*d", INT_MIN, 1), -1);  // 2^31 columns
    EXPECT_EQ(format(buf, sizeof buf, "%2147483647d%d", 1, 2), -1);
    EXPECT_EQ(format(buf, sizeof buf, "%.99999999999999999999d", 1), -1);  // saturates, no wraparound
    EXPECT_EQ(format(buf, sizeof buf, "%2147483646d%c", 1, 'x'), INT_MAX);
}

#pragma GCC diagnostic pop

TEST(Format, PercentNWritesNothing) {
    char buf[32];
    int target = 1234;
    EXPECT_EQ(format(buf, sizeof buf, "ab%ncd%d", &target, 5), 5);
    EXPECT_STREQ(buf, "abcd5");
    EXPECT_EQ(target, 1234);
}

TEST(Format, ZeroSizeBufferOnlyCounts) {
    EXPECT_EQ(format(nullptr, 0, "%d-%s", 12345, "abc"), 9);
    char c = 'q';
    EXPECT_EQ(format(&c, 1, "%d", 12345), 5);
    EXPECT_EQ(c, '\0');
}

TEST(Format, SinkReceivesRunsAndCanStopEarly) {
    struct Capture {
        std::string text;
        usize calls = 0;
        usize limit = SIZE_MAX;
    } cap;
    auto fn = [](void* ctx, const char* data, usize len) {
        auto* c = static_cast<Capture*>(ctx);
        c->text.append(data, len);
        ++c->calls;
        return c->text.size() < c->limit;
    };
    Sink sink(fn, &cap);
    EXPECT_EQ(format_to(sink, "x=%d y=%-4s|", 10, "ab"), 12u);
    EXPECT_EQ(format_to(sink, "%s", "more"), 4u);
    EXPECT_EQ(cap.text, "x=10 y=ab  |more");
    EXPECT_EQ(sink.count(), 16u);

    Capture limited;
    limited.limit = 3;
    Sink stopping(fn, &limited);
    EXPECT_EQ(format_to(stopping, "%s%s%s", "ab", "cd", "ef"), 6u);
    EXPECT_EQ(limited.text, "abcd");  // the write that crossed the limit, then nothing
    EXPECT_FALSE(stopping.accepting());
    EXPECT_EQ(limited.calls, 2u);
}

TEST(Format, VaListIsNotConsumed) {
    // vformat_to works on a copy, so the caller may reuse its va_list.
    auto twice = [](const char* fmt, ...) {
        char a[32], b[32];
        va_list ap;
        va_start(ap, fmt);
        vformat(a, sizeof a, fmt, ap);
        vformat(b, sizeof b, fmt, ap);
        va_end(ap);
        return std::string(a) + "|" + b;
    };
    EXPECT_EQ(twice("%d %s", 7, "x"), "7 x|7 x");
}
