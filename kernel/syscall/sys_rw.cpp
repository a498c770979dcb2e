// read, write and their vector forms: readv/writev, preadv/pwritev and
// preadv2/pwritev2 with RWF_* flags.
#include <asm-generic/fcntl.h>
#include <linux/fs.h>
#include <linux/uio.h>

#include "fs/core/file.h"
#include "kernel/process/process.h"
#include "kernel/syscall/iovec.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "mm/slab.h"

namespace keel {

namespace {

Result<fs::FileRef> file_for(u64 fd) {
    fs::FileRef f = proc::current_process()->fds->get(static_cast<int>(fd));
    if (!f) return Error(EBADF);
    return f;
}

// Descriptors onto nodes (files, devices) carry the access mode the open
// granted; anonymous files (pipe ends) refuse the wrong direction
// themselves.
Result<fs::FileRef> readable_file(u64 fd) {
    fs::FileRef f = TRY(file_for(fd));
    fs::File* vf = f->vfs_file();
    if (vf && !vf->readable()) return Error(EBADF);
    return f;
}

Result<fs::FileRef> writable_file(u64 fd) {
    fs::FileRef f = TRY(file_for(fd));
    fs::File* vf = f->vfs_file();
    if (vf && !vf->writable()) return Error(EBADF);
    return f;
}

// Linux caps a single transfer at 2 GiB - 4 KiB (MAX_RW_COUNT).
constexpr usize MAX_RW_COUNT = 0x7ffff000;

}  // namespace

SYSCALL(write) {
    fs::FileRef f = TRY(writable_file(args.a0));
    usize n = min<usize>(args.a2, MAX_RW_COUNT);
    return TRY(f->write(IoBuffer::user(args.a1, n), &f->offset));
}

SYSCALL(read) {
    fs::FileRef f = TRY(readable_file(args.a0));
    usize n = min<usize>(args.a2, MAX_RW_COUNT);
    return TRY(f->read(IoBuffer::user(args.a1, n), &f->offset));
}

namespace {

// Flags of preadv2/pwritev2 newer than the uapi headers Keel builds with.
constexpr u32 RWF_NOAPPEND_ = 0x20;
constexpr u32 RWF_ATOMIC_ = 0x40;
constexpr u32 RWF_ALL = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND | RWF_NOAPPEND_ | RWF_ATOMIC_;

// Bounce buffer size for descriptors without a position (pipes...), which
// are read or written in one call so that a pipe read does not block
// between segments and small pipe writes stay atomic.
constexpr usize BOUNCE = 65536;

// A file without a position, read or written in one call.
Result<usize> bounced(fs::OpenFile& f, const IoVecs& iov, bool write) {
    usize n = min(iov.total(), BOUNCE);
    u8* k = static_cast<u8*>(TRY(mm::kmalloc(n)));
    auto once = [&]() -> Result<usize> {
        if (write) {
            TRY(iov.gather(k, 0, n));
            return f.write(IoBuffer::kernel(k, n), &f.offset);
        }
        usize got = TRY(f.read(IoBuffer::kernel(k, n), &f.offset));
        TRY(iov.scatter(k, got));
        return got;
    };
    auto r = once();
    mm::kfree(k);
    return r;
}

Result<usize> one_segment(fs::OpenFile& f, const IoBuffer& seg, const u64* pos, bool write) {
    if (pos) return write ? f.pwrite(seg, *pos) : f.pread(seg, *pos);
    return write ? f.write(seg, &f.offset) : f.read(seg, &f.offset);
}

// The position a transfer uses: an explicit offset (preadv) or the
// file's own (readv; pos == nullptr).
Result<usize> transfer(fs::OpenFile& f, const IoVecs& iov, const u64* pos, bool write) {
    // Without a position, one call through a bounce buffer.
    if (!pos && !f.seekable()) return bounced(f, iov, write);
    usize total = 0;
    for (u64 i = 0; i < iov.count(); ++i) {
        IoBuffer seg = iov.segment(i);
        if (seg.size() == 0) continue;
        u64 at = pos ? *pos + total : 0;
        auto r = one_segment(f, seg, pos ? &at : nullptr, write);
        if (r.is_error()) {
            if (total) break;  // report what moved before the error
            return r.error();
        }
        total += r.value();
        if (r.value() < seg.size()) break;
    }
    return total;
}

bool nowait_capable(fs::OpenFile& f) {
    fs::FileKind k = f.kind();
    // tmpfs files refuse RWF_NOWAIT (no FMODE_NOWAIT) in Linux 6.12.
    return k == fs::FileKind::Pipe || k == fs::FileKind::EventFd;
}

// RWF_* as Linux's kiocb_set_rw_flags checks them (only for a non-empty
// transfer).
Status check_rwf(fs::OpenFile& f, u32 flags, bool write) {
    if (flags & ~RWF_ALL) return Error(EOPNOTSUPP);
    if ((flags & RWF_APPEND) && (flags & RWF_NOAPPEND_)) return Error(EINVAL);
    if ((flags & RWF_NOWAIT) && !nowait_capable(f)) return Error(EOPNOTSUPP);
    if (flags & RWF_ATOMIC_) return Error(EOPNOTSUPP);  // no file here supports atomic writes
    (void)write;
    return {};
}

// RWF_NOWAIT on files that can block (pipes, event files): nothing
// transfers unless the file is ready now.
bool would_block(fs::OpenFile& f, bool write) {
    if (f.kind() == fs::FileKind::Vfs) return false;
    return !(f.poll(nullptr) & (write ? 0x4u : 0x1u));  // POLLOUT, POLLIN
}

Result<u64> vectored(u64 fd, uptr uvec, u64 count, const u64* pos, u32 flags, bool write) {
    fs::FileRef f = TRY(write ? writable_file(fd) : readable_file(fd));
    if (pos && !f->seekable()) return Error(ESPIPE);
    IoVecs iov;
    TRY(iov.import(uvec, count));
    if (iov.total() == 0) return 0;
    TRY(check_rwf(*f, flags, write));
    if ((flags & RWF_NOWAIT) && would_block(*f, write)) return Error(EAGAIN);
    fs::File* vf = f->vfs_file();
    u32 append = O_APPEND;
    if (!write || !vf || !(flags & (RWF_APPEND | RWF_NOAPPEND_))) return TRY(transfer(*f, iov, pos, write));
    // RWF_APPEND / RWF_NOAPPEND override O_APPEND for this call only.
    u32 saved = vf->flags();
    vf->set_flags((flags & RWF_APPEND) ? (saved | append) : (saved & ~append));
    auto r = transfer(*f, iov, pos, write);
    vf->set_flags((vf->flags() & ~append) | (saved & append));
    if (r.is_error()) return r.error();
    return r.value();
}

// preadv/pwritev pass the offset in two registers; on x86-64 the low one
// holds all of it.
Result<u64> offset_arg(u64 lo) {
    if (static_cast<i64>(lo) < 0) return Error(EINVAL);
    return lo;
}

}  // namespace

SYSCALL(readv) { return vectored(args.a0, args.a1, args.a2, nullptr, 0, false); }
SYSCALL(writev) { return vectored(args.a0, args.a1, args.a2, nullptr, 0, true); }

SYSCALL(preadv) {
    u64 pos = TRY(offset_arg(args.a3));
    return vectored(args.a0, args.a1, args.a2, &pos, 0, false);
}

SYSCALL(pwritev) {
    u64 pos = TRY(offset_arg(args.a3));
    return vectored(args.a0, args.a1, args.a2, &pos, 0, true);
}

// An offset of -1 means the file position, as readv/writev.
SYSCALL(preadv2) {
    u32 flags = static_cast<u32>(args.a5);
    if (static_cast<i64>(args.a3) == -1) return vectored(args.a0, args.a1, args.a2, nullptr, flags, false);
    u64 pos = TRY(offset_arg(args.a3));
    return vectored(args.a0, args.a1, args.a2, &pos, flags, false);
}

SYSCALL(pwritev2) {
    u32 flags = static_cast<u32>(args.a5);
    if (static_cast<i64>(args.a3) == -1) return vectored(args.a0, args.a1, args.a2, nullptr, flags, true);
    u64 pos = TRY(offset_arg(args.a3));
    return vectored(args.a0, args.a1, args.a2, &pos, flags, true);
}

}  // namespace keel
