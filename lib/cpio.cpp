#include "lib/cpio.h"

namespace keel {

namespace {

constexpr usize HEADER = 110;  // "070701" + 13 fields of 8 hex digits

bool hex8(const u8* p, u32* out) {
    u32 v = 0;
    for (int i = 0; i < 8; ++i) {
        u8 c = p[i];
        u32 d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return false;
        v = (v << 4) | d;
    }
    *out = v;
    return true;
}

usize pad4(usize v) { return (v + 3) & ~usize(3); }

}  // namespace

Result<CpioEntry> CpioReader::next() {
    if (done_) return Error(ENOENT);
    if (size_ - off_ < HEADER) return Error(ENODATA);
    const u8* h = buf_ + off_;
    if (__builtin_memcmp(h, "070701", 6) != 0 && __builtin_memcmp(h, "070702", 6) != 0) return Error(EINVAL);
    u32 f[13];
    for (int i = 0; i < 13; ++i)
        if (!hex8(h + 6 + 8 * i, &f[i])) return Error(EINVAL);
    CpioEntry e;
    e.mode = f[1];
    e.uid = f[2];
    e.gid = f[3];
    e.nlink = f[4];
    e.mtime = f[5];
    e.size = f[6];
    e.dev_major = f[7];
    e.dev_minor = f[8];
    e.rdev_major = f[9];
    e.rdev_minor = f[10];
    u32 namesize = f[11];
    if (namesize == 0 || namesize > 4096) return Error(EINVAL);
    usize name_end = off_ + HEADER + namesize;
    if (name_end > size_) return Error(ENODATA);
    if (buf_[name_end - 1] != 0) return Error(EINVAL);
    e.name = StringView(reinterpret_cast<const char*>(h + HEADER), namesize - 1);
    usize data_off = pad4(name_end);
    if (data_off > size_ || size_ - data_off < e.size) return Error(ENODATA);
    e.data = buf_ + data_off;
    off_ = pad4(data_off + e.size);
    if (off_ > size_) off_ = size_;
    if (e.name == StringView("TRAILER!!!")) {
        done_ = true;
        return Error(ENOENT);
    }
    return e;
}

Result<CpioSummary> cpio_validate(const u8* buf, usize size) {
    CpioSummary s;
    usize off = 0;
    bool any = false;
    while (off < size) {
        if (buf[off] == 0) {  // padding between concatenated archives
            ++off;
            continue;
        }
        CpioReader r(buf + off, size - off);
        for (;;) {
            auto e = r.next();
            if (e.is_error()) {
                if (e.error().code() != ENOENT) return e.error();
                break;
            }
            ++s.files;
            s.bytes += e.value().size;
        }
        any = true;
        off += r.offset();
    }
    if (!any) return Error(EINVAL);
    return s;
}

}  // namespace keel
