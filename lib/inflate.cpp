// DEFLATE and gzip decoding, written from RFC 1951 and RFC 1952.
//
// Huffman codes are decoded by table lookup: the next 10 input bits (8 for
// distances) index a root table whose entry gives the symbol's meaning and
// code length directly; codes longer than that go through a link entry to a
// small sub-table indexed by the bits that follow. Output is written into a
// buffer twice the DEFLATE window: back-references are plain copies within
// it, and when it fills, the last 32 KiB slide to the front as history.
#include "lib/inflate.h"

#include "lib/crc32.h"

namespace keel {

namespace {

// ---- Decoding table entries ------------------------------------------------
// One u32 holds everything the decoder needs after a lookup:
//   bits 0-3    code length in bits (for a link: the root width)
//   bits 4-7    extra bits after the code (lengths, distances), or for a link
//               the index width of its sub-table
//   bits 8-15   kind
//   bits 16-31  the literal byte, base length or distance, or for a link the
//               sub-table's offset in the same array
enum Kind : u32 { kLiteral, kLength, kEnd, kDistance, kLink, kInvalid };

constexpr u32 make_entry(u32 kind, u32 extra, u32 value) { return value << 16 | kind << 8 | extra << 4; }
constexpr unsigned entry_bits(u32 e) { return e & 15; }
constexpr unsigned entry_extra(u32 e) { return (e >> 4) & 15; }
constexpr u32 entry_kind(u32 e) { return (e >> 8) & 0xff; }
constexpr u32 entry_value(u32 e) { return e >> 16; }

constexpr unsigned kLitLenRoot = 10;
constexpr unsigned kDistRoot = 8;
constexpr unsigned kCodeLenRoot = 7;   // code length codes are at most 7 bits

// A sub-table of 2^d entries serves a complete subtree of depth d, which
// holds at least d + 1 codes; so each code in a sub-table costs at most
// 2^d / (d + 1) entries, most at the deepest d = 15 - root. Incomplete codes
// are accepted only when no code is longer than 1 bit, so have no sub-tables.
constexpr usize table_bound(unsigned root, usize max_codes) {
    usize d = 15 - root;
    return (usize(1) << root) + max_codes * (usize(1) << d) / (d + 1);
}
static_assert(table_bound(kLitLenRoot, 286) <= InflateState::kLitLenEntries);
static_assert(table_bound(kDistRoot, 30) <= InflateState::kDistEntries);
static_assert(InflateState::kCodeLenEntries == 1u << kCodeLenRoot);

// RFC 1951 3.2.5 and 3.2.7.
constexpr u16 kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr u8 kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr u16 kDistBase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,    65,    97,    129,
                               193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr u8 kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3,  3,  4,  4,  5,  5,  6,
                               6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
constexpr u8 kCodeLenOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// What each symbol of each alphabet means, as an entry without its length.
// Literal/length 286-287 and distances 30-31 have fixed codes but no
// meaning: decoding one is an error.
struct Meanings {
    u32 litlen[288];
    u32 dist[32];
    u32 codelen[19];
};

constexpr Meanings make_meanings() {
    Meanings m{};
    for (u32 s = 0; s < 256; ++s) m.litlen[s] = make_entry(kLiteral, 0, s);
    m.litlen[256] = make_entry(kEnd, 0, 0);
    for (u32 s = 257; s < 286; ++s) m.litlen[s] = make_entry(kLength, kLengthExtra[s - 257], kLengthBase[s - 257]);
    m.litlen[286] = m.litlen[287] = make_entry(kInvalid, 0, 0);
    for (u32 s = 0; s < 30; ++s) m.dist[s] = make_entry(kDistance, kDistExtra[s], kDistBase[s]);
    m.dist[30] = m.dist[31] = make_entry(kInvalid, 0, 0);
    for (u32 s = 0; s < 19; ++s) m.codelen[s] = make_entry(kLiteral, 0, s);
    return m;
}

constexpr Meanings kMeaning = make_meanings();

u32 reverse_bits(u32 v, unsigned n) {
    u32 r = 0;
    for (unsigned i = 0; i < n; ++i, v >>= 1) r = (r << 1) | (v & 1);
    return r;
}

// Builds the decoding table of the canonical Huffman code (RFC 1951 3.2.2)
// with the given code lengths (0: symbol unused). DEFLATE sends codes MSB
// first into an LSB-first stream, so tables are indexed by bit-reversed
// codes, and a code shorter than the index fills every slot it prefixes.
// Rejects over-subscribed codes, and incomplete ones unless `allow_tiny`
// and no code is longer than one bit: RFC 1951 allows a distance code with
// one or no symbols, and zlib, like this decoder, accepts the same for the
// literal/length code. A bit pattern no code covers decodes as kInvalid.
bool build_table(u32* table, usize capacity, unsigned root, const u8* lengths, usize n, const u32* meaning,
                 bool allow_tiny) {
    u16 count[16] = {};
    for (usize s = 0; s < n; ++s) count[lengths[s]]++;
    i32 left = 1;   // free codes of the current length
    unsigned max_len = 0;
    for (unsigned len = 1; len <= 15; ++len) {
        left = 2 * left - count[len];
        if (left < 0) return false;
        if (count[len]) max_len = len;
    }
    const usize root_size = usize(1) << root;
    if (left > 0) {
        if (!allow_tiny || max_len > 1) return false;
        for (usize i = 0; i < root_size; ++i) table[i] = make_entry(kInvalid, 0, 0) | 1;
    }

    // Symbols in canonical order: by length, then by value.
    u16 offset[16];
    offset[1] = 0;
    for (unsigned len = 1; len < 15; ++len) offset[len + 1] = offset[len] + count[len];
    u16 sorted[288];
    usize ncodes = 0;
    for (usize s = 0; s < n; ++s) {
        if (lengths[s] == 0) continue;
        sorted[offset[lengths[s]]++] = static_cast<u16>(s);
        ++ncodes;
    }

    usize next_free = root_size;
    u32 code = 0;
    unsigned len = 0;
    u32 sub_prefix = ~0u;   // root bits of the sub-table being filled
    usize sub_base = 0;
    unsigned sub_bits = 0;
    for (usize i = 0; i < ncodes; ++i, ++code) {
        unsigned sym = sorted[i];
        code <<= lengths[sym] - len;
        len = lengths[sym];
        u32 rev = reverse_bits(code, len);
        u32 entry = meaning[sym] | len;
        if (len <= root) {
            for (u32 j = rev; j < root_size; j += 1u << len) table[j] = entry;
            continue;
        }
        u32 prefix = rev & (root_size - 1);
        if (prefix != sub_prefix) {
            // The codes sharing these root bits come next in canonical order,
            // the longest last; it sets the sub-table's width.
            unsigned longest = len;
            u32 c = code;
            unsigned cl = len;
            for (usize k = i + 1; k < ncodes; ++k) {
                unsigned kl = lengths[sorted[k]];
                c = (c + 1) << (kl - cl);
                cl = kl;
                if (c >> (kl - root) != code >> (len - root)) break;
                longest = kl;
            }
            sub_bits = longest - root;
            if (next_free + (usize(1) << sub_bits) > capacity) return false;   // see table_bound()
            sub_base = next_free;
            next_free += usize(1) << sub_bits;
            sub_prefix = prefix;
            table[prefix] = make_entry(kLink, sub_bits, static_cast<u32>(sub_base)) | root;
        }
        for (u32 j = rev >> root; j < (1u << sub_bits); j += 1u << (len - root)) table[sub_base + j] = entry;
    }
    return true;
}

u64 load_le64(const u8* p) {
    u64 v;
    __builtin_memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

u32 load_le32(const u8* p) { return u32(p[0]) | u32(p[1]) << 8 | u32(p[2]) << 16 | u32(p[3]) << 24; }

// ---- Bit input -------------------------------------------------------------
// Reads the input LSB first, as DEFLATE packs it, buffering up to 63 bits.
// The buffer's bits above `nbits` are either zero or copies of the input
// that follows, so a table lookup may peek past what is buffered; the
// decoder then checks that the code it found was really all there (when it
// was not, the input is truncated).
struct BitReader {
    const u8* in;
    usize len;
    usize pos;   // next byte to load
    u64 bits;
    unsigned nbits;

    // Leaves at least 56 bits buffered, or all the input there is. One
    // refill covers a whole length/distance pair: 15 + 5 + 15 + 13 bits.
    void refill() {
        if (len - pos >= 8) {
            // Load a whole word; count only the bytes that fit. The rest lie
            // above nbits and are loaded again, identically, next time.
            bits |= load_le64(in + pos) << nbits;
            pos += (63 - nbits) >> 3;
            nbits |= 56;
        } else {
            while (nbits <= 56 && pos < len) {
                bits |= u64(in[pos++]) << nbits;
                nbits += 8;
            }
        }
    }
    void drop(unsigned n) {
        bits >>= n;
        nbits -= n;
    }
    u32 take(unsigned n) {
        u32 v = static_cast<u32>(bits & ((u64(1) << n) - 1));
        drop(n);
        return v;
    }
    // Skips to the next byte boundary and gives back the whole bytes still
    // buffered; returns the offset of the next unread byte.
    usize rewind_to_byte() {
        drop(nbits & 7);
        pos -= nbits / 8;
        bits = 0;
        nbits = 0;
        return pos;
    }
};

// ---- The decoder -----------------------------------------------------------
constexpr usize kOutSize = sizeof(InflateState::out);
constexpr usize kWindow = InflateState::kWindow;
constexpr usize kMaxMatch = 258;
// A symbol may write a 258-byte match plus 7 bytes of over-copy (matches are
// copied 8 bytes at a time), so the buffer slides before it gets this full.
constexpr usize kSlideAt = kOutSize - kMaxMatch - 8;
static_assert(kOutSize >= 2 * kWindow);

class Inflater {
public:
    Inflater(InflateState& st, const u8* in, usize len, InflateSink sink, usize limit, bool want_crc)
        : st_(st), br_{in, len, 0, 0, 0}, sink_(sink), limit_(limit), want_crc_(want_crc) {}

    // Decodes one DEFLATE stream and flushes all of its output.
    Status run();
    usize consumed() const { return br_.pos; }
    usize produced() const { return produced_; }
    u32 crc() const { return crc_; }

private:
    Status stored_block();
    Status read_dynamic_tables();
    void load_fixed_tables();
    Status huffman_block();
    Status make_room();
    Status flush();

    InflateState& st_;
    BitReader br_;
    InflateSink sink_;
    usize limit_;
    bool want_crc_;
    bool fixed_loaded_ = false;
    usize out_ = 0;       // next write offset in st_.out
    usize flushed_ = 0;   // st_.out[flushed_, out_) is not yet delivered
    usize produced_ = 0;
    u32 crc_ = 0;
};

Status Inflater::run() {
    for (bool final = false; !final;) {
        br_.refill();
        if (br_.nbits < 3) return Error(ENODATA);
        u32 header = br_.take(3);
        final = header & 1;
        switch (header >> 1) {
        case 0:
            TRY(stored_block());
            break;
        case 1:
            if (!fixed_loaded_) load_fixed_tables();
            TRY(huffman_block());
            break;
        case 2:
            fixed_loaded_ = false;
            TRY(read_dynamic_tables());
            TRY(huffman_block());
            break;
        default:
            return Error(EINVAL);
        }
    }
    br_.rewind_to_byte();
    return flush();
}

Status Inflater::stored_block() {
    usize p = br_.rewind_to_byte();
    const u8* in = br_.in;
    const usize end = br_.len;
    if (end - p < 4) return Error(ENODATA);
    usize remaining = in[p] | in[p + 1] << 8;
    usize complement = in[p + 2] | in[p + 3] << 8;
    if ((remaining ^ 0xffff) != complement) return Error(EINVAL);
    p += 4;
    br_.pos = p;
    while (remaining > 0) {
        if (out_ > kSlideAt) TRY(make_room());
        if (p == end) return Error(ENODATA);
        usize n = min(remaining, min(kOutSize - out_, end - p));
        __builtin_memcpy(st_.out + out_, in + p, n);
        out_ += n;
        p += n;
        br_.pos = p;
        remaining -= n;
    }
    return {};
}

void Inflater::load_fixed_tables() {
    // RFC 1951 3.2.6.
    u8* lengths = st_.lengths;
    __builtin_memset(lengths, 8, 144);
    __builtin_memset(lengths + 144, 9, 112);
    __builtin_memset(lengths + 256, 7, 24);
    __builtin_memset(lengths + 280, 8, 8);
    __builtin_memset(lengths + 288, 5, 32);
    // Both codes are complete and short; building cannot fail.
    build_table(st_.litlen, InflateState::kLitLenEntries, kLitLenRoot, lengths, 288, kMeaning.litlen, false);
    build_table(st_.dist, InflateState::kDistEntries, kDistRoot, lengths + 288, 32, kMeaning.dist, false);
    fixed_loaded_ = true;
}

Status Inflater::read_dynamic_tables() {
    // RFC 1951 3.2.7. All 14 header bits are read before any is judged, so
    // a truncated header is reported as truncated.
    br_.refill();
    if (br_.nbits < 14) return Error(ENODATA);
    usize nlen = br_.take(5) + 257;
    usize ndist = br_.take(5) + 1;
    usize ncodelen = br_.take(4) + 4;
    if (nlen > 286 || ndist > 30) return Error(EINVAL);

    u8 codelen_lengths[19] = {};
    for (usize i = 0; i < ncodelen; ++i) {
        br_.refill();
        if (br_.nbits < 3) return Error(ENODATA);
        codelen_lengths[kCodeLenOrder[i]] = static_cast<u8>(br_.take(3));
    }
    if (!build_table(st_.codelen, InflateState::kCodeLenEntries, kCodeLenRoot, codelen_lengths, 19,
                     kMeaning.codelen, false))
        return Error(EINVAL);

    // The literal/length and distance code lengths form one sequence: a
    // repeat may run from one into the other.
    u8* lengths = st_.lengths;
    const usize total = nlen + ndist;
    for (usize i = 0; i < total;) {
        br_.refill();
        u32 e = st_.codelen[br_.bits & (InflateState::kCodeLenEntries - 1)];
        if (entry_bits(e) > br_.nbits) return Error(ENODATA);
        br_.drop(entry_bits(e));
        u32 sym = entry_value(e);
        if (sym < 16) {
            lengths[i++] = static_cast<u8>(sym);
            continue;
        }
        // 16: repeat the previous length 3-6 times; 17: 3-10 zeros;
        // 18: 11-138 zeros.
        static constexpr u8 kRepeatBits[3] = {2, 3, 7};
        static constexpr u8 kRepeatBase[3] = {3, 3, 11};
        unsigned extra = kRepeatBits[sym - 16];
        if (extra > br_.nbits) return Error(ENODATA);
        usize repeat = kRepeatBase[sym - 16] + br_.take(extra);
        u8 value = 0;
        if (sym == 16) {
            if (i == 0) return Error(EINVAL);
            value = lengths[i - 1];
        }
        if (repeat > total - i) return Error(EINVAL);
        __builtin_memset(lengths + i, value, repeat);
        i += repeat;
    }

    // Without an end-of-block code the block could never end.
    if (lengths[256] == 0) return Error(EINVAL);
    if (!build_table(st_.litlen, InflateState::kLitLenEntries, kLitLenRoot, lengths, nlen, kMeaning.litlen, true))
        return Error(EINVAL);
    if (!build_table(st_.dist, InflateState::kDistEntries, kDistRoot, lengths + nlen, ndist, kMeaning.dist, true))
        return Error(EINVAL);
    return {};
}

// Copies a match whose source starts `distance` bytes back and may overlap
// the destination (distance < length repeats a pattern).
inline void copy_match(u8* dst, usize distance, usize length) {
    const u8* src = dst - distance;
    if (distance >= 8) {
        // Each 8-byte chunk reads only bytes already written, even when the
        // ranges overlap; the last chunk may write up to 7 bytes past the
        // match, into the slack kSlideAt keeps free.
        for (usize i = 0; i < length; i += 8) __builtin_memcpy(dst + i, src + i, 8);
    } else if (distance == 1) {
        __builtin_memset(dst, src[0], length);
    } else {
        for (usize i = 0; i < length; ++i) dst[i] = src[i];
    }
}

Status Inflater::huffman_block() {
    // The hot loop works on local copies: stores into the output bytes could
    // otherwise alias the members and force them back to memory each time.
    const u32* litlen = st_.litlen;
    const u32* dist = st_.dist;
    u8* const out = st_.out;
    BitReader br = br_;
    usize pos = out_;
    Status status;
    for (;;) {
        if (pos > kSlideAt) {
            out_ = pos;
            status = make_room();
            if (status.is_error()) break;
            pos = out_;
        }
        br.refill();
        u32 e = litlen[br.bits & ((1u << kLitLenRoot) - 1)];
        if (entry_kind(e) == kLink)
            e = litlen[entry_value(e) + ((br.bits >> kLitLenRoot) & ((1u << entry_extra(e)) - 1))];
        if (entry_bits(e) > br.nbits) {
            status = Error(ENODATA);
            break;
        }
        br.drop(entry_bits(e));
        u32 kind = entry_kind(e);
        if (kind == kLiteral) {
            out[pos++] = static_cast<u8>(entry_value(e));
            continue;
        }
        if (kind == kEnd) break;
        if (kind != kLength) {
            status = Error(EINVAL);
            break;
        }
        if (entry_extra(e) > br.nbits) {
            status = Error(ENODATA);
            break;
        }
        usize length = entry_value(e) + br.take(entry_extra(e));

        e = dist[br.bits & ((1u << kDistRoot) - 1)];
        if (entry_kind(e) == kLink) e = dist[entry_value(e) + ((br.bits >> kDistRoot) & ((1u << entry_extra(e)) - 1))];
        if (entry_bits(e) + entry_extra(e) > br.nbits) {
            status = Error(ENODATA);
            break;
        }
        br.drop(entry_bits(e));
        if (entry_kind(e) != kDistance) {
            status = Error(EINVAL);
            break;
        }
        usize distance = entry_value(e) + br.take(entry_extra(e));
        // Before the first slide `pos` is all the output there is; after it,
        // pos >= kWindow covers every distance DEFLATE can express.
        if (distance > pos) {
            status = Error(EINVAL);
            break;
        }
        copy_match(out + pos, distance, length);
        pos += length;
    }
    br_ = br;
    out_ = pos;
    return status;
}

// Delivers pending output, then keeps the last window as history.
Status Inflater::make_room() {
    TRY(flush());
    __builtin_memmove(st_.out, st_.out + out_ - kWindow, kWindow);
    out_ = flushed_ = kWindow;
    return {};
}

Status Inflater::flush() {
    usize n = out_ - flushed_;
    if (n == 0) return {};
    if (n > limit_ - produced_) return Error(EFBIG);
    const u8* data = st_.out + flushed_;
    if (want_crc_) crc_ = crc32_update(crc_, data, n);
    produced_ += n;
    flushed_ = out_;
    return sink_.write(sink_.ctx, data, n);
}

// ---- gzip ------------------------------------------------------------------
constexpr u8 kFlagHeaderCrc = 1 << 1;
constexpr u8 kFlagExtra = 1 << 2;
constexpr u8 kFlagName = 1 << 3;
constexpr u8 kFlagComment = 1 << 4;
constexpr u8 kFlagReserved = 0xe0;
constexpr usize kFixedHeader = 10;
constexpr usize kTrailer = 8;

// RFC 1952 2.3: returns the header's length. The fixed fields are judged as
// far as they are present, so that a short non-gzip input is EINVAL rather
// than ENODATA.
Result<usize> parse_gzip_header(const u8* in, usize len) {
    if (len > 0 && in[0] != 0x1f) return Error(EINVAL);
    if (len > 1 && in[1] != 0x8b) return Error(EINVAL);
    if (len > 2 && in[2] != 8) return Error(EINVAL);   // CM: only deflate is defined
    if (len > 3 && (in[3] & kFlagReserved)) return Error(EINVAL);
    if (len < kFixedHeader) return Error(ENODATA);
    const u8 flags = in[3];
    usize p = kFixedHeader;
    if (flags & kFlagExtra) {
        if (len - p < 2) return Error(ENODATA);
        usize xlen = in[p] | in[p + 1] << 8;
        p += 2;
        if (len - p < xlen) return Error(ENODATA);
        p += xlen;
    }
    static constexpr u8 kStrings[2] = {kFlagName, kFlagComment};
    for (u8 flag : kStrings) {
        if (!(flags & flag)) continue;
        while (p < len && in[p] != 0) ++p;   // a NUL-terminated string
        if (p == len) return Error(ENODATA);
        ++p;
    }
    if (flags & kFlagHeaderCrc) {
        if (len - p < 2) return Error(ENODATA);
        if ((crc32(in, p) & 0xffff) != (in[p] | u32(in[p + 1]) << 8)) return Error(EINVAL);
        p += 2;
    }
    return p;
}

Status discard(void*, const u8*, usize) { return {}; }

struct BufferOut {
    u8* buf;
    usize used;
};

// The limit passed along with it guarantees the data fits.
Status copy_out(void* ctx, const u8* data, usize len) {
    auto* b = static_cast<BufferOut*>(ctx);
    __builtin_memcpy(b->buf + b->used, data, len);
    b->used += len;
    return {};
}

}  // namespace

Result<InflateResult> inflate_raw(InflateState& state, const u8* in, usize len, InflateSink sink, usize limit) {
    Inflater inflater(state, in, len, sink, limit, false);
    TRY(inflater.run());
    return InflateResult{inflater.consumed(), inflater.produced()};
}

Result<InflateResult> gunzip_member(InflateState& state, const u8* in, usize len, InflateSink sink, usize limit) {
    usize header = TRY(parse_gzip_header(in, len));
    Inflater inflater(state, in + header, len - header, sink, limit, true);
    TRY(inflater.run());
    usize p = header + inflater.consumed();
    if (len - p < kTrailer) return Error(ENODATA);
    // ISIZE is the length modulo 2^32.
    if (load_le32(in + p) != inflater.crc() || load_le32(in + p + 4) != static_cast<u32>(inflater.produced()))
        return Error(EINVAL);
    return InflateResult{p + kTrailer, inflater.produced()};
}

Result<usize> gunzip(InflateState& state, const u8* in, usize len, InflateSink sink, usize limit) {
    usize off = 0;
    usize total = 0;
    do {
        InflateResult r = TRY(gunzip_member(state, in + off, len - off, sink, limit - total));
        off += r.consumed;
        total += r.produced;
        while (off < len && in[off] == 0) ++off;
    } while (off < len);
    return total;
}

Result<usize> gunzip_size(InflateState& state, const u8* in, usize len, usize limit) {
    return gunzip(state, in, len, InflateSink{discard, nullptr}, limit);
}

Result<usize> gunzip_to_buffer(InflateState& state, const u8* in, usize len, u8* out, usize out_size) {
    BufferOut b{out, 0};
    return gunzip(state, in, len, InflateSink{copy_out, &b}, out_size);
}

}  // namespace keel
