// The kernel log's storage: a ring of records (sequence number, level,
// facility, timestamp, text) in a fixed buffer. Old records are dropped
// whole when new ones need room, so a reader holding a sequence number can
// tell it fell behind (/dev/kmsg's EPIPE). No locking: the owner (printk)
// serialises access. Portable and host-tested.
#pragma once

#include "lib/string_view.h"
#include "lib/types.h"

namespace keel {

struct LogRecord {
    u64 seq = 0;
    u64 ts_ns = 0;
    u8 level = 0;     // 0..7, as printk levels
    u8 facility = 0;  // 0 kernel, 1 user (writes to /dev/kmsg)
    StringView text;  // points into the ring: valid until the next append
};

class LogRing {
public:
    // `buf` of `size` bytes (at least 64) holds the records.
    LogRing(u8* buf, usize size) : buf_(buf), size_(size) {}

    // Appends a record; text longer than a quarter of the buffer is cut.
    void append(u8 level, u8 facility, u64 ts_ns, StringView text);

    // The oldest record still held, and the one the next append gets.
    u64 first_seq() const { return first_seq_; }
    u64 next_seq() const { return next_seq_; }

    // Record `seq`, if still held.
    bool get(u64 seq, LogRecord& out) const;

    // Bytes the records from `seq` on take when rendered by `render`.
    template <typename Render>
    usize rendered_size(u64 seq, Render render) const {
        usize n = 0;
        LogRecord r;
        for (u64 s = seq < first_seq_ ? first_seq_ : seq; s < next_seq_ && get(s, r); ++s) n += render(r, nullptr, 0);
        return n;
    }

private:
    // Record layout at offset off: u16 text length, u8 level, u8 facility,
    // u32 pad, u64 seq, u64 ts_ns, text, padded to 8 bytes. A u16 length
    // of 0xffff marks "wrap to the start".
    static constexpr usize kHeader = 24;
    static usize record_size(usize text) { return (kHeader + text + 7) & ~usize{7}; }
    void drop_oldest();
    usize offset_of(u64 seq) const;

    u8* buf_;
    usize size_;
    usize head_ = 0;  // where the oldest record starts
    usize tail_ = 0;  // where the next record goes
    u64 first_seq_ = 0;
    u64 next_seq_ = 0;
};

// Renders a record as syslog(2)'s READ_ALL lines: "<L>[sssss.uuuuuu] text\n".
// Returns the full length; writes at most `cap` bytes to out (may be null).
usize render_syslog(const LogRecord& r, char* out, usize cap);
// Renders a record as /dev/kmsg does: "P,SEQ,USEC,-;text\n" with
// P = facility * 8 + level; non-printable bytes as \xNN.
usize render_kmsg(const LogRecord& r, char* out, usize cap);

}  // namespace keel
