// read, write and their vector forms.
#include <linux/uio.h>

#include "fs/core/file.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

Result<fs::OpenFile*> file_for(u64 fd) {
    fs::OpenFile* f = proc::current_process()->fds->get(static_cast<int>(fd));
    if (!f) return Error(EBADF);
    return f;
}

// Descriptors onto nodes (files, devices) carry the access mode the open
// granted; anonymous files (pipe ends) refuse the wrong direction
// themselves.
Result<fs::OpenFile*> readable_file(u64 fd) {
    fs::OpenFile* f = TRY(file_for(fd));
    fs::File* vf = f->vfs_file();
    if (vf && !vf->readable()) return Error(EBADF);
    return f;
}

Result<fs::OpenFile*> writable_file(u64 fd) {
    fs::OpenFile* f = TRY(file_for(fd));
    fs::File* vf = f->vfs_file();
    if (vf && !vf->writable()) return Error(EBADF);
    return f;
}

// Linux caps a single transfer at 2 GiB - 4 KiB (MAX_RW_COUNT).
constexpr usize MAX_RW_COUNT = 0x7ffff000;

}  // namespace

SYSCALL(write) {
    fs::OpenFile* f = TRY(writable_file(args.a0));
    usize n = min<usize>(args.a2, MAX_RW_COUNT);
    return TRY(f->write(IoBuffer::user(args.a1, n), &f->offset));
}

SYSCALL(read) {
    fs::OpenFile* f = TRY(readable_file(args.a0));
    usize n = min<usize>(args.a2, MAX_RW_COUNT);
    return TRY(f->read(IoBuffer::user(args.a1, n), &f->offset));
}

SYSCALL(writev) {
    fs::OpenFile* f = TRY(writable_file(args.a0));
    u64 count = args.a2;
    if (count > UIO_MAXIOV) return Error(EINVAL);
    usize total = 0;
    for (u64 i = 0; i < count; ++i) {
        iovec v = TRY(UserIn<iovec>(args.a1).offset(i).read());
        usize len = min<usize>(reinterpret_cast<usize>(v.iov_len), MAX_RW_COUNT - total);
        if (len == 0) continue;
        auto r = f->write(IoBuffer::user(reinterpret_cast<uptr>(v.iov_base), len), &f->offset);
        if (r.is_error()) {
            if (total) break;  // report what was written before the error
            return r.error();
        }
        total += r.value();
        if (r.value() < len) break;
    }
    return total;
}

}  // namespace keel
