// sendfile, splice, tee, vmsplice and copy_file_range. Data moves through a kernel
// bounce buffer rather than by sharing pages, which programs cannot tell
// apart; the rules about which ends must be pipes, offsets and errno order
// follow Linux 6.12.
#include <asm-generic/fcntl.h>
#include <linux/fs.h>

#include "fs/core/file.h"
#include "fs/core/superblock.h"
#include "fs/pipe.h"
#include "kernel/process/process.h"
#include "kernel/syscall/iovec.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "mm/slab.h"

namespace keel {

namespace {

constexpr u32 SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2, SPLICE_F_MORE = 4, SPLICE_F_GIFT = 8;
constexpr u32 SPLICE_F_ALL = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;
constexpr usize MAX_RW_COUNT = 0x7ffff000;
constexpr usize CHUNK = 65536;

fs::FileRef lookup(u64 fd) { return proc::current_process()->fds->get(static_cast<int>(fd)); }

bool can_read(fs::OpenFile& f) {
    fs::File* vf = f.vfs_file();
    return vf ? vf->readable() : (f.flags & O_ACCMODE) != O_WRONLY;
}

bool can_write(fs::OpenFile& f) {
    fs::File* vf = f.vfs_file();
    return vf ? vf->writable() : (f.flags & O_ACCMODE) != O_RDONLY;
}

bool is_pipe(fs::OpenFile& f) { return f.kind() == fs::FileKind::Pipe; }

// Event files and epoll have no splice operations in Linux.
bool spliceable(fs::OpenFile& f) {
    fs::FileKind k = f.kind();
    return k != fs::FileKind::EventFd && k != fs::FileKind::TimerFd && k != fs::FileKind::SignalFd &&
           k != fs::FileKind::Epoll;
}

class Bounce {
public:
    ~Bounce() { mm::kfree(p_); }
    Status alloc(usize n) {
        p_ = static_cast<u8*>(TRY(mm::kmalloc(max<usize>(n, 1))));
        return {};
    }
    IoBuffer io(usize n) const { return IoBuffer::kernel(p_, n); }
    u8* data() const { return p_; }

private:
    u8* p_ = nullptr;
};

// The position of a seekable file, read and set through lseek (VFS files
// keep theirs inside the VFS).
Result<u64> position_of(fs::OpenFile& f) { return f.seekable() ? f.lseek(0, SEEK_CUR) : Result<u64>(f.offset); }
void set_position(fs::OpenFile& f, u64 pos) {
    if (f.seekable()) (void)f.lseek(static_cast<i64>(pos), SEEK_SET);
    else f.offset = pos;
}

// A file to a pipe: at most what fits now (one wait for room).
Result<usize> file_to_pipe(fs::OpenFile& in, u64& pos, fs::OpenFile& pipe, usize len, bool nonblock) {
    usize room = TRY(fs::pipe_wait_room(pipe, nonblock));
    usize n = min(min(len, room), CHUNK);
    Bounce b;
    TRY(b.alloc(n));
    usize got = in.seekable() ? TRY(in.pread(b.io(n), pos)) : TRY(in.read(b.io(n), &in.offset));
    if (got == 0) return usize(0);
    usize put = TRY(pipe.write(b.io(got), nullptr));
    pos += put;
    return put;
}

// A pipe to a file at `pos` (the file's own position when null): what the
// pipe holds, up to len, after waiting for data once.
Result<usize> pipe_to_file(fs::OpenFile& pipe, fs::OpenFile& out, u64* pos, usize len, bool nonblock) {
    usize avail = TRY(fs::pipe_wait_data(pipe, nonblock));
    if (avail == 0) return usize(0);
    usize n = min(min(len, avail), CHUNK);
    Bounce b;
    TRY(b.alloc(n));
    n = TRY(fs::pipe_peek(pipe, b.io(n), 0));
    usize put;
    if (pos && out.seekable()) {
        put = TRY(out.pwrite(b.io(n), *pos));
        *pos += put;
    } else {
        put = TRY(out.write(b.io(n), &out.offset));
    }
    fs::pipe_consume(pipe, put);
    return put;
}

// Pipe to pipe; tee leaves the input in place.
Result<usize> pipe_to_pipe(fs::OpenFile& in, fs::OpenFile& out, usize len, bool nonblock, bool consume) {
    usize avail = TRY(fs::pipe_wait_data(in, nonblock));
    if (avail == 0) return usize(0);
    usize room = TRY(fs::pipe_wait_room(out, nonblock));
    usize n = min(min(min(len, avail), room), CHUNK);
    Bounce b;
    TRY(b.alloc(n));
    n = TRY(fs::pipe_peek(in, b.io(n), 0));
    usize put = TRY(out.write(b.io(n), nullptr));
    if (consume) fs::pipe_consume(in, put);
    return put;
}

// File to file (sendfile to a non-pipe): until len or end of file.
Result<usize> file_to_file(fs::OpenFile& in, u64& pos, fs::OpenFile& out, usize len) {
    Bounce b;
    TRY(b.alloc(min(len, CHUNK)));
    bool out_seekable = out.seekable();
    u64 out_pos = out_seekable ? TRY(position_of(out)) : 0;
    usize done = 0;
    while (done < len) {
        usize n = min(len - done, CHUNK);
        auto got = in.pread(b.io(n), pos);
        if (got.is_error()) {
            if (done) break;
            return got.error();
        }
        if (got.value() == 0) break;
        auto put = out_seekable ? out.pwrite(b.io(got.value()), out_pos) : out.write(b.io(got.value()), &out.offset);
        if (put.is_error()) {
            if (done) break;
            return put.error();
        }
        pos += put.value();
        out_pos += put.value();
        done += put.value();
        if (put.value() < got.value()) break;
    }
    if (out_seekable) set_position(out, out_pos);
    return done;
}

}  // namespace

SYSCALL(sendfile) {
    uptr uoff = args.a2;
    i64 pos = 0;
    if (uoff) pos = TRY(UserIn<i64>(uoff).read());
    fs::FileRef in = lookup(args.a1);
    if (!in || !can_read(*in)) return Error(EBADF);
    if (uoff && !in->seekable()) return Error(ESPIPE);
    if (!uoff) pos = static_cast<i64>(TRY(position_of(*in)));
    if (pos < 0) return Error(EINVAL);
    usize count = min<usize>(args.a3, MAX_RW_COUNT);
    fs::FileRef out = lookup(args.a0);
    if (!out || !can_write(*out)) return Error(EBADF);
    // The input must read at an offset (splice_read in Linux).
    if (!in->seekable() || is_pipe(*in) || !spliceable(*out)) return Error(EINVAL);
    if (!is_pipe(*out) && (out->flags & O_APPEND)) return Error(EINVAL);
    u64 upos = static_cast<u64>(pos);
    auto r = is_pipe(*out) ? file_to_pipe(*in, upos, *out, count, out->flags & O_NONBLOCK)
                           : file_to_file(*in, upos, *out, count);
    if (!uoff && r.is_ok()) set_position(*in, upos);
    if (r.is_error()) return r.error();
    usize n = r.value();
    if (uoff) TRY(UserOut<i64>(uoff).write(static_cast<i64>(upos)));
    return n;
}

SYSCALL(splice) {
    int fd_in = static_cast<int>(args.a0), fd_out = static_cast<int>(args.a2);
    uptr uoff_in = args.a1, uoff_out = args.a3;
    usize len = args.a4;
    u32 flags = static_cast<u32>(args.a5);
    if (!len) return 0;
    if (flags & ~SPLICE_F_ALL) return Error(EINVAL);
    fs::FileRef in = lookup(fd_in);
    fs::FileRef out = lookup(fd_out);
    if (!in || !out) return Error(EBADF);
    bool ipipe = is_pipe(*in), opipe = is_pipe(*out);
    if ((ipipe && uoff_in) || (opipe && uoff_out)) return Error(ESPIPE);
    i64 off_in = 0, off_out = 0;
    if (uoff_out) off_out = TRY(UserIn<i64>(uoff_out).read());
    if (uoff_in) off_in = TRY(UserIn<i64>(uoff_in).read());
    if (!can_read(*in) || !can_write(*out)) return Error(EBADF);
    bool nonblock = flags & SPLICE_F_NONBLOCK;
    len = min(len, MAX_RW_COUNT);
    if (ipipe && opipe) {
        if (fs::pipe_same(*in, *out)) return Error(EINVAL);
        if ((in->flags | out->flags) & O_NONBLOCK) nonblock = true;
        return TRY(pipe_to_pipe(*in, *out, len, nonblock, true));
    }
    if (ipipe) {
        if (uoff_out && !out->seekable()) return Error(EINVAL);
        if ((out->flags & O_APPEND) || !spliceable(*out)) return Error(EINVAL);
        if (uoff_out && off_out < 0) return Error(EINVAL);
        if (in->flags & O_NONBLOCK) nonblock = true;
        u64 pos = uoff_out ? static_cast<u64>(off_out) : 0;
        bool own = !uoff_out && out->seekable();
        if (own) pos = TRY(position_of(*out));
        usize n = TRY(pipe_to_file(*in, *out, (uoff_out || own) ? &pos : nullptr, len, nonblock));
        if (own) set_position(*out, pos);
        if (uoff_out) TRY(UserOut<i64>(uoff_out).write(static_cast<i64>(pos)));
        return n;
    }
    if (opipe) {
        if (uoff_in && !in->seekable()) return Error(EINVAL);
        if (!spliceable(*in)) return Error(EINVAL);
        if (uoff_in && off_in < 0) return Error(EINVAL);
        if (out->flags & O_NONBLOCK) nonblock = true;
        u64 pos = uoff_in ? static_cast<u64>(off_in) : TRY(position_of(*in));
        usize n = TRY(file_to_pipe(*in, pos, *out, len, nonblock));
        if (uoff_in) TRY(UserOut<i64>(uoff_in).write(static_cast<i64>(pos)));
        else if (in->seekable()) set_position(*in, pos);
        return n;
    }
    return Error(EINVAL);
}

SYSCALL(tee) {
    u32 flags = static_cast<u32>(args.a3);
    if (flags & ~SPLICE_F_ALL) return Error(EINVAL);
    usize len = args.a2;
    if (!len) return 0;
    fs::FileRef in = lookup(args.a0);
    if (!in) return Error(EBADF);
    fs::FileRef out = lookup(args.a1);
    if (!out) return Error(EBADF);
    if (!can_read(*in) || !can_write(*out)) return Error(EBADF);
    if (!is_pipe(*in) || !is_pipe(*out) || fs::pipe_same(*in, *out)) return Error(EINVAL);
    bool nonblock = (flags & SPLICE_F_NONBLOCK) || ((in->flags | out->flags) & O_NONBLOCK);
    return TRY(pipe_to_pipe(*in, *out, min(len, MAX_RW_COUNT), nonblock, false));
}

// vmsplice: user memory into a pipe's write end (what fits, after one
// wait for room) or out of its read end (what it holds, after one wait
// for data). Pages are copied, not gifted.
SYSCALL(vmsplice) {
    u32 flags = static_cast<u32>(args.a3);
    if (flags & ~SPLICE_F_ALL) return Error(EINVAL);
    fs::FileRef f = lookup(args.a0);
    if (!f) return Error(EBADF);
    bool write = can_write(*f);
    if (!write && !can_read(*f)) return Error(EBADF);
    IoVecs iov;
    TRY(iov.import(args.a1, args.a2));
    if (iov.total() == 0) return 0;
    if (!is_pipe(*f)) return Error(EBADF);
    bool nonblock = flags & SPLICE_F_NONBLOCK;
    Bounce b;
    if (write) {
        usize room = TRY(fs::pipe_wait_room(*f, nonblock));
        usize n = min(min(iov.total(), room), CHUNK);
        TRY(b.alloc(n));
        TRY(iov.gather(b.data(), 0, n));
        return TRY(f->write(b.io(n), nullptr));
    }
    usize avail = TRY(fs::pipe_wait_data(*f, nonblock));
    if (avail == 0) return 0;
    usize n = min(min(iov.total(), avail), CHUNK);
    TRY(b.alloc(n));
    n = TRY(fs::pipe_peek(*f, b.io(n), 0));
    TRY(iov.scatter(b.data(), n));
    fs::pipe_consume(*f, n);
    return n;
}

SYSCALL(copy_file_range) {
    fs::FileRef in = lookup(args.a0);
    if (!in) return Error(EBADF);
    fs::FileRef out = lookup(args.a2);
    if (!out) return Error(EBADF);
    uptr uoff_in = args.a1, uoff_out = args.a3;
    i64 pos_in = uoff_in ? TRY(UserIn<i64>(uoff_in).read()) : static_cast<i64>(TRY(position_of(*in)));
    i64 pos_out = uoff_out ? TRY(UserIn<i64>(uoff_out).read()) : static_cast<i64>(TRY(position_of(*out)));
    if (args.a5) return Error(EINVAL);
    usize len = args.a4;
    fs::File* vin = in->vfs_file();
    fs::File* vout = out->vfs_file();
    if ((vin && vin->inode().is_dir()) || (vout && vout->inode().is_dir())) return Error(EISDIR);
    if (!vin || !vout || !vin->inode().is_reg() || !vout->inode().is_reg()) return Error(EINVAL);
    if (!vin->readable() || !vout->writable() || (vout->flags() & O_APPEND)) return Error(EBADF);
    // tmpfs has no copy_file_range of its own: no copies across file systems.
    if (&vin->inode().sb() != &vout->inode().sb()) return Error(EXDEV);
    if (static_cast<u64>(pos_in) + len < static_cast<u64>(pos_in) ||
        static_cast<u64>(pos_out) + len < static_cast<u64>(pos_out))
        return Error(EOVERFLOW);
    // Shortened to the end of the input.
    u64 size_in = vin->inode().attr().size;
    u64 start = static_cast<u64>(pos_in);
    len = start >= size_in ? 0 : min<u64>(len, size_in - start);
    if (&vin->inode() == &vout->inode() && pos_out + static_cast<i64>(len) > pos_in &&
        pos_out < pos_in + static_cast<i64>(len))
        return Error(EINVAL);
    if (pos_in < 0 || pos_out < 0) return Error(EINVAL);
    if (len == 0) return 0;
    len = min(len, MAX_RW_COUNT);
    u64 pin = static_cast<u64>(pos_in), pout = static_cast<u64>(pos_out);
    Bounce b;
    TRY(b.alloc(min(len, CHUNK)));
    usize done = 0;
    while (done < len) {
        usize n = min(len - done, CHUNK);
        auto got = in->pread(b.io(n), pin + done);
        if (got.is_error()) {
            if (done) break;
            return got.error();
        }
        if (got.value() == 0) break;
        auto put = out->pwrite(b.io(got.value()), pout + done);
        if (put.is_error()) {
            if (done) break;
            return put.error();
        }
        done += put.value();
        if (put.value() < got.value()) break;
    }
    if (done) {
        if (uoff_in) TRY(UserOut<i64>(uoff_in).write(static_cast<i64>(pin + done)));
        else set_position(*in, pin + done);
        if (uoff_out) TRY(UserOut<i64>(uoff_out).write(static_cast<i64>(pout + done)));
        else set_position(*out, pout + done);
    }
    return done;
}

}  // namespace keel
