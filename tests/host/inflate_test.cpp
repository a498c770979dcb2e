// lib/inflate against zlib: everything zlib's deflate produces must decode
// to the original, hand-made corrupt streams of every class must be
// rejected (and zlib must agree they are corrupt, which checks the test's own
// encoder), and truncated or mutated streams must fail cleanly.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lib/crc32.h"
#include "lib/inflate.h"

using namespace keel;
using Bytes = std::vector<u8>;

namespace {

// ---- Helpers ------------------------------------------------------------------
InflateState& state() {
    static auto* s = new InflateState;
    return *s;
}

Status append(void* ctx, const u8* data, usize len) {
    static_cast<Bytes*>(ctx)->insert(static_cast<Bytes*>(ctx)->end(), data, data + len);
    return {};
}

struct Decoded {
    int err = 0;   // 0 or an errno
    Bytes out;
    usize consumed = 0;
};

Decoded gz(const Bytes& in, usize limit = kInflateNoLimit) {
    Decoded d;
    auto r = gunzip(state(), in.data(), in.size(), InflateSink{append, &d.out}, limit);
    if (r.is_error()) d.err = r.error().code();
    else EXPECT_EQ(r.value(), d.out.size());
    return d;
}

Decoded raw(const Bytes& in, usize limit = kInflateNoLimit) {
    Decoded d;
    auto r = inflate_raw(state(), in.data(), in.size(), InflateSink{append, &d.out}, limit);
    if (r.is_error()) {
        d.err = r.error().code();
    } else {
        EXPECT_EQ(r.value().produced, d.out.size());
        d.consumed = r.value().consumed;
    }
    return d;
}

// zlib's verdict on a raw DEFLATE stream, in the same terms.
Decoded zlib_raw(const Bytes& in, usize cap = 64 << 20) {
    Decoded d;
    z_stream s{};
    EXPECT_EQ(inflateInit2(&s, -15), Z_OK);
    s.next_in = const_cast<u8*>(in.data());
    s.avail_in = static_cast<uInt>(in.size());
    u8 buf[16384];
    for (;;) {
        s.next_out = buf;
        s.avail_out = sizeof buf;
        int ret = inflate(&s, Z_NO_FLUSH);
        d.out.insert(d.out.end(), buf, buf + (sizeof buf - s.avail_out));
        if (ret == Z_STREAM_END) break;
        if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT) {
            d.err = EINVAL;
            break;
        }
        if (d.out.size() > cap) {
            d.err = EFBIG;
            break;
        }
        if (ret == Z_BUF_ERROR || (ret == Z_OK && s.avail_in == 0 && s.avail_out != 0)) {
            d.err = ENODATA;
            break;
        }
        EXPECT_EQ(ret, Z_OK);
    }
    d.consumed = s.total_in;
    inflateEnd(&s);
    return d;
}

// window_bits: 31 for gzip, -15 for raw DEFLATE.
Bytes compress(const Bytes& data, int level, int strategy = Z_DEFAULT_STRATEGY, int window_bits = 31,
               int mem_level = 8) {
    z_stream s{};
    EXPECT_EQ(deflateInit2(&s, level, Z_DEFLATED, window_bits, mem_level, strategy), Z_OK);
    Bytes out(deflateBound(&s, data.size()) + 64);
    s.next_in = const_cast<u8*>(data.data());
    s.avail_in = static_cast<uInt>(data.size());
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
    out.resize(s.total_out);
    deflateEnd(&s);
    return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes r;
    for (const auto& p : parts) r.insert(r.end(), p.begin(), p.end());
    return r;
}

// ---- Test data ----------------------------------------------------------------
enum class Kind { Random, Text, Runs, Skewed, FarRepeats };

Bytes make_data(Kind kind, usize n, u32 seed) {
    std::mt19937 rng(seed);
    Bytes v;
    v.reserve(n);
    static const char* words[] = {"the ", "kernel ", "initramfs ", "gzip ", "cpio ", "deflate ", "\n", "Huffman ",
                                  "window ", "a ", "of ", "block ", "distance ", "length ", "0123456789 "};
    while (v.size() < n) {
        switch (kind) {
        case Kind::Random:
            v.push_back(static_cast<u8>(rng()));
            break;
        case Kind::Text:
            for (const char* w = words[rng() % 15]; *w; ++w) v.push_back(static_cast<u8>(*w));
            break;
        case Kind::Runs:
            v.insert(v.end(), 1 + rng() % 300, static_cast<u8>(rng() % 4));
            break;
        case Kind::Skewed: {
            // Geometric symbol frequencies give Huffman codes up to 15 bits.
            u32 x = rng();
            v.push_back(static_cast<u8>(x ? __builtin_ctz(x) * 8 + (rng() % 3) : 255));
            break;
        }
        case Kind::FarRepeats:
            // Copies from up to the full 32 KiB back.
            if (v.size() > 40000 && rng() % 2) {
                usize dist = 32768 - rng() % 64, len = 3 + rng() % 300;
                for (usize i = 0; i < len; ++i) {
                    u8 c = v[v.size() - dist];
                    v.push_back(c);
                }
            } else {
                for (int i = 0; i < 50; ++i) v.push_back(static_cast<u8>(rng()));
            }
            break;
        }
    }
    v.resize(n);
    return v;
}

// ---- A bit writer for hand-made streams ----------------------------------------
struct BitWriter {
    Bytes bytes;
    u32 acc = 0;
    unsigned n = 0;

    void bit(u32 b) {
        acc |= (b & 1) << n;
        if (++n == 8) {
            bytes.push_back(static_cast<u8>(acc));
            acc = 0;
            n = 0;
        }
    }
    // Header fields and extra bits go LSB first...
    void bits(u32 v, unsigned count) {
        for (unsigned i = 0; i < count; ++i) bit(v >> i);
    }
    // ...Huffman codes MSB first.
    void code(u32 c, unsigned len) {
        for (unsigned i = len; i-- > 0;) bit(c >> i);
    }
    Bytes finish() {
        Bytes r = bytes;
        if (n) r.push_back(static_cast<u8>(acc));
        return r;
    }
};

// Canonical codes from lengths, RFC 1951 3.2.2.
std::vector<u32> canonical(const std::vector<u8>& lens) {
    u32 count[16] = {}, next[16] = {};
    for (u8 l : lens) count[l]++;
    count[0] = 0;
    for (u32 code = 0, l = 1; l < 16; ++l) {
        code = (code + count[l - 1]) << 1;
        next[l] = code;
    }
    std::vector<u32> codes(lens.size());
    for (usize s = 0; s < lens.size(); ++s)
        if (lens[s]) codes[s] = next[lens[s]]++;
    return codes;
}

const u16 kLenBase[29] = {3,  4,  5,  6,  7,  8,  9,  10,  11,  13,  15,  17,  19,  23, 27,
                          31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
const u16 kDistBase[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                           33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                           1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
unsigned len_extra(unsigned i) { return i < 8 || i == 28 ? 0 : (i - 4) / 4; }
unsigned dist_extra(unsigned i) { return i < 4 ? 0 : (i - 2) / 2; }

// A DEFLATE encoder for hand-made blocks, with arbitrary (even invalid)
// literal/length and distance code lengths.
struct Block {
    std::vector<u8> litlen, dist;   // code lengths
    std::vector<u32> lcodes, dcodes;

    static Block fixed() {
        Block b;
        b.litlen.assign(288, 8);
        std::fill(b.litlen.begin() + 144, b.litlen.begin() + 256, 9);
        std::fill(b.litlen.begin() + 256, b.litlen.begin() + 280, 7);
        b.dist.assign(32, 5);
        b.lcodes = canonical(b.litlen);
        b.dcodes = canonical(b.dist);
        return b;
    }
    static Block dynamic(std::vector<u8> litlen, std::vector<u8> dist) {
        Block b{litlen, dist, canonical(litlen), canonical(dist)};
        return b;
    }
    // Block header; dynamic code lengths go through a code-length code that
    // gives symbols 0-15 four bits each (so code = value) and no repeats.
    void header(BitWriter& w, bool final, bool is_fixed) const {
        w.bits(final, 1);
        w.bits(is_fixed ? 1 : 2, 2);
        if (is_fixed) return;
        w.bits(static_cast<u32>(litlen.size() - 257), 5);
        w.bits(static_cast<u32>(dist.size() - 1), 5);
        w.bits(19 - 4, 4);
        static const u8 order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
        for (u8 sym : order) w.bits(sym < 16 ? 4 : 0, 3);
        for (u8 l : litlen) w.code(l, 4);
        for (u8 l : dist) w.code(l, 4);
    }
    void sym(BitWriter& w, unsigned s) const { w.code(lcodes[s], litlen[s]); }
    void match(BitWriter& w, unsigned length, unsigned distance) const {
        unsigned li = 28;
        while (kLenBase[li] > length) --li;
        if (length == 258) li = 28;
        sym(w, 257 + li);
        w.bits(length - kLenBase[li], len_extra(li));
        unsigned di = 29;
        while (kDistBase[di] > distance) --di;
        w.code(dcodes[di], dist[di]);
        w.bits(distance - kDistBase[di], dist_extra(di));
    }
};

Bytes gzip_wrap(const Bytes& deflated, const Bytes& original, u8 flags = 0, const Bytes& extra_fields = {}) {
    Bytes h = {0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3};
    h.insert(h.end(), extra_fields.begin(), extra_fields.end());
    if (flags & 2) {
        u32 c = static_cast<u32>(::crc32(0, h.data(), static_cast<uInt>(h.size())));
        h.push_back(static_cast<u8>(c));
        h.push_back(static_cast<u8>(c >> 8));
    }
    h.insert(h.end(), deflated.begin(), deflated.end());
    u32 c = static_cast<u32>(::crc32(0, original.data(), static_cast<uInt>(original.size())));
    u32 size = static_cast<u32>(original.size());
    for (int i = 0; i < 4; ++i) h.push_back(static_cast<u8>(c >> (8 * i)));
    for (int i = 0; i < 4; ++i) h.push_back(static_cast<u8>(size >> (8 * i)));
    return h;
}

// Asserts that both this decoder and zlib call a raw stream corrupt.
void expect_corrupt(const Bytes& stream, const char* what) {
    EXPECT_EQ(raw(stream).err, EINVAL) << what;
    EXPECT_EQ(zlib_raw(stream).err, EINVAL) << what << " (zlib)";
    // Inside a gzip member, too.
    EXPECT_EQ(gz(gzip_wrap(stream, {})).err, EINVAL) << what << " (gzip)";
}

void expect_same_as_zlib(const Bytes& stream, const Bytes& expected) {
    Decoded mine = raw(stream), z = zlib_raw(stream);
    ASSERT_EQ(z.err, 0);
    ASSERT_EQ(mine.err, 0);
    EXPECT_EQ(mine.out, expected);
    EXPECT_EQ(z.out, expected);
    EXPECT_EQ(mine.consumed, z.consumed);
}

// ---- Round trips -----------------------------------------------------------------
TEST(InflateTest, AllLevelsStrategiesAndData) {
    const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
    const Kind kinds[] = {Kind::Random, Kind::Text, Kind::Runs, Kind::Skewed, Kind::FarRepeats};
    const usize sizes[] = {0, 1, 2, 3, 100, 4096, 70000, 200000};
    u32 seed = 0;
    for (Kind kind : kinds)
        for (usize n : sizes) {
            Bytes data = make_data(kind, n, ++seed);
            for (int level = 0; level <= 9; ++level)
                for (int strategy : strategies) {
                    if (n == 200000 && level % 3 != 0) continue;
                    Bytes z = compress(data, level, strategy);
                    Decoded d = gz(z);
                    ASSERT_EQ(d.err, 0) << int(kind) << " n=" << n << " level=" << level << " strategy=" << strategy;
                    ASSERT_EQ(d.out, data) << int(kind) << " n=" << n << " level=" << level;
                    Bytes r = compress(data, level, strategy, -15);
                    Decoded dr = raw(r);
                    ASSERT_EQ(dr.err, 0);
                    ASSERT_EQ(dr.out, data);
                    ASSERT_EQ(dr.consumed, r.size());
                }
        }
}

TEST(InflateTest, WindowSizesAndMemLevels) {
    Bytes data = concat({make_data(Kind::Text, 100000, 7), make_data(Kind::FarRepeats, 100000, 8)});
    for (int wbits = 9; wbits <= 15; ++wbits)
        for (int mem : {1, 5, 9}) {
            Decoded d = gz(compress(data, 9, Z_DEFAULT_STRATEGY, 16 + wbits, mem));
            ASSERT_EQ(d.err, 0) << wbits << "/" << mem;
            ASSERT_EQ(d.out, data);
        }
}

// Flushes and parameter changes mid-stream mix stored (including empty),
// fixed and dynamic blocks in one stream.
TEST(InflateTest, MixedBlocksFromFlushes) {
    Bytes data = concat({make_data(Kind::Text, 50000, 9), make_data(Kind::Random, 30000, 10),
                         make_data(Kind::Runs, 50000, 11)});
    const int flushes[] = {Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_PARTIAL_FLUSH, Z_BLOCK};
    std::mt19937 rng(12);
    for (int round = 0; round < 20; ++round) {
        z_stream s{};
        ASSERT_EQ(deflateInit2(&s, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
        Bytes out(data.size() * 2 + 100000);
        s.next_out = out.data();
        s.avail_out = static_cast<uInt>(out.size());
        for (usize off = 0; off < data.size();) {
            usize n = std::min<usize>(data.size() - off, 1 + rng() % 9000);
            s.next_in = data.data() + off;
            s.avail_in = static_cast<uInt>(n);
            off += n;
            ASSERT_EQ(deflate(&s, flushes[rng() % 5]), Z_OK);
            if (rng() % 4 == 0) {
                static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
                ASSERT_EQ(deflateParams(&s, static_cast<int>(rng() % 10), strategies[rng() % 4]), Z_OK);
            }
        }
        ASSERT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
        out.resize(s.total_out);
        deflateEnd(&s);
        Decoded d = gz(out);
        ASSERT_EQ(d.err, 0) << round;
        ASSERT_EQ(d.out, data);
    }
}

TEST(InflateTest, EmptyAndTiny) {
    EXPECT_EQ(gz({}).err, ENODATA);
    Decoded e = gz(compress({}, 6));
    EXPECT_EQ(e.err, 0);
    EXPECT_TRUE(e.out.empty());
    // A raw stream that is one empty fixed block: 0x03 0x00.
    Decoded r = raw({0x03, 0x00});
    EXPECT_EQ(r.err, 0);
    EXPECT_EQ(r.consumed, 2u);
    EXPECT_EQ(raw({}).err, ENODATA);
    for (int b = 0; b < 256; ++b) {
        Bytes one = {static_cast<u8>(b)};
        Decoded d = gz(compress(one, 9));
        ASSERT_EQ(d.err, 0);
        ASSERT_EQ(d.out, one);
    }
}

TEST(InflateTest, LargeInputAndSpeed) {
    // 40 MiB: text, runs, random and far repeats in 1 MiB pieces.
    Bytes data;
    for (u32 i = 0; i < 40; ++i) {
        Bytes piece = make_data(static_cast<Kind>(i % 5), 1 << 20, 100 + i);
        data.insert(data.end(), piece.begin(), piece.end());
    }
    Bytes z = compress(data, 6);
    auto n = gunzip_to_buffer(state(), z.data(), z.size(), nullptr, 0);
    EXPECT_EQ(n.error().code(), EFBIG);
    Bytes out(data.size());
    auto t1 = std::chrono::steady_clock::now();
    auto r = gunzip_to_buffer(state(), z.data(), z.size(), out.data(), out.size());
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r.value(), data.size());
    EXPECT_TRUE(out == data);

    // zlib on the same stream, for comparison.
    Bytes zout(data.size());
    uLongf zlen = zout.size();
    z_stream s{};
    inflateInit2(&s, 31);
    s.next_in = z.data();
    s.avail_in = static_cast<uInt>(z.size());
    s.next_out = zout.data();
    s.avail_out = static_cast<uInt>(zlen);
    auto t3 = std::chrono::steady_clock::now();
    EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
    auto t4 = std::chrono::steady_clock::now();
    inflateEnd(&s);
    auto mbps = [&](auto a, auto b) {
        return static_cast<double>(data.size()) / (1 << 20) / std::chrono::duration<double>(b - a).count();
    };
    std::printf("inflate: %zu MiB from %zu bytes: keel %.0f MB/s, zlib %.0f MB/s\n", data.size() >> 20, z.size(),
                mbps(t1, t2), mbps(t3, t4));
}

// ---- Sinks and limits ----------------------------------------------------------
TEST(InflateTest, LimitsAndSinkErrors) {
    Bytes data = make_data(Kind::Text, 300000, 20);
    Bytes z = compress(data, 6);
    EXPECT_EQ(gz(z, data.size()).err, 0);
    Decoded over = gz(z, data.size() - 1);
    EXPECT_EQ(over.err, EFBIG);
    EXPECT_LT(over.out.size(), data.size());   // the sink never sees more than the limit

    auto size = gunzip_size(state(), z.data(), z.size());
    ASSERT_TRUE(size.is_ok());
    EXPECT_EQ(size.value(), data.size());
    EXPECT_EQ(gunzip_size(state(), z.data(), z.size(), 1000).error().code(), EFBIG);

    Bytes buf(data.size());
    EXPECT_EQ(gunzip_to_buffer(state(), z.data(), z.size(), buf.data(), buf.size() - 1).error().code(), EFBIG);
    ASSERT_TRUE(gunzip_to_buffer(state(), z.data(), z.size(), buf.data(), buf.size()).is_ok());
    EXPECT_EQ(buf, data);

    // A zero limit still allows empty output.
    Bytes empty = compress({}, 6);
    EXPECT_EQ(gunzip_to_buffer(state(), empty.data(), empty.size(), nullptr, 0).value(), 0u);

    // A sink error stops decoding and comes back unchanged.
    struct Failing {
        int calls = 0;
        usize max_run = 0;
    } f;
    auto fail_second = [](void* ctx, const u8*, usize len) -> Status {
        auto* st = static_cast<Failing*>(ctx);
        st->max_run = std::max(st->max_run, len);
        return ++st->calls == 2 ? Status(Error(ENOMEM)) : Status();
    };
    auto r = gunzip(state(), z.data(), z.size(), InflateSink{fail_second, &f});
    EXPECT_EQ(r.error().code(), ENOMEM);
    EXPECT_EQ(f.calls, 2);
    EXPECT_LE(f.max_run, 64 * KiB);
}

// ---- gzip framing ---------------------------------------------------------------
TEST(InflateTest, ConcatenatedMembersAndPadding) {
    Bytes a = make_data(Kind::Text, 40000, 30), b = make_data(Kind::Random, 5000, 31), c;
    Bytes za = compress(a, 9), zb = compress(b, 1), zc = compress(c, 6);
    Bytes ab = concat({a, b});
    Bytes zeros(13, 0);
    EXPECT_EQ(gz(concat({za, zb})).out, ab);
    EXPECT_EQ(gz(concat({za, zc, zb, zc})).out, ab);
    EXPECT_EQ(gz(concat({za, zb, zeros})).out, ab);
    EXPECT_EQ(gz(concat({za, zeros, zb, zeros})).out, ab);
    EXPECT_EQ(gz(concat({za, zb, {0, 0, 1}})).err, EINVAL);   // trailing garbage
    EXPECT_EQ(gz(concat({za, zeros, {0x1f}})).err, ENODATA);
    EXPECT_EQ(gz(concat({za, {0x1f, 0x8b, 8}})).err, ENODATA);
    EXPECT_EQ(gz(concat({za, {0x1f, 0x8c}})).err, EINVAL);
    // The limit counts the total.
    EXPECT_EQ(gz(concat({za, zb}), ab.size() - 1).err, EFBIG);

    // Each member starts with an empty history: a back-reference into the
    // previous member's output is corrupt.
    Block f = Block::fixed();
    BitWriter w;
    f.header(w, true, true);
    f.match(w, 3, 1);
    f.sym(w, 256);
    EXPECT_EQ(gz(concat({za, gzip_wrap(w.finish(), {a.back(), a.back(), a.back()})})).err, EINVAL);

    // gunzip_member reports where the member ends.
    Bytes two = concat({za, zb});
    Bytes out;
    auto m = gunzip_member(state(), two.data(), two.size(), InflateSink{append, &out});
    ASSERT_TRUE(m.is_ok());
    EXPECT_EQ(m.value().consumed, za.size());
    EXPECT_EQ(out, a);
}

TEST(InflateTest, HeaderFlags) {
    Bytes data = make_data(Kind::Text, 3000, 40);
    Bytes body = compress(data, 6, Z_DEFAULT_STRATEGY, -15);
    for (u8 flags = 0; flags < 32; ++flags) {
        for (usize xlen : {0, 1, 300}) {
            if (!(flags & 4) && xlen) continue;
            Bytes fields;
            if (flags & 4) {   // FEXTRA: XLEN then the bytes
                fields.push_back(static_cast<u8>(xlen));
                fields.push_back(static_cast<u8>(xlen >> 8));
                fields.insert(fields.end(), xlen, 0xab);
            }
            const char* name = "initrd.img-6.12";
            if (flags & 8) fields.insert(fields.end(), name, name + std::strlen(name) + 1);   // FNAME
            if (flags & 16) fields.insert(fields.end(), {'h', 'i', 0});                        // FCOMMENT
            Bytes member = gzip_wrap(body, data, flags, fields);
            Decoded d = gz(member);
            ASSERT_EQ(d.err, 0) << int(flags);
            ASSERT_EQ(d.out, data);

            // zlib agrees the member is well formed.
            z_stream s{};
            inflateInit2(&s, 31);
            Bytes zout(data.size() + 1);
            s.next_in = member.data();
            s.avail_in = static_cast<uInt>(member.size());
            s.next_out = zout.data();
            s.avail_out = static_cast<uInt>(zout.size());
            EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END) << int(flags);
            inflateEnd(&s);

            // Every truncation of the header is ENODATA.
            usize header_len = 10 + fields.size() + (flags & 2 ? 2 : 0);
            for (usize cut = 0; cut < header_len; ++cut)
                ASSERT_EQ(gz(Bytes(member.begin(), member.begin() + cut)).err, ENODATA) << int(flags) << " " << cut;

            if (flags & 2) {   // a wrong header CRC
                member[header_len - 1] ^= 1;
                EXPECT_EQ(gz(member).err, EINVAL);
            }
        }
    }
}

TEST(InflateTest, BadHeaderAndTrailer) {
    Bytes data = make_data(Kind::Text, 2000, 50);
    Bytes z = compress(data, 6);
    auto with = [&](usize i, u8 v) {
        Bytes m = z;
        m[i] = v;
        return gz(m).err;
    };
    EXPECT_EQ(with(0, 0x1e), EINVAL);   // magic
    EXPECT_EQ(with(1, 0x8a), EINVAL);
    EXPECT_EQ(with(2, 7), EINVAL);      // method
    for (u8 bit = 0x20; bit; bit <<= 1) EXPECT_EQ(with(3, bit), EINVAL);   // reserved flags
    EXPECT_EQ(gz({0x1f}).err, ENODATA);
    EXPECT_EQ(gz({0x1f, 0x8b, 8}).err, ENODATA);
    EXPECT_EQ(gz({0x1e}).err, EINVAL);
    EXPECT_EQ(gz({'0', '7', '0', '7', '0', '1'}).err, EINVAL);   // an uncompressed cpio
    for (usize i = 0; i < 8; ++i) {   // CRC-32, then ISIZE
        Bytes m = z;
        m[m.size() - 8 + i] ^= 0x10;
        EXPECT_EQ(gz(m).err, EINVAL) << i;
    }
}

// ---- Corrupt DEFLATE data, class by class -----------------------------------------
TEST(InflateCorruptTest, BlockTypeAndStoredLength) {
    expect_corrupt({0x07}, "block type 3");
    expect_corrupt({0x06}, "block type 3, not final");
    expect_corrupt({0x01, 0x05, 0x00, 0xfa, 0xfe, 'a'}, "stored NLEN mismatch");
    Bytes ok = {0x01, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c'};
    expect_same_as_zlib(ok, {'a', 'b', 'c'});
    expect_same_as_zlib({0x01, 0x00, 0x00, 0xff, 0xff}, {});
}

std::vector<u8> lens(usize n, u8 v) { return std::vector<u8>(n, v); }
std::vector<u8> lens_padded(std::vector<u8> l, usize n) {
    l.resize(n, 0);
    return l;
}

// A complete literal/length code: 'a', 'b', end-of-block and the length-3
// symbol (257) at two bits each.
std::vector<u8> small_litlen() {
    auto l = lens(258, 0);
    l['a'] = l['b'] = l[256] = l[257] = 2;
    return l;
}

Bytes encode(const Block& b, bool fixed, const std::vector<std::pair<int, int>>& items) {
    BitWriter w;
    b.header(w, true, fixed);
    for (auto [x, y] : items) {
        if (y == 0) b.sym(w, static_cast<unsigned>(x));
        else b.match(w, static_cast<unsigned>(x), static_cast<unsigned>(y));
    }
    b.sym(w, 256);
    return w.finish();
}

TEST(InflateCorruptTest, HuffmanCodes) {
    // Valid: a complete small code and a single one-bit distance code.
    auto one_dist = lens(1, 1);
    expect_same_as_zlib(encode(Block::dynamic(small_litlen(), one_dist), false, {{'a', 0}, {'b', 0}, {3, 1}}),
                        {'a', 'b', 'b', 'b', 'b'});
    // Valid: no distance codes at all, literals only.
    expect_same_as_zlib(encode(Block::dynamic(small_litlen(), lens(1, 0)), false, {{'b', 0}}), {'b'});
    // Valid: a literal/length code with only end-of-block.
    auto eob_only = lens(257, 0);
    eob_only[256] = 1;
    expect_same_as_zlib(encode(Block::dynamic(eob_only, lens(1, 0)), false, {}), {});

    auto over = small_litlen();
    over['c'] = 2;
    expect_corrupt(encode(Block::dynamic(over, one_dist), false, {}), "over-subscribed literal/length code");
    auto incomplete = small_litlen();
    incomplete['b'] = 0;
    expect_corrupt(encode(Block::dynamic(incomplete, one_dist), false, {}), "incomplete literal/length code");
    auto no_eob = small_litlen();
    no_eob[256] = 0;
    no_eob['c'] = 2;
    BitWriter w;
    Block::dynamic(no_eob, one_dist).header(w, true, false);
    expect_corrupt(w.finish(), "no end-of-block code");
    expect_corrupt(encode(Block::dynamic(small_litlen(), {1, 1, 1}), false, {}), "over-subscribed distance code");
    expect_corrupt(encode(Block::dynamic(small_litlen(), {2, 2, 2}), false, {}), "incomplete distance code");
    // Using a distance when there is no distance code, or the unused code.
    expect_corrupt(encode(Block::dynamic(small_litlen(), lens(1, 0)), false, {{'a', 0}, {3, 1}}),
                   "length with no distance code");
    auto one_dist_sym1 = Block::dynamic(small_litlen(), {0, 1});
    BitWriter u;
    one_dist_sym1.header(u, true, false);
    one_dist_sym1.sym(u, 'a');
    one_dist_sym1.sym(u, 257);
    u.bit(1);   // code 0 is symbol 1 (distance 2); code 1 is unused
    expect_corrupt(u.finish(), "unused distance code");

    // Codes up to 15 bits exercise the sub-tables: lengths 1..14 then two
    // of 15, for both alphabets; decode every symbol and long distances.
    auto deep = lens(286, 0);
    unsigned syms[16] = {'e', 't', 'a', 'o', 257, 'n', 284, 's', 'h', 285, 'r', 'd', 270, 'l', 256, 'x'};
    for (unsigned i = 0; i < 16; ++i) deep[syms[i]] = static_cast<u8>(i < 15 ? i + 1 : 15);
    auto deep_dist = lens(30, 0);
    for (unsigned i = 0; i < 16; ++i) deep_dist[29 - i] = static_cast<u8>(i < 15 ? i + 1 : 15);
    Block b = Block::dynamic(deep, deep_dist);
    BitWriter d;
    b.header(d, true, false);
    Bytes expected;
    std::mt19937 rng(60);
    const char lits[] = "etaonshrdlx";
    for (int i = 0; i < 40000; ++i) {
        u8 c = static_cast<u8>(lits[rng() % 11]);
        b.sym(d, c);
        expected.push_back(c);
    }
    // Distances from the codes present (symbols 14-29), lengths too.
    for (int i = 0; i < 2000; ++i) {
        unsigned di = 14 + rng() % 16, extra = dist_extra(di);
        unsigned dist = kDistBase[di] + (extra ? rng() % (1u << extra) : 0);
        static const unsigned lsyms[] = {257, 270, 284, 285};
        unsigned ls = lsyms[rng() % 4], li = ls - 257, len = kLenBase[li];
        if (len_extra(li)) len += rng() % (1u << len_extra(li));
        if (ls == 284 && len == 258) len = 257;   // 258 belongs to 285
        b.sym(d, ls);
        d.bits(len - kLenBase[li], len_extra(li));
        d.code(b.dcodes[di], b.dist[di]);
        d.bits(dist - kDistBase[di], extra);
        for (unsigned k = 0; k < len; ++k) {
            u8 c = expected[expected.size() - dist];
            expected.push_back(c);
        }
    }
    b.sym(d, 256);
    expect_same_as_zlib(d.finish(), expected);
}

TEST(InflateCorruptTest, CodeLengthCode) {
    // 287 or 288 literal/length and 31 or 32 distance lengths are too
    // many, even when they form valid codes.
    for (usize nlit : {287, 288})
        expect_corrupt(encode(Block::dynamic(lens_padded(small_litlen(), nlit), lens(1, 1)), false, {}),
                       "too many literal/length codes");
    for (usize ndist : {31, 32})
        expect_corrupt(encode(Block::dynamic(small_litlen(), lens_padded({1, 1}, ndist)), false, {}),
                       "too many distance codes");
    auto header = [](std::initializer_list<u8> cl) {   // code-length lengths in transmission order
        BitWriter w;
        w.bits(1, 1);
        w.bits(2, 2);
        w.bits(0, 5);
        w.bits(0, 5);
        w.bits(static_cast<u32>(cl.size() - 4), 4);
        for (u8 l : cl) w.bits(l, 3);
        return w;
    };
    {
        BitWriter w = header({1, 1, 1, 1});
        for (int i = 0; i < 100; ++i) w.bits(0, 8);
        expect_corrupt(w.finish(), "over-subscribed code-length code");
    }
    {
        BitWriter w = header({0, 0, 0, 2, 2, 2});   // 0, 8, 7 at two bits: incomplete
        for (int i = 0; i < 100; ++i) w.bits(0, 8);
        expect_corrupt(w.finish(), "incomplete code-length code");
    }
    {
        BitWriter w = header({0, 0, 0, 0});   // no code-length codes at all
        for (int i = 0; i < 100; ++i) w.bits(0, 8);
        Decoded mine = raw(w.finish());
        EXPECT_EQ(mine.err, EINVAL);
        EXPECT_NE(zlib_raw(w.finish()).err, 0);
    }
    // Code-length code: 0, 16, 17 and 18 at two bits (codes 00 01 10 11).
    auto repeats = [&]() { return header({2, 2, 2, 2}); };
    // A repeat (16) as the very first length has nothing to repeat. The
    // code-length code here: 0, 2, 16, 18 at two bits; the lengths give 'a',
    // 'b', 256 and 257 two bits each and no distance codes, and the data is
    // 'a'. Spelling the first three zeros as 16 instead of 0 0 0 is corrupt.
    for (bool bad : {false, true}) {
        BitWriter w;
        w.bits(1, 1);
        w.bits(2, 2);
        w.bits(1, 5);    // 258 literal/length codes
        w.bits(0, 5);    // 1 distance code
        w.bits(12, 4);   // 16 code-length code lengths: 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2
        for (u8 l : {2, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}) w.bits(l, 3);
        auto zero = [&] { w.code(0, 2); };
        auto two = [&] { w.code(1, 2); };
        auto zeros18 = [&](u32 n) {
            w.code(3, 2);
            w.bits(n - 11, 7);
        };
        if (bad) {
            w.code(2, 2);
            w.bits(0, 2);
        } else {
            zero(), zero(), zero();
        }
        zeros18(94);   // up to 'a'
        two(), two();  // 'a', 'b'
        zeros18(138), zeros18(19);
        two(), two();  // 256, 257
        zero();        // the distance code
        w.code(0, 2);  // 'a'
        w.code(2, 2);  // end of block
        if (bad) expect_corrupt(w.finish(), "repeat with no previous length");
        else expect_same_as_zlib(w.finish(), {'a'});
    }
    {
        BitWriter w = repeats();
        for (int i = 0; i < 3; ++i) {   // 3 x 138 zeros > 258 lengths
            w.code(3, 2);   // 18
            w.bits(127, 7);
        }
        for (int i = 0; i < 100; ++i) w.bits(0, 8);
        expect_corrupt(w.finish(), "repeat past the last length");
    }
}

TEST(InflateCorruptTest, FixedCodesAndDistances) {
    Block f = Block::fixed();
    expect_corrupt(encode(f, true, {{286, 0}}), "literal/length 286");
    expect_corrupt(encode(f, true, {{287, 0}}), "literal/length 287");
    {
        BitWriter w;
        f.header(w, true, true);
        f.sym(w, 'a');
        f.sym(w, 257);
        w.code(30, 5);
        expect_corrupt(w.finish(), "distance code 30");
        BitWriter v;
        f.header(v, true, true);
        f.sym(v, 'a');
        f.sym(v, 257);
        v.code(31, 5);
        expect_corrupt(v.finish(), "distance code 31");
    }
    expect_corrupt(encode(f, true, {{3, 1}}), "distance before any output");
    expect_corrupt(encode(f, true, {{'a', 0}, {'b', 0}, {3, 3}}), "distance one too far");
    expect_same_as_zlib(encode(f, true, {{'a', 0}, {'b', 0}, {3, 2}, {258, 1}}), [] {
        Bytes e = {'a', 'b', 'a', 'b', 'a'};
        e.insert(e.end(), 258, 'a');
        return e;
    }());
    // The full 32 KiB distance, valid exactly once 32768 bytes exist.
    Bytes big = make_data(Kind::Random, 32768, 70);
    BitWriter w;
    f.header(w, true, true);
    for (u8 c : big) f.sym(w, c);
    f.match(w, 258, 32768);
    f.sym(w, 256);
    Bytes expected = big;
    expected.insert(expected.end(), big.begin(), big.begin() + 258);
    expect_same_as_zlib(w.finish(), expected);
    Bytes short_by_one(big.begin(), big.end() - 1);
    BitWriter x;
    f.header(x, true, true);
    for (u8 c : short_by_one) f.sym(x, c);
    f.match(x, 258, 32768);
    f.sym(x, 256);
    expect_corrupt(x.finish(), "distance 32768 after 32767 bytes");
}

// ---- Truncation and mutation ------------------------------------------------------
TEST(InflateCorruptTest, TruncatedAtEveryByte) {
    Bytes data = make_data(Kind::Text, 3000, 80);
    Bytes r = make_data(Kind::Random, 300, 81);
    Bytes all_flags = gzip_wrap(compress(data, 6, Z_HUFFMAN_ONLY, -15), data, 0x1e, {2, 0, 'x', 'y', 'n', 0, 'c', 0});
    std::vector<Bytes> streams = {compress(data, 9), compress(data, 1, Z_FIXED), compress(r, 0), compress(r, 6), all_flags};
    for (const Bytes& s : streams) {
        ASSERT_EQ(gz(s).err, 0);
        for (usize cut = 0; cut < s.size(); ++cut)
            ASSERT_EQ(gz(Bytes(s.begin(), s.begin() + cut)).err, ENODATA) << cut << "/" << s.size();
    }
    // Two members: cutting exactly after the first is a valid file.
    Bytes a = compress(data, 6), two = concat({a, compress(r, 6)});
    for (usize cut = 0; cut < two.size(); ++cut) {
        Decoded d = gz(Bytes(two.begin(), two.begin() + cut));
        if (cut == a.size()) {
            EXPECT_EQ(d.err, 0);
            EXPECT_EQ(d.out, data);
        } else {
            ASSERT_EQ(d.err, ENODATA) << cut;
        }
    }
    // Raw streams: zlib agrees at every cut.
    Bytes rs = compress(data, 9, Z_DEFAULT_STRATEGY, -15);
    for (usize cut = 0; cut < rs.size(); ++cut) {
        Bytes part(rs.begin(), rs.begin() + cut);
        ASSERT_EQ(raw(part).err, ENODATA) << cut;
        ASSERT_EQ(zlib_raw(part).err, ENODATA) << cut;
    }
}

TEST(InflateCorruptTest, EveryBitFlip) {
    Bytes data = make_data(Kind::Text, 1500, 90);
    Bytes z = compress(data, 9);
    for (usize i = 0; i < z.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            Bytes m = z;
            m[i] ^= static_cast<u8>(1 << bit);
            Decoded d = gz(m);
            // Only the header's informational fields (FTEXT, MTIME, XFL, OS)
            // may change without detection; the CRC catches the rest.
            if (d.err == 0) ASSERT_EQ(d.out, data) << i << ":" << bit;
            else ASSERT_TRUE(d.err == EINVAL || d.err == ENODATA) << d.err;
        }
}

// Random mutations of valid raw streams, and random bytes: this decoder and
// zlib must agree on success and on the output.
TEST(InflateCorruptTest, AgreesWithZlibOnMutations) {
    std::mt19937 rng(100);
    const int strategies[] = {Z_DEFAULT_STRATEGY, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
    int both_ok = 0, same_error = 0, other_error = 0;
    for (int round = 0; round < 4000; ++round) {
        Bytes data = make_data(static_cast<Kind>(rng() % 5), rng() % 3000, rng());
        Bytes s = compress(data, static_cast<int>(rng() % 10), strategies[rng() % 4], -15);
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !s.empty(); ++e) {
            switch (rng() % 3) {
            case 0: s[rng() % s.size()] ^= static_cast<u8>(1 << (rng() % 8)); break;
            case 1: s[rng() % s.size()] = static_cast<u8>(rng()); break;
            case 2: s.resize(rng() % s.size()); break;
            }
        }
        if (round % 4 == 0) {   // plain random bytes
            s.resize(rng() % 200);
            for (auto& c : s) c = static_cast<u8>(rng());
        }
        Decoded mine = raw(s), z = zlib_raw(s);
        ASSERT_EQ(mine.err == 0, z.err == 0) << round << ": " << mine.err << " vs zlib " << z.err;
        if (mine.err == 0) {
            ASSERT_EQ(mine.out, z.out) << round;
            ASSERT_EQ(mine.consumed, z.consumed) << round;
            ++both_ok;
        } else if (mine.err == z.err) {
            ++same_error;
        } else {
            ++other_error;
        }
    }
    std::printf("zlib agreement: %d decoded, %d same error, %d different error class\n", both_ok, same_error,
                other_error);
}

}  // namespace
