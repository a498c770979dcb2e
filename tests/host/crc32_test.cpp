// lib/crc32 against zlib's crc32(): known vectors, every length and
// alignment around the 8-byte fast path, and chaining at every split point.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <random>
#include <vector>

#include "lib/crc32.h"

using namespace keel;

namespace {

std::vector<u8> random_bytes(usize n, u32 seed) {
    std::mt19937 rng(seed);
    std::vector<u8> v(n);
    for (auto& b : v) b = static_cast<u8>(rng());
    return v;
}

u32 zlib_crc(const u8* p, usize n) { return static_cast<u32>(::crc32(0, p, static_cast<uInt>(n))); }

TEST(Crc32Test, KnownVectors) {
    EXPECT_EQ(keel::crc32(nullptr, 0), 0u);
    EXPECT_EQ(keel::crc32("123456789", 9), 0xCBF43926u);
    EXPECT_EQ(keel::crc32("a", 1), 0xE8B7BE43u);
    const char* fox = "The quick brown fox jumps over the lazy dog";
    EXPECT_EQ(keel::crc32(fox, std::strlen(fox)), 0x414FA339u);
    std::vector<u8> zeros(32, 0);
    EXPECT_EQ(keel::crc32(zeros.data(), zeros.size()), 0x190A55ADu);
    std::vector<u8> ones(32, 0xff);
    EXPECT_EQ(keel::crc32(ones.data(), ones.size()), 0xFF6CAB0Bu);
}

TEST(Crc32Test, MatchesZlibAtEveryLengthAndAlignment) {
    auto data = random_bytes(600, 1);
    for (usize off = 0; off < 16; ++off)
        for (usize n = 0; off + n <= 300; ++n)
            ASSERT_EQ(keel::crc32(data.data() + off, n), zlib_crc(data.data() + off, n)) << off << "+" << n;
}

TEST(Crc32Test, ChainsAtEverySplit) {
    auto data = random_bytes(200, 2);
    u32 whole = keel::crc32(data.data(), data.size());
    for (usize split = 0; split <= data.size(); ++split) {
        u32 c = crc32_update(0, data.data(), split);
        c = crc32_update(c, data.data() + split, data.size() - split);
        ASSERT_EQ(c, whole) << split;
    }
    // The same through the class, a byte at a time.
    Crc32 acc;
    for (u8 b : data) acc.update(&b, 1);
    EXPECT_EQ(acc.value(), whole);
    acc.reset();
    EXPECT_EQ(acc.value(), 0u);
}

TEST(Crc32Test, ContinuesAZlibValue) {
    auto data = random_bytes(5000, 3);
    u32 z = static_cast<u32>(::crc32(0, data.data(), 1234));
    EXPECT_EQ(crc32_update(z, data.data() + 1234, data.size() - 1234), zlib_crc(data.data(), data.size()));
}

TEST(Crc32Test, LargeBuffer) {
    auto data = random_bytes(8 << 20, 4);
    EXPECT_EQ(keel::crc32(data.data(), data.size()), zlib_crc(data.data(), data.size()));
}

}  // namespace
