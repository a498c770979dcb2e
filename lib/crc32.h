// CRC-32 as gzip, zip and Ethernet (IEEE 802.3) use it: the reflected
// polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF. The gzip
// decoder checks every member with it; anything else that needs a checksum
// compatible with the outside world can share it.
#pragma once

#include "lib/types.h"

namespace keel {

// Extends `crc`, the CRC-32 of some earlier bytes (0 for no bytes), over `len`
// more: crc32_update(crc32_update(0, a, n), b, m) is the CRC of a followed by
// b. The pre- and post-inversion happen inside, so values chain directly;
// zlib's crc32() follows the same convention.
u32 crc32_update(u32 crc, const void* data, usize len);

inline u32 crc32(const void* data, usize len) { return crc32_update(0, data, len); }

// The same, for data that arrives in pieces.
class Crc32 {
public:
    void update(const void* data, usize len) { value_ = crc32_update(value_, data, len); }
    u32 value() const { return value_; }
    void reset() { value_ = 0; }

private:
    u32 value_ = 0;
};

}  // namespace keel
