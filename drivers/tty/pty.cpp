// Unix98 pseudo-terminals: /dev/ptmx makes a pair, /dev/pts/N is its
// slave. The slave is a full tty (N_TTY, job control); the master side is
// a byte stream in raw mode, as Linux's master with its fixed termios.
#include "drivers/tty/pty.h"

#include <asm-generic/fcntl.h>
#include <asm-generic/ioctls.h>
#include <asm/signal.h>
#include <linux/poll.h>

#include "drivers/tty/devpts.h"
#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"
#include "mm/slab.h"

namespace keel::tty {

namespace {

constexpr u32 kPtsMajor = 136;
// Each direction buffers this much beyond the slave's line discipline
// (Linux: up to 64 KiB of flip buffers and N_TTY's 4 KiB).
constexpr usize kRingSize = 16384;
constexpr usize kMaxRead = 4096;

usize ring_put(u8* ring, usize head, usize& count, const u8* src, usize n) {
    usize put = min(n, kRingSize - count);
    for (usize i = 0; i < put; ++i) ring[(head + count + i) % kRingSize] = src[i];
    count += put;
    return put;
}

usize ring_take(const u8* ring, usize& head, usize& count, u8* dst, usize n) {
    usize took = min(n, count);
    for (usize i = 0; i < took; ++i) dst[i] = ring[(head + i) % kRingSize];
    head = (head + took) % kRingSize;
    count -= took;
    return took;
}

bool privileged() { return caps::capable(CAP_SYS_ADMIN); }  // TIOCSTI

class MasterFile final : public fs::DeviceFile {
public:
    MasterFile(RefPtr<fs::File> file, Pty& pty) : DeviceFile(move(file)), pty_(pty) {}
    Result<usize> read(const IoBuffer& buf, u64*) override { return pty_.master_read(buf, flags & O_NONBLOCK); }
    Result<usize> write(const IoBuffer& buf, u64*) override { return pty_.master_write(buf, flags & O_NONBLOCK); }
    u32 poll(fs::PollTable* pt) override { return pty_.master_poll(pt); }
    Result<u64> ioctl(u32 cmd, u64 arg) override { return pty_.master_ioctl(flags, cmd, arg); }

protected:
    void release() override {
        Pty& p = pty_;
        destroy(this);
        p.master_closed();
    }

private:
    Pty& pty_;
};

Result<fs::OpenFile*> open_pts(RefPtr<fs::File> file, u32 minor) {
    bool readable = (file->flags() & O_ACCMODE) != O_WRONLY;
    bool noctty = file->flags() & O_NOCTTY;
    file->set_flags(file->flags() & ~static_cast<u32>(O_NOCTTY));
    Pty* pty = devpts_lookup(*file, minor);
    if (!pty) return Error(EIO);
    if (Status st = pty->may_open_slave(); st.is_error()) {
        pty->put();
        return st.error();
    }
    auto f = make<TtyFile>(move(file), *pty, false);
    if (f.is_ok() && !noctty) open_may_acquire(*pty, readable);
    pty->put();
    if (f.is_error()) return f.error();
    return f.value();
}

}  // namespace

Pty::Pty(DevptsInstance& inst, u32 index) : Tty(kPtsMajor, index), inst_(inst), index_(index) {}

Pty::~Pty() {
    if (out_) mm::kfree(out_);
    if (in_) mm::kfree(in_);
}

Status Pty::init() {
    out_ = static_cast<u8*>(TRY(mm::kmalloc(kRingSize)));
    in_ = static_cast<u8*>(TRY(mm::kmalloc(kRingSize)));
    return {};
}

void Pty::release() {
    devpts_release_index(inst_, index_);
    destroy(this);
}

void Pty::after_unlock() {
    if (__atomic_exchange_n(&wake_master_readers_, false, __ATOMIC_ACQ_REL)) master_read_wait_.wake_all();
    if (__atomic_exchange_n(&wake_master_writers_, false, __ATOMIC_ACQ_REL)) master_write_wait_.wake_all();
}

void Pty::write_out(const u8* bytes, usize n) {
    (void)ring_put(out_, out_head_, out_count_, bytes, n);  // echoes beyond the room are lost
    __atomic_store_n(&wake_master_readers_, true, __ATOMIC_RELEASE);
}

usize Pty::write_room() { return kRingSize - out_count_; }

// Feeds what the master wrote into the line discipline as room allows.
usize Pty::push_input() {
    usize moved = 0;
    while (in_count_) {
        usize len = min(in_count_, kRingSize - in_head_);
        usize took = ld_.receive(in_ + in_head_, len);
        in_head_ = (in_head_ + took) % kRingSize;
        in_count_ -= took;
        moved += took;
        if (took < len) break;
    }
    if (moved) __atomic_store_n(&wake_master_writers_, true, __ATOMIC_RELEASE);
    if (ld_.input_available()) wake_readers_ = true;
    return moved;
}

void Pty::input_drained() { (void)push_input(); }

void Pty::file_opened() {
    lock();
    ++slave_files_;
    slave_closed_ = false;
    unlock();
}

void Pty::file_closed() {
    lock();
    if (--slave_files_ == 0) {
        slave_closed_ = true;
        wake_master_readers_ = wake_master_writers_ = true;
    }
    unlock();
}

Status Pty::may_open_slave() {
    lock();
    bool locked = locked_, gone = !master_open_;
    unlock();
    if (locked || gone) return Error(EIO);
    return {};
}

Result<usize> Pty::master_read(const IoBuffer& buf, bool nonblock) {
    if (buf.size() == 0) return usize{0};
    usize want = min(buf.size(), kMaxRead);
    u8* kbuf = static_cast<u8*>(TRY(mm::kmalloc(want)));
    usize n = 0;
    int err = 0;
    for (;;) {
        lock();
        if (out_count_) {
            // Packet mode: a TIOCPKT_DATA byte before the data.
            if (packet_) kbuf[n++] = TIOCPKT_DATA;
            n += ring_take(out_, out_head_, out_count_, kbuf + n, want - n);
            wake_writers_ = true;
        }
        bool closed = slave_closed_;
        unlock();
        if (n) {
            if (Status st = buf.write_to(0, kbuf, n); st.is_error()) err = st.error().code();
            break;
        }
        if (closed || nonblock) {
            err = closed ? EIO : EAGAIN;
            break;
        }
        bool ok = master_read_wait_.wait_until_interruptible([&] {
            SpinlockGuard g(lock_);
            return out_count_ > 0 || slave_closed_;
        });
        if (!ok) {
            err = sig::ERESTARTSYS;
            break;
        }
    }
    mm::kfree(kbuf);
    if (err) return Error(err);
    return n;
}

Result<usize> Pty::master_write(const IoBuffer& buf, bool nonblock) {
    u8 chunk[256];
    usize done = 0;
    auto partial = [&](Error e) -> Result<usize> { return done ? Result<usize>(done) : Result<usize>(e); };
    while (done < buf.size()) {
        usize n = min(sizeof(chunk), buf.size() - done);
        if (buf.read_from(done, chunk, n).is_error()) return partial(Error(EFAULT));
        usize off = 0;
        while (off < n) {
            // The slave's line discipline exists from ptmx's open on: input
            // before the slave is opened (or after it closed) is kept.
            lock();
            (void)push_input();
            usize took = 0;
            if (in_count_ == 0) took = ld_.receive(chunk + off, n - off);
            took += ring_put(in_, in_head_, in_count_, chunk + off + took, n - off - took);
            if (ld_.input_available()) wake_readers_ = true;
            unlock();
            off += took;
            done += took;
            if (off == n) break;
            if (nonblock) return partial(Error(EAGAIN));
            bool ok = master_write_wait_.wait_until_interruptible([&] {
                SpinlockGuard g(lock_);
                return in_count_ < kRingSize;
            });
            if (!ok) return partial(Error(sig::ERESTARTSYS));
        }
    }
    return done;
}

u32 Pty::master_poll(fs::PollTable* pt) {
    if (pt) {
        pt->add(master_read_wait_);
        pt->add(master_write_wait_);
    }
    SpinlockGuard g(lock_);
    u32 mask = 0;
    if (out_count_) mask |= POLLIN | POLLRDNORM;
    if (slave_closed_) mask |= POLLHUP;
    if (in_count_ < kRingSize) mask |= POLLOUT | POLLWRNORM;
    return mask;
}

Result<u64> Pty::master_ioctl(u32 oflags, u32 cmd, u64 arg) {
    (void)oflags;
    switch (cmd) {
    case TIOCGPTN:
        TRY(UserOut<u32>(arg).write(index_));
        return 0;
    case TIOCSPTLCK: {
        int v = TRY(UserIn<int>(arg).read());
        lock();
        locked_ = v != 0;
        unlock();
        return 0;
    }
    case TIOCGPTLCK: {
        lock();
        int v = locked_;
        unlock();
        TRY(UserOut<int>(arg).write(v));
        return 0;
    }
    case TIOCPKT: {
        int v = TRY(UserIn<int>(arg).read());
        lock();
        packet_ = v != 0;
        unlock();
        return 0;
    }
    case TIOCGPKT: {
        lock();
        int v = packet_;
        unlock();
        TRY(UserOut<int>(arg).write(v));
        return 0;
    }
    case TIOCSIG: {
        int sig = static_cast<int>(arg);
        if (sig != SIGINT && sig != SIGQUIT && sig != SIGTSTP) return Error(EINVAL);
        int fg = foreground_of(*this);
        if (fg > 0) signal_pgrp(fg, sig);
        return 0;
    }
    case TIOCGPTPEER: {
        u32 flags = static_cast<u32>(arg);
        proc::FdTable& fds = *proc::current_process()->fds;
        RefPtr<fs::File> node = TRY(devpts_open_node(inst_, index_, flags & ~static_cast<u32>(O_CLOEXEC)));
        fs::OpenFile* f = TRY(open_pts(move(node), index_));
        f->flags = flags & ~static_cast<u32>(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
        auto fd = fds.install(f, 0, flags & O_CLOEXEC);
        if (fd.is_error()) {
            f->put();
            return fd.error();
        }
        return static_cast<u64>(fd.value());
    }
    case FIONREAD: {
        lock();
        int n = static_cast<int>(min(out_count_, kMaxRead));
        unlock();
        TRY(UserOut<int>(arg).write(n));
        return 0;
    }
    case TCFLSH: {
        if (arg > TCIOFLUSH) return Error(EINVAL);
        lock();
        if (arg == TCIFLUSH || arg == TCIOFLUSH) {  // what the slave wrote
            out_head_ = out_count_ = 0;
            wake_writers_ = true;
        }
        if (arg == TCOFLUSH || arg == TCIOFLUSH) {  // what the slave has not read
            in_head_ = in_count_ = 0;
            ld_.flush_input();
            wake_master_writers_ = true;
        }
        unlock();
        return 0;
    }
    case TIOCSTI: {
        if (!privileged()) return Error(EIO);
        u8 c = TRY(UserIn<u8>(arg).read());
        lock();
        write_out(&c, 1);
        unlock();
        return 0;
    }
    default:
        return ioctl(nullptr, cmd, arg);
    }
}

void Pty::master_closed() {
    lock();
    master_open_ = false;
    wake_readers_ = wake_writers_ = true;
    unlock();
    hangup(false);
    devpts_kill_node(inst_, index_);
    put();  // the master's reference
}

Result<fs::OpenFile*> open_ptmx(RefPtr<fs::File> file) {
    DevptsInstance* inst = TRY(devpts_for_ptmx(*file));
    Pty* pty = TRY(make<Pty>(*inst, 0u));
    if (Status st = pty->init(); st.is_error()) {
        destroy(pty);
        return st.error();
    }
    auto index = devpts_add(*inst, *pty);
    if (index.is_error()) {
        destroy(pty);
        return index.error();
    }
    pty->set_index(index.value());
    auto master = make<MasterFile>(move(file), *pty);
    if (master.is_error()) {
        pty->master_closed();
        return master.error();
    }
    return master.value();
}

void register_pty_devices() { MUST(fs::register_chrdev(kPtsMajor, 0, kMaxPtys, "pts", open_pts)); }

}  // namespace keel::tty
