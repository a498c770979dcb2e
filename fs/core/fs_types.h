// Small value types and constants shared by the whole VFS core: timestamps
// and the clock, credentials, permission masks, device numbers, directory
// entry types and the I/O buffer abstraction.
#pragma once

#include <linux/capability.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <linux/stat.h>
#if defined(KEEL_HOST) && !defined(S_IFMT)
// With a libc present the uapi header leaves S_IF* and friends to it.
#include <sys/stat.h>
#endif

#include "lib/result.h"
#include "lib/string_view.h"

namespace keel::fs {

// ---- Time -------------------------------------------------------------

struct Timespec {
    i64 sec = 0;
    i64 nsec = 0;
    constexpr bool operator==(const Timespec&) const = default;
};

constexpr int compare(const Timespec& a, const Timespec& b) {
    if (a.sec != b.sec) return a.sec < b.sec ? -1 : 1;
    if (a.nsec != b.nsec) return a.nsec < b.nsec ? -1 : 1;
    return 0;
}

// The kernel installs its wall clock; until then (and in tests that do not
// care) every timestamp is zero.
using ClockFn = Timespec (*)();
void set_clock(ClockFn fn);
Timespec current_time();

// utimensat(2) special nanosecond values. They are ABI but live in a
// kernel-internal header, not in the uapi set (libc defines the same
// macros, spelled the same way, on the host).
#ifndef UTIME_NOW
#define UTIME_NOW ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)
#endif

// ---- Credentials --------------------------------------------------------

// What the file system needs to know about the caller. File access uses
// the fs ids (fsuid/fsgid), which the process layer keeps equal to the
// effective ids unless setfsuid(2) says otherwise.
struct Cred {
    u32 fsuid = 0;
    u32 fsgid = 0;
    const u32* groups = nullptr;  // supplementary groups, any order
    u32 ngroups = 0;
    u64 caps = 0;                 // effective capabilities, bit CAP_x
    u64 fsize_limit = ~0ull;      // RLIMIT_FSIZE: regular files do not grow past it (EFBIG)

    bool capable(int cap) const { return (caps >> cap) & 1; }
    bool in_group(u32 gid) const {
        if (gid == fsgid) return true;
        for (u32 i = 0; i < ngroups; ++i)
            if (groups[i] == gid) return true;
        return false;
    }

    static constexpr u64 ALL_CAPS = ~0ull;
    static Cred root() { return Cred{0, 0, nullptr, 0, ALL_CAPS}; }
    static Cred user(u32 uid, u32 gid) { return Cred{uid, gid, nullptr, 0, 0}; }
};

// Permission request bits (kernel-internal values, not ABI).
constexpr int MAY_EXEC = 1;
constexpr int MAY_WRITE = 2;
constexpr int MAY_READ = 4;
constexpr int MAY_APPEND = 8;
constexpr int MAY_ACCESS = 16;
constexpr int MAY_OPEN = 32;
constexpr int MAY_CHDIR = 64;

// ---- Device numbers ---------------------------------------------------

// A device number as the kernel keeps it (Linux's dev_t): 12-bit major,
// 20-bit minor.
using DevId = u32;
constexpr DevId make_dev(u32 major, u32 minor) { return (major << 20) | (minor & 0xfffff); }
constexpr u32 dev_major(DevId d) { return d >> 20; }
constexpr u32 dev_minor(DevId d) { return d & 0xfffff; }
// The encoding user space sees in stat's st_dev/st_rdev and passes to
// mknod(2): minor bits 0-7 and 20-31, major bits 8-19.
constexpr u32 encode_dev(DevId d) {
    return (dev_minor(d) & 0xff) | (dev_major(d) << 8) | ((dev_minor(d) & ~0xffu) << 12);
}
constexpr DevId decode_dev(u32 v) {
    return make_dev((v & 0xfff00) >> 8, (v & 0xff) | ((v >> 12) & 0xfff00));
}
// A character device 0:0 is a whiteout (overlay/union file systems).
constexpr DevId WHITEOUT_DEV = 0;

// ---- Directory entries and types -------------------------------------

// getdents64 d_type values: the S_IFMT bits shifted down (ABI, but libc's
// <dirent.h> defines them, not the uapi headers).
constexpr u8 DT_UNKNOWN = 0;
constexpr u8 DT_FIFO = 1;
constexpr u8 DT_CHR = 2;
constexpr u8 DT_DIR = 4;
constexpr u8 DT_BLK = 6;
constexpr u8 DT_REG = 8;
constexpr u8 DT_LNK = 10;
constexpr u8 DT_SOCK = 12;
constexpr u8 DT_WHT = 14;
constexpr u8 dtype_of(u32 mode) { return static_cast<u8>((mode & S_IFMT) >> 12); }

constexpr u32 S_IALLUGO = S_ISUID | S_ISGID | S_ISVTX | 0777;

// ---- Limits -----------------------------------------------------------

// Symbolic links followed in one resolution. Since Linux 4.2 this is also
// the only nesting limit (path_resolution(7)).
constexpr u32 MAXSYMLINKS = 40;
// Largest file offset on 64-bit Linux (MAX_LFS_FILESIZE).
constexpr u64 MAX_LFS_FILESIZE = 0x7fffffffffffffffull;

// ---- I/O buffers ------------------------------------------------------

// Where read(2) data goes and write(2) data comes from. The syscall layer
// implements it over user memory (an adapter around kernel/uaccess.h's
// IoBuffer, which this portable code cannot include), where a copy can
// fault part-way: the copy functions return how many bytes they moved, and
// the file code turns a short copy into "partial success" or EFAULT as
// Linux does. File data is copied with the inode's lock held: an adapter
// over user memory must not let a page fault into an mmap of the same
// file (which needs that lock) happen inside the copy - copy with faults
// disabled and retry after faulting the pages in, as Linux does.
class DataBuffer {
public:
    explicit DataBuffer(usize size) : size_(size) {}
    usize size() const { return size_; }
    // Copies n bytes from src into the buffer at offset `at`.
    virtual usize copy_out(usize at, const void* src, usize n) = 0;
    // Copies n bytes from the buffer at offset `at` into dst.
    virtual usize copy_in(usize at, void* dst, usize n) = 0;
    // Zero-fills n bytes at `at` (holes); defaults to copy_out of zeros.
    virtual usize zero(usize at, usize n);

protected:
    ~DataBuffer() = default;
    usize size_;
};

// A DataBuffer over kernel memory (never faults).
class KernelDataBuffer final : public DataBuffer {
public:
    KernelDataBuffer(void* data, usize size) : DataBuffer(size), data_(static_cast<u8*>(data)) {}
    KernelDataBuffer(const void* data, usize size)
        : DataBuffer(size), data_(const_cast<u8*>(static_cast<const u8*>(data))) {}
    usize copy_out(usize at, const void* src, usize n) override;
    usize copy_in(usize at, void* dst, usize n) override;
    usize zero(usize at, usize n) override;

private:
    u8* data_;
};

}  // namespace keel::fs
