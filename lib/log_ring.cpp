#include "lib/log_ring.h"

#include "lib/format.h"

namespace keel {

namespace {

constexpr u16 kWrapMarker = 0xffff;

u16 load16(const u8* p) { return static_cast<u16>(p[0] | (p[1] << 8)); }
void store16(u8* p, u16 v) {
    p[0] = static_cast<u8>(v);
    p[1] = static_cast<u8>(v >> 8);
}

// Copies what fits of `src` to out+at (out may be null: only counting).
void put(char* out, usize cap, usize at, const char* src, usize n) {
    if (!out || at >= cap) return;
    usize k = n < cap - at ? n : cap - at;
    __builtin_memcpy(out + at, src, k);
}

}  // namespace

void LogRing::drop_oldest() {
    if (first_seq_ == next_seq_) return;
    if (load16(buf_ + head_) == kWrapMarker) head_ = 0;
    head_ += record_size(load16(buf_ + head_));
    if (head_ == size_) head_ = 0;
    ++first_seq_;
    if (first_seq_ == next_seq_) head_ = tail_ = 0;
}

void LogRing::append(u8 level, u8 facility, u64 ts_ns, StringView text) {
    usize len = text.size();
    if (len > size_ / 4) len = size_ / 4;
    usize rs = record_size(len);
    for (;;) {
        if (first_seq_ == next_seq_) {
            head_ = tail_ = 0;
            break;
        }
        if (tail_ > head_) {
            if (size_ - tail_ >= rs) break;
            if (head_ >= rs) {
                store16(buf_ + tail_, kWrapMarker);
                tail_ = 0;
                break;
            }
        } else if (tail_ < head_) {
            if (head_ - tail_ >= rs) break;
        }
        // tail_ == head_ with records present: the ring is full.
        drop_oldest();
    }
    u8* p = buf_ + tail_;
    store16(p, static_cast<u16>(len));
    p[2] = level;
    p[3] = facility;
    __builtin_memset(p + 4, 0, 4);
    __builtin_memcpy(p + 8, &next_seq_, 8);
    __builtin_memcpy(p + 16, &ts_ns, 8);
    __builtin_memcpy(p + kHeader, text.data(), len);
    tail_ += rs;
    if (tail_ == size_) tail_ = 0;
    ++next_seq_;
}

usize LogRing::offset_of(u64 seq) const {
    usize off = head_;
    for (u64 s = first_seq_;; ++s) {
        if (load16(buf_ + off) == kWrapMarker) off = 0;
        if (s == seq) return off;
        off += record_size(load16(buf_ + off));
        if (off == size_) off = 0;
    }
}

bool LogRing::get(u64 seq, LogRecord& out) const {
    if (seq < first_seq_ || seq >= next_seq_) return false;
    const u8* p = buf_ + offset_of(seq);
    out.seq = seq;
    out.level = p[2];
    out.facility = p[3];
    __builtin_memcpy(&out.ts_ns, p + 16, 8);
    out.text = StringView(reinterpret_cast<const char*>(p + kHeader), load16(p));
    return true;
}

usize render_syslog(const LogRecord& r, char* out, usize cap) {
    char prefix[48];
    int n = format(prefix, sizeof(prefix), "<%u>[%5llu.%06llu] ", static_cast<unsigned>(r.facility * 8 + r.level),
                   static_cast<unsigned long long>(r.ts_ns / 1000000000),
                   static_cast<unsigned long long>(r.ts_ns % 1000000000 / 1000));
    usize at = static_cast<usize>(n);
    put(out, cap, 0, prefix, at);
    put(out, cap, at, r.text.data(), r.text.size());
    at += r.text.size();
    put(out, cap, at, "\n", 1);
    return at + 1;
}

usize render_kmsg(const LogRecord& r, char* out, usize cap) {
    char prefix[64];
    int n = format(prefix, sizeof(prefix), "%u,%llu,%llu,-;", static_cast<unsigned>(r.facility * 8 + r.level),
                   static_cast<unsigned long long>(r.seq), static_cast<unsigned long long>(r.ts_ns / 1000));
    usize at = static_cast<usize>(n);
    put(out, cap, 0, prefix, at);
    for (char c : r.text) {
        u8 b = static_cast<u8>(c);
        if (b < ' ' || b >= 127 || b == '\\') {
            char esc[5];
            format(esc, sizeof(esc), "\\x%02x", b);
            put(out, cap, at, esc, 4);
            at += 4;
        } else {
            put(out, cap, at, &c, 1);
            ++at;
        }
    }
    put(out, cap, at, "\n", 1);
    return at + 1;
}

}  // namespace keel
