// libFuzzer target for lib/inflate. Each input is used three ways:
//  1. as a gzip file, decoded with an output cap: any result but a crash is
//     fine, and a success must report exactly what the sink received;
//  2. as a raw DEFLATE stream (and so is a gzip input's body, after the
//     10-byte header), decoded both here and by zlib: they must agree on
//     success, and then on the output and the bytes consumed;
//  3. as data: zlib compresses it (level, strategy, window and memory level
//     chosen by the first bytes) and the decoder must give it back exactly.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "lib/inflate.h"
#include "tests/fuzz/fuzz_check.h"

KEEL_FUZZ_ASSERT_HANDLER

using namespace keel;
using Bytes = std::vector<u8>;

namespace {

constexpr usize kCap = 1 << 20;

InflateState& state() {
    static auto* s = new InflateState;
    return *s;
}

Status append(void* ctx, const u8* data, usize len) {
    auto* out = static_cast<Bytes*>(ctx);
    CHECK(len > 0 && len <= 64 * 1024);
    out->insert(out->end(), data, data + len);
    return {};
}

void as_gzip(const u8* data, usize size) {
    Bytes out;
    auto r = gunzip(state(), data, size, InflateSink{append, &out}, kCap);
    CHECK(out.size() <= kCap);
    if (r.is_ok()) CHECK(r.value() == out.size());
    else CHECK(r.error().code() == EINVAL || r.error().code() == ENODATA || r.error().code() == EFBIG);
}

void as_raw(const u8* data, usize size) {
    Bytes mine;
    auto r = inflate_raw(state(), data, size, InflateSink{append, &mine}, kCap);
    if (r.is_error() && r.error().code() == EFBIG) return;

    z_stream s{};
    CHECK(inflateInit2(&s, -15) == Z_OK);
    s.next_in = const_cast<u8*>(data);
    s.avail_in = static_cast<uInt>(size);
    Bytes theirs;
    u8 buf[16384];
    bool z_ok = false;
    for (;;) {
        s.next_out = buf;
        s.avail_out = sizeof buf;
        int ret = inflate(&s, Z_NO_FLUSH);
        theirs.insert(theirs.end(), buf, buf + (sizeof buf - s.avail_out));
        if (ret == Z_STREAM_END) {
            z_ok = true;
            break;
        }
        // Errors, truncation (no progress possible) or past the cap.
        if (ret != Z_OK || (s.avail_in == 0 && s.avail_out != 0) || theirs.size() > kCap) break;
    }
    inflateEnd(&s);
    if (theirs.size() > kCap) return;
    CHECK(r.is_ok() == z_ok);
    if (!z_ok) return;
    CHECK(r.value().produced == theirs.size());
    CHECK(r.value().consumed == s.total_in);
    CHECK(mine == theirs);
}

void round_trip(const u8* data, usize size) {
    u8 p0 = size > 0 ? data[0] : 0, p1 = size > 1 ? data[1] : 0;
    static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
    int level = p0 % 10, strategy = strategies[(p0 / 10) % 5];
    int window = 9 + p1 % 7, mem_level = 1 + (p1 / 7) % 9;
    z_stream s{};
    CHECK(deflateInit2(&s, level, Z_DEFLATED, 16 + window, mem_level, strategy) == Z_OK);
    Bytes z(deflateBound(&s, size) + 64);
    s.next_in = const_cast<u8*>(data);
    s.avail_in = static_cast<uInt>(size);
    s.next_out = z.data();
    s.avail_out = static_cast<uInt>(z.size());
    CHECK(deflate(&s, Z_FINISH) == Z_STREAM_END);
    z.resize(s.total_out);
    deflateEnd(&s);

    Bytes out(size + 1);
    auto r = gunzip_to_buffer(state(), z.data(), z.size(), out.data(), size);
    CHECK(r.is_ok());
    CHECK(r.value() == size);
    CHECK(size == 0 || std::memcmp(out.data(), data, size) == 0);
    if (size > 0) CHECK(gunzip_to_buffer(state(), z.data(), z.size(), out.data(), size - 1).error().code() == EFBIG);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    as_gzip(data, size);
    as_raw(data, size);
    // Mutated gzip seeds exercise the raw comparison through their bodies.
    if (is_gzip(data, size) && size > 10) as_raw(data + 10, size - 10);
    round_trip(data, size);
    return 0;
}
