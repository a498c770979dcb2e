#include "fs/pipe.h"

#include <asm-generic/fcntl.h>
#include <asm-generic/ioctls.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/stat.h>

#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"
#include "mm/slab.h"

namespace keel::fs {

namespace {

constexpr usize PIPE_BUF = 4096;
constexpr usize DEFAULT_SIZE = 16 * 4096;
constexpr usize MAX_SIZE = 1048576;  // /proc/sys/fs/pipe-max-size

struct Pipe {
    sched::WaitQueue readable;  // waiters for data (or EOF)
    sched::WaitQueue writable;  // waiters for room (or no readers)
    sched::Mutex lock;          // guards everything below
    u8* buf = nullptr;
    usize capacity = DEFAULT_SIZE;
    usize head = 0;  // next byte to read
    usize count = 0;
    int readers = 1;
    int writers = 1;
    u64 ino = 0;
    // Ends not yet released: the last one frees the pipe once its wake-ups
    // are done (the other end may be released at the same time).
    u32 ends = 2;

    usize room() const { return capacity - count; }
};

u64 next_ino = 1;

class PipeEnd final : public OpenFile {
public:
    PipeEnd(Pipe* p, bool write_end) : pipe_(p), write_end_(write_end) {}
    FileKind kind() const override { return FileKind::Pipe; }

    Pipe* pipe() const { return pipe_; }
    bool write_end() const { return write_end_; }

    Result<usize> read(const IoBuffer& out, u64*) override {
        if (write_end_) return Error(EBADF);
        if (out.size() == 0) return 0;
        Pipe& p = *pipe_;
        for (;;) {
            {
                sched::MutexGuard g(p.lock);
                if (p.count > 0) {
                    usize n = min(out.size(), p.count);
                    usize first = min(n, p.capacity - p.head);
                    Status st = out.write_to(0, p.buf + p.head, first);
                    if (st.is_ok() && n > first) st = out.write_to(first, p.buf, n - first);
                    if (st.is_error()) return st.error();
                    p.head = (p.head + n) % p.capacity;
                    p.count -= n;
                    p.writable.wake_all();
                    return n;
                }
                if (p.writers == 0) return 0;  // EOF
                if (flags & O_NONBLOCK) return Error(EAGAIN);
            }
            if (!p.readable.wait_until_interruptible([&] {
                    return __atomic_load_n(&p.count, __ATOMIC_ACQUIRE) > 0 ||
                           __atomic_load_n(&p.writers, __ATOMIC_ACQUIRE) == 0;
                }))
                return Error(sig::ERESTARTSYS);
        }
    }

    Result<usize> write(const IoBuffer& in, u64*) override {
        if (!write_end_) return Error(EBADF);
        Pipe& p = *pipe_;
        usize total = in.size();
        usize done = 0;
        bool atomic = total <= PIPE_BUF;
        while (done < total || total == 0) {
            {
                sched::MutexGuard g(p.lock);
                if (p.readers == 0) {
                    if (done) return done;
                    (void)sig::send_to_thread(*sched::current(), SIGPIPE, nullptr);
                    return Error(EPIPE);
                }
                if (total == 0) return 0;
                usize want = total - done;
                // An atomic write waits until all of it fits.
                if (p.room() > 0 && (!atomic || p.room() >= want)) {
                    usize n = min(want, p.room());
                    usize tail = (p.head + p.count) % p.capacity;
                    usize first = min(n, p.capacity - tail);
                    Status st = in.read_from(done, p.buf + tail, first);
                    if (st.is_ok() && n > first) st = in.read_from(done + first, p.buf, n - first);
                    if (st.is_error()) return done ? Result<usize>(done) : Result<usize>(st.error());
                    p.count += n;
                    done += n;
                    p.readable.wake_all();
                    continue;
                }
                if (flags & O_NONBLOCK) return done ? Result<usize>(done) : Result<usize>(Error(EAGAIN));
            }
            usize need = atomic ? total - done : 1;
            bool woke = p.writable.wait_until_interruptible([&] {
                return p.capacity - __atomic_load_n(&p.count, __ATOMIC_ACQUIRE) >= need ||
                       __atomic_load_n(&p.readers, __ATOMIC_ACQUIRE) == 0;
            });
            if (!woke) return done ? Result<usize>(done) : Result<usize>(Error(sig::ERESTARTSYS));
        }
        return done;
    }

    u32 poll(PollTable* pt) override {
        Pipe& p = *pipe_;
        if (pt) pt->add(write_end_ ? p.writable : p.readable);
        sched::MutexGuard g(p.lock);
        u32 mask = 0;
        if (!write_end_) {
            if (p.count) mask |= POLLIN | POLLRDNORM;
            if (p.writers == 0) mask |= POLLHUP;
        } else {
            // Writable while a page's worth fits, as Linux's pipe buffers go.
            if (p.room() >= PIPE_BUF) mask |= POLLOUT | POLLWRNORM;
            if (p.readers == 0) mask |= POLLERR;
        }
        return mask;
    }

    Result<u64> ioctl(u32 cmd, u64 arg) override {
        if (cmd != FIONREAD) return Error(ENOTTY);
        int n;
        {
            sched::MutexGuard g(pipe_->lock);
            n = static_cast<int>(pipe_->count);
        }
        TRY(UserOut<int>(arg).write(n));
        return 0;
    }

    Result<u64> fcntl(int cmd, u64 arg) override {
        Pipe& p = *pipe_;
        if (cmd == F_GETPIPE_SZ) return p.capacity;
        if (cmd != F_SETPIPE_SZ) return Error(EINVAL);
        // Rounded up to a power-of-two number of pages, one page at least.
        if (arg > MAX_SIZE) return Error(EPERM);  // unprivileged limit; Keel has no CAP_SYS_RESOURCE split yet
        usize size = 4096;
        while (size < arg) size <<= 1;
        sched::MutexGuard g(p.lock);
        if (size < p.count) return Error(EBUSY);
        if (size == p.capacity) return size;
        u8* nbuf = static_cast<u8*>(TRY(mm::kmalloc(size)));
        for (usize i = 0; i < p.count; ++i) nbuf[i] = p.buf[(p.head + i) % p.capacity];
        mm::kfree(p.buf);
        p.buf = nbuf;
        p.head = 0;
        p.capacity = size;
        p.writable.wake_all();
        return size;
    }

    Status stat(struct stat& st) override {
        st = {};
        st.st_mode = S_IFIFO | 0600;
        st.st_nlink = 1;
        st.st_ino = pipe_->ino;
        st.st_dev = 0xd;  // pipefs's anonymous device
        st.st_blksize = 4096;
        return {};
    }

protected:
    void release() override {
        Pipe* p = pipe_;
        {
            sched::MutexGuard g(p->lock);
            if (write_end_) --p->writers;
            else --p->readers;
        }
        p->readable.wake_all();
        p->writable.wake_all();
        if (__atomic_sub_fetch(&p->ends, 1, __ATOMIC_ACQ_REL) == 0) {
            mm::kfree(p->buf);
            destroy(p);
        }
        destroy(this);
    }

private:
    Pipe* pipe_;
    bool write_end_;
};

}  // namespace

namespace {

Result<Pipe*> pipe_of(OpenFile& f, bool want_write_end) {
    if (f.kind() != FileKind::Pipe) return Error(EINVAL);
    auto& end = static_cast<PipeEnd&>(f);
    if (end.write_end() != want_write_end) return Error(EBADF);
    return end.pipe();
}

}  // namespace

bool pipe_same(OpenFile& a, OpenFile& b) {
    return a.kind() == FileKind::Pipe && b.kind() == FileKind::Pipe &&
           static_cast<PipeEnd&>(a).pipe() == static_cast<PipeEnd&>(b).pipe();
}

Result<usize> pipe_wait_data(OpenFile& read_end, bool nonblock) {
    Pipe& p = *TRY(pipe_of(read_end, false));
    for (;;) {
        {
            sched::MutexGuard g(p.lock);
            if (p.count) return p.count;
            if (p.writers == 0) return usize(0);
            if (nonblock) return Error(EAGAIN);
        }
        if (!p.readable.wait_until_interruptible([&] {
                return __atomic_load_n(&p.count, __ATOMIC_ACQUIRE) > 0 ||
                       __atomic_load_n(&p.writers, __ATOMIC_ACQUIRE) == 0;
            }))
            return Error(sig::ERESTARTSYS);
    }
}

Result<usize> pipe_wait_room(OpenFile& write_end, bool nonblock) {
    Pipe& p = *TRY(pipe_of(write_end, true));
    for (;;) {
        {
            sched::MutexGuard g(p.lock);
            if (p.readers == 0) {
                (void)sig::send_to_thread(*sched::current(), SIGPIPE, nullptr);
                return Error(EPIPE);
            }
            if (p.room()) return p.room();
            if (nonblock) return Error(EAGAIN);
        }
        if (!p.writable.wait_until_interruptible([&] {
                return p.capacity - __atomic_load_n(&p.count, __ATOMIC_ACQUIRE) > 0 ||
                       __atomic_load_n(&p.readers, __ATOMIC_ACQUIRE) == 0;
            }))
            return Error(sig::ERESTARTSYS);
    }
}

Result<usize> pipe_peek(OpenFile& read_end, const IoBuffer& out, usize skip) {
    Pipe& p = *TRY(pipe_of(read_end, false));
    sched::MutexGuard g(p.lock);
    if (skip >= p.count) return usize(0);
    usize n = min(out.size(), p.count - skip);
    usize start = (p.head + skip) % p.capacity;
    usize first = min(n, p.capacity - start);
    TRY(out.write_to(0, p.buf + start, first));
    if (n > first) TRY(out.write_to(first, p.buf, n - first));
    return n;
}

void pipe_consume(OpenFile& read_end, usize n) {
    auto r = pipe_of(read_end, false);
    if (r.is_error()) return;
    Pipe& p = *r.value();
    sched::MutexGuard g(p.lock);
    n = min(n, p.count);
    p.head = (p.head + n) % p.capacity;
    p.count -= n;
    p.writable.wake_all();
}

Status pipe_create(OpenFile* (&ends)[2], u32 fl) {
    Pipe* p = TRY(make<Pipe>());
    auto buf = mm::kmalloc(DEFAULT_SIZE);
    if (buf.is_error()) {
        destroy(p);
        return buf.error();
    }
    p->buf = static_cast<u8*>(buf.value());
    p->ino = __atomic_fetch_add(&next_ino, 1, __ATOMIC_RELAXED);
    auto r = make<PipeEnd>(p, false);
    auto w = make<PipeEnd>(p, true);
    if (r.is_error() || w.is_error()) {
        if (r.is_ok()) destroy(r.value());
        if (w.is_ok()) destroy(w.value());
        mm::kfree(p->buf);
        destroy(p);
        return Error(ENOMEM);
    }
    r.value()->flags = O_RDONLY | (fl & O_NONBLOCK);
    w.value()->flags = O_WRONLY | (fl & O_NONBLOCK);
    ends[0] = r.value();
    ends[1] = w.value();
    return {};
}

}  // namespace keel::fs
