// A growable text buffer for generated files (procfs, sysfs): a read
// builds the whole text of the file and copies out the window asked for,
// as Linux's seq_file does for small files. Portable and host-tested,
// together with the number formats several /proc files share.
#pragma once

#include <stdarg.h>

#include "fs/core/fs_types.h"
#include "lib/string_view.h"

namespace keel::fs {

class SeqBuf {
public:
    // Files longer than this are cut short (a process with a huge number
    // of mappings); Linux has no limit, but nothing Keel runs comes close.
    static constexpr usize MAX_SIZE = 4 * 1024 * 1024;

    SeqBuf() = default;
    ~SeqBuf();
    SeqBuf(const SeqBuf&) = delete;
    SeqBuf& operator=(const SeqBuf&) = delete;

    void printf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    void vprintf(const char* fmt, va_list ap) __attribute__((format(printf, 2, 0)));
    void puts(StringView s);
    void putc(char c) { puts(StringView(&c, 1)); }
    // `n` bytes exactly (NULs included: cmdline, environ).
    void write(const void* data, usize n) { puts(StringView(static_cast<const char*>(data), n)); }
    // Escapes space, tab, newline and backslash as \ooo (mount points and
    // sources in /proc/mounts, as Linux's mangle()).
    void put_escaped(StringView s, StringView chars = " \t\n\\");
    // Drops everything after the first `n` bytes.
    void truncate(usize n) {
        if (n < len_) len_ = n;
    }

    StringView view() const { return StringView(data_, len_); }
    usize size() const { return len_; }
    // ENOMEM when an allocation failed (the text is then incomplete).
    Status status() const { return failed_ ? Status(Error(ENOMEM)) : Status(); }

    // Copies [off, off + n) of the text into out[at..]; returns the count
    // (0 at or past the end), or ENOMEM when the text could not be built.
    Result<usize> copy_window(u64 off, DataBuffer& out, usize at, usize n) const;

private:
    bool reserve(usize extra);

    char* data_ = nullptr;
    usize len_ = 0;
    usize cap_ = 0;
    bool failed_ = false;
};

// "0-3,5,7-8": a set of small numbers (CPUs) as Linux prints cpu lists.
void put_cpu_list(SeqBuf& s, u64 mask);
// "3" / "ff" / "ffffffff,ffffffff": the first `nbits` bits of mask in hex
// as /proc/<pid>/status's Cpus_allowed (32-bit groups, comma-separated;
// the top group as wide as its bits need).
void put_cpu_mask(SeqBuf& s, u64 mask, u32 nbits);
// "%8lu kB" style line of /proc/meminfo: "Name:" padded to 16 columns with
// the number right-aligned.
void put_meminfo_line(SeqBuf& s, StringView name, u64 kib);
// A UUID from 16 random bytes, version 4 (/proc/sys/kernel/random/uuid).
void put_uuid(SeqBuf& s, const u8 (&bytes)[16]);

}  // namespace keel::fs
