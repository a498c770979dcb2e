// Table-driven CRC-32, eight bytes per step ("slicing by 8"): table k holds
// the CRC contribution of a byte followed by k zero bytes, so eight lookups
// combine to advance the CRC over a whole 64-bit word. This runs several
// times faster than a byte at a time, which matters because the gzip decoder
// checksums every byte it produces.
#include "lib/crc32.h"

namespace keel {

namespace {

constexpr u32 kPolynomial = 0xEDB88320u;

struct Tables {
    u32 t[8][256];
};

constexpr Tables make_tables() {
    Tables r{};
    for (u32 i = 0; i < 256; ++i) {
        u32 c = i;
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (kPolynomial & (0u - (c & 1)));
        r.t[0][i] = c;
    }
    for (int k = 1; k < 8; ++k)
        for (u32 i = 0; i < 256; ++i) r.t[k][i] = (r.t[k - 1][i] >> 8) ^ r.t[0][r.t[k - 1][i] & 0xff];
    return r;
}

// Generated at compile time: 8 KiB of read-only data, nothing to initialise
// at boot.
constexpr Tables kTables = make_tables();

u64 load_le64(const u8* p) {
    u64 v;
    __builtin_memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

}  // namespace

u32 crc32_update(u32 crc, const void* data, usize len) {
    const u8* p = static_cast<const u8*>(data);
    const auto& t = kTables.t;
    u32 c = ~crc;
    // Byte steps until aligned, so the word loads below do not straddle
    // cache lines.
    while (len > 0 && (reinterpret_cast<uptr>(p) & 7) != 0) {
        c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        --len;
    }
    for (; len >= 8; len -= 8, p += 8) {
        u64 w = load_le64(p) ^ c;
        c = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
            t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
    }
    while (len-- > 0) c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

}  // namespace keel
