// Reader for cpio "newc" archives (the initramfs format): walks the entries
// of an untrusted buffer with every length checked.
#pragma once

#include "lib/result.h"
#include "lib/string_view.h"

namespace keel {

struct CpioEntry {
    StringView name;
    u32 mode = 0;
    u32 uid = 0;
    u32 gid = 0;
    u32 nlink = 0;
    u32 mtime = 0;
    u32 dev_major = 0, dev_minor = 0;
    u32 rdev_major = 0, rdev_minor = 0;
    const u8* data = nullptr;
    u32 size = 0;
};

class CpioReader {
public:
    CpioReader(const u8* buf, usize size) : buf_(buf), size_(size) {}

    // The next entry; ENOENT after the trailer, EINVAL on a bad header,
    // ENODATA when the archive ends early (truncated).
    Result<CpioEntry> next();
    usize offset() const { return off_; }

private:
    const u8* buf_;
    usize size_;
    usize off_ = 0;
    bool done_ = false;
};

struct CpioSummary {
    usize files = 0;
    usize bytes = 0;
};
// Walks a whole archive (several may be concatenated, with zero padding
// between them, as the kernel accepts). Errors as CpioReader::next.
Result<CpioSummary> cpio_validate(const u8* buf, usize size);

}  // namespace keel
