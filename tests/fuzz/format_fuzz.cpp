// libFuzzer target for lib/format with fuzzer-chosen format strings.
//
// Input layout: [buffer size: 2 bytes][16 arguments: 8 bytes each][format].
// The format is rewritten so that every conversion is one we can feed safely
// from integer arguments (%d %i %u %x %X %o %c %%): anything else becomes %d,
// so no conversion ever dereferences a fuzzer-made pointer. The result is
// then compared byte for byte with the host's vsnprintf, and the same output
// is produced again through a Sink that takes it in pieces.
#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "lib/format.h"
#include "tests/fuzz/fuzz_check.h"

#pragma GCC diagnostic ignored "-Wformat-nonliteral"

using namespace keel;

namespace {

constexpr usize kArgs = 16;
// Widths and precisions stay small: they are tested for size elsewhere, and
// glibc takes a slow path for huge ones.
constexpr int kMaxField = 999;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Rewrites `in` into a format that consumes at most kArgs integer arguments,
// clamping the arguments that '*' consumes.
std::string sanitize(const std::string& in, long long* args) {
    std::string out;
    usize next_arg = 0;
    auto take_star = [&]() {
        long long& a = args[next_arg++];
        int v = static_cast<int>(a);
        if (v > kMaxField || v < -kMaxField) v %= kMaxField;
        a = v;
    };
    for (usize i = 0; i < in.size();) {
        char c = in[i++];
        if (c == '\0') break;
        if (c != '%') {
            out += c;
            continue;
        }
        // One conversion needs up to three arguments (width, precision, value).
        if (next_arg + 3 > kArgs) {
            out += "%%";
            continue;
        }
        usize first_arg = next_arg;
        std::string spec = "%";
        while (i < in.size() && std::strchr("-0+ #", in[i]) && in[i]) spec += in[i++];
        if (i < in.size() && in[i] == '*') {
            spec += in[i++];
            take_star();
        } else {
            for (int n = 0; i < in.size() && is_digit(in[i]); ++i)
                if (n++ < 3) spec += in[i];
        }
        if (i < in.size() && in[i] == '.') {
            spec += in[i++];
            if (i < in.size() && in[i] == '*') {
                spec += in[i++];
                take_star();
            } else {
                for (int n = 0; i < in.size() && is_digit(in[i]); ++i)
                    if (n++ < 3) spec += in[i];
            }
        }
        std::string length;
        for (const char* l : {"hh", "ll", "h", "l", "z", "t", "j"}) {
            if (in.compare(i, std::strlen(l), l) == 0) {
                length = l;
                i += length.size();
                break;
            }
        }
        char conv = i < in.size() ? in[i++] : 'd';
        if (conv == '%') {
            // Flags on %% are not worth a disagreement; dropping a '*' with
            // them means its argument is not consumed after all.
            out += "%%";
            next_arg = first_arg;
            continue;
        }
        if (!std::strchr("diuxXoc", conv) || conv == '\0') conv = 'd';
        if (conv == 'c') length.clear();  // %lc needs a locale
        out += spec + length + conv;
        ++next_arg;
    }
    return out;
}

int ours(char* buf, usize size, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

struct Pieces {
    std::string text;
    usize max_piece;
};

usize through_sink(Pieces& p, const char* fmt, ...) {
    Sink sink(
        [](void* ctx, const char* data, usize len) {
            auto* pieces = static_cast<Pieces*>(ctx);
            CHECK(len > 0);
            pieces->text.append(data, len);
            pieces->max_piece = len > pieces->max_piece ? len : pieces->max_piece;
            return true;
        },
        &p);
    va_list ap;
    va_start(ap, fmt);
    usize n = vformat_to(sink, fmt, ap);
    va_end(ap);
    CHECK(n == sink.count());
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2 + 8 * kArgs) return 0;
    usize bufsize = (data[0] | data[1] << 8) % 600;
    long long args[kArgs];
    std::memcpy(args, data + 2, sizeof args);
    std::string fmt = sanitize(std::string(reinterpret_cast<const char*>(data) + 2 + sizeof args,
                                           size - 2 - sizeof args),
                               args);

#define ARGS args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[9], args[10], \
             args[11], args[12], args[13], args[14], args[15]
    // One slot past the end is poisoned by ASan; the canary catches the rest.
    std::vector<char> mine(bufsize + 1, '\x5a'), libc(bufsize + 1, '\x5a');
    int n = ours(bufsize ? mine.data() : nullptr, bufsize, fmt.c_str(), ARGS);
    int want = std::snprintf(bufsize ? libc.data() : nullptr, bufsize, fmt.c_str(), ARGS);
    if (n != want || mine != libc) {
        std::fprintf(stderr, "format \"%s\" size %zu: ours %d, libc %d\n", fmt.c_str(), bufsize, n, want);
        std::abort();
    }
    CHECK(mine[bufsize] == '\x5a');

    Pieces pieces{{}, 0};
    usize total = through_sink(pieces, fmt.c_str(), ARGS);
    CHECK(total == static_cast<usize>(n) && pieces.text.size() == total);
    CHECK(bufsize == 0 || std::memcmp(pieces.text.data(), mine.data(), std::min<usize>(total, bufsize - 1)) == 0);
#undef ARGS
    return 0;
}
