#include "fs/proc/seq.h"

#include "lib/alloc.h"
#include "lib/format.h"
#include "lib/string.h"

namespace keel::fs {

SeqBuf::~SeqBuf() { heap_free(data_); }

bool SeqBuf::reserve(usize extra) {
    if (failed_) return false;
    if (len_ + extra <= cap_) return true;
    if (len_ + extra > MAX_SIZE) {
        failed_ = true;
        return false;
    }
    usize cap = cap_ ? cap_ : 1024;
    while (cap < len_ + extra) cap *= 2;
    if (cap > MAX_SIZE) cap = MAX_SIZE;
    char* bigger = static_cast<char*>(heap_alloc(cap));
    if (!bigger) {
        failed_ = true;
        return false;
    }
    if (len_) mem_copy(bigger, data_, len_);
    heap_free(data_);
    data_ = bigger;
    cap_ = cap;
    return true;
}

void SeqBuf::puts(StringView s) {
    if (s.empty() || !reserve(s.size())) return;
    mem_copy(data_ + len_, s.data(), s.size());
    len_ += s.size();
}

void SeqBuf::vprintf(const char* fmt, va_list ap) {
    // Measure first, then format into the reserved room.
    va_list measure;
    va_copy(measure, ap);
    int need = vformat(nullptr, 0, fmt, measure);
    va_end(measure);
    if (need <= 0 || !reserve(static_cast<usize>(need) + 1)) return;
    vformat(data_ + len_, static_cast<usize>(need) + 1, fmt, ap);
    len_ += static_cast<usize>(need);
}

void SeqBuf::printf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void SeqBuf::put_escaped(StringView s, StringView chars) {
    for (usize i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (chars.find(c) != StringView::npos) {
            char esc[4] = {'\\', static_cast<char>('0' + ((c >> 6) & 3)), static_cast<char>('0' + ((c >> 3) & 7)),
                           static_cast<char>('0' + (c & 7))};
            puts(StringView(esc, 4));
        } else {
            putc(c);
        }
    }
}

Result<usize> SeqBuf::copy_window(u64 off, DataBuffer& out, usize at, usize n) const {
    if (failed_) return Error(ENOMEM);
    if (off >= len_) return usize(0);
    usize count = static_cast<usize>(min<u64>(n, len_ - off));
    return out.copy_out(at, data_ + off, count);
}

void put_cpu_list(SeqBuf& s, u64 mask) {
    bool first = true;
    for (u32 c = 0; c < 64;) {
        if (!((mask >> c) & 1)) {
            ++c;
            continue;
        }
        u32 end = c;
        while (end + 1 < 64 && ((mask >> (end + 1)) & 1)) ++end;
        if (!first) s.putc(',');
        first = false;
        if (end == c) s.printf("%u", c);
        else s.printf("%u-%u", c, end);
        c = end + 1;
    }
}

void put_cpu_mask(SeqBuf& s, u64 mask, u32 nbits) {
    if (nbits == 0 || nbits > 64) nbits = 64;
    if (nbits < 64) mask &= (1ull << nbits) - 1;
    u32 chunks = (nbits + 31) / 32;
    for (u32 i = chunks; i-- > 0;) {
        u32 w = static_cast<u32>(mask >> (32 * i));
        u32 bits = i == chunks - 1 ? nbits - 32 * i : 32;
        s.printf("%0*x", static_cast<int>((bits + 3) / 4), w);
        if (i) s.putc(',');
    }
}

void put_meminfo_line(SeqBuf& s, StringView name, u64 kib) {
    s.puts(name);
    s.putc(':');
    for (usize i = name.size() + 1; i < 16; ++i) s.putc(' ');
    s.printf("%8llu kB\n", static_cast<unsigned long long>(kib));
}

void put_uuid(SeqBuf& s, const u8 (&bytes)[16]) {
    u8 b[16];
    for (int i = 0; i < 16; ++i) b[i] = bytes[i];
    b[6] = static_cast<u8>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<u8>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s.putc('-');
        s.printf("%02x", b[i]);
    }
}

}  // namespace keel::fs
