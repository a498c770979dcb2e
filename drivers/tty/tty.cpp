// The tty core: read, write, poll and the ioctls every terminal answers,
// driving the line discipline as kernel/tty/ldisc.h describes.
#include "drivers/tty/tty.h"

#include <asm-generic/fcntl.h>
#include <asm-generic/ioctls.h>
#include <asm/signal.h>
#include <linux/poll.h>
#include <linux/stat.h>

#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "kernel/time.h"
#include "lib/alloc.h"
#include "mm/slab.h"

namespace keel::tty {

namespace {

bool capable(int cap) {
    proc::Process* p = proc::current_process();
    return p && caps::has(p->cred, cap);
}

// Sleeps on `wq` until cond() holds, a signal arrives (false) or the
// monotonic clock passes `deadline` (true; cond() decides then).
template <typename F>
bool wait_until(sched::WaitQueue& wq, u64 deadline, F&& cond) {
    sched::Thread* self = sched::current();
    if (deadline != BlockingRead::kForever) {
        self->sleep_timer.fn = [](Timer* tm) { sched::wake(static_cast<sched::Thread*>(tm->data)); };
        self->sleep_timer.data = self;
        timer_arm(self->sleep_timer, deadline);
    }
    bool woke = wq.wait_until_interruptible([&] {
        return cond() || (deadline != BlockingRead::kForever && time::monotonic_ns() >= deadline);
    });
    if (deadline != BlockingRead::kForever) timer_cancel(self->sleep_timer);
    return woke;
}

}  // namespace

void Tty::unlock() {
    u32 sigs = pending_signals_;
    bool readers = wake_readers_, writers = wake_writers_;
    pending_signals_ = 0;
    wake_readers_ = wake_writers_ = false;
    lock_.unlock(irq_);
    if (sigs) {
        int fg = foreground_of(*this);
        for (int sig = 1; sig < 32; ++sig)
            if ((sigs & (1u << sig)) && fg > 0) signal_pgrp(fg, sig);
    }
    if (readers) read_wait_.wake_all();
    if (writers) write_wait_.wake_all();
    after_unlock();
}

usize Tty::receive(const u8* bytes, usize n) {
    lock();
    usize took = ld_.receive(bytes, n);
    if (ld_.input_available()) wake_readers_ = true;
    wake_writers_ = true;  // echoes or a ^Q may have restarted output
    unlock();
    return took;
}

void Tty::hangup(bool exit_session) {
    __atomic_add_fetch(&hangup_gen_, 1, __ATOMIC_ACQ_REL);
    hangup_session(*this, exit_session);
    read_wait_.wake_all();
    write_wait_.wake_all();
}

Status Tty::wait_for_input(TtyFile& f, u64 deadline) {
    bool ok = wait_until(read_wait_, deadline, [&] {
        SpinlockGuard g(lock_);
        return ld_.input_available() || f.hung_up();
    });
    if (!ok) return Error(sig::ERESTARTSYS);
    return {};
}

Result<usize> Tty::read(TtyFile& f, const IoBuffer& buf) {
    if (f.hung_up()) return usize{0};
    if (!f.console()) TRY(check_change(*this, SIGTTIN));
    if (buf.size() == 0) return usize{0};
    usize want = min(buf.size(), kBufSize);
    u8* kbuf = static_cast<u8*>(TRY(mm::kmalloc(want)));
    lock();
    BlockingRead op(ld_, want);
    unlock();
    Status status;
    for (;;) {
        lock();
        usize before = op.copied();
        bool done = op.step(ld_, kbuf, time::monotonic_ns());
        if (op.copied() != before) {
            input_drained();
            wake_writers_ = true;
        }
        unlock();
        if (done || f.hung_up()) break;
        if (f.nonblocking()) {
            if (!op.copied()) status = Error(EAGAIN);
            break;
        }
        if (Status st = wait_for_input(f, op.deadline_ns()); st.is_error()) {
            if (!op.copied()) status = st;
            break;
        }
    }
    usize n = op.copied();
    if (status.is_ok() && n) status = buf.write_to(0, kbuf, n);
    mm::kfree(kbuf);
    TRY(status);
    return n;
}

Result<usize> Tty::write(TtyFile& f, const IoBuffer& buf) {
    if (f.hung_up()) return Error(EIO);
    if (!f.console()) {
        lock();
        bool tostop = ld_.settings().c_lflag & TOSTOP;
        unlock();
        if (tostop) TRY(check_change(*this, SIGTTOU));
    }
    u8 chunk[256];
    usize done = 0;
    auto partial = [&](Error e) -> Result<usize> { return done ? Result<usize>(done) : Result<usize>(e); };
    while (done < buf.size()) {
        usize n = min(sizeof(chunk), buf.size() - done);
        if (buf.read_from(done, chunk, n).is_error()) return partial(Error(EFAULT));
        usize off = 0;
        while (off < n) {
            lock();
            bool closed = output_closed();
            auto r = closed ? Result<usize>(Error(EIO)) : ld_.process_output(chunk + off, n - off);
            unlock();
            if (closed) return partial(Error(EIO));
            if (r.is_ok()) {
                off += r.value();
                done += r.value();
                continue;
            }
            if (f.nonblocking()) return partial(Error(EAGAIN));
            bool ok = wait_until(write_wait_, BlockingRead::kForever, [&] {
                SpinlockGuard g(lock_);
                return (!ld_.output_stopped() && write_room() > 0) || output_closed() || f.hung_up();
            });
            if (!ok) return partial(Error(sig::ERESTARTSYS));
            if (f.hung_up()) return partial(Error(EIO));
        }
    }
    return done;
}

u32 Tty::poll(TtyFile& f, fs::PollTable* pt) {
    constexpr u32 kHungUp = POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
    if (f.hung_up()) return kHungUp;
    if (pt) {
        pt->add(read_wait_);
        pt->add(write_wait_);
    }
    SpinlockGuard g(lock_);
    u32 mask = device_poll();
    if (ld_.poll_readable()) mask |= POLLIN | POLLRDNORM;
    if (!ld_.output_stopped() && !output_closed() && write_room() > 0) mask |= POLLOUT | POLLWRNORM;
    return mask;
}

Result<u64> Tty::termios_ioctl(TtyFile* f, u32 cmd, u64 arg) {
    switch (cmd) {
    case TCGETS: {
        termios t;
        lock();
        ld_.get(t);
        unlock();
        TRY(UserOut<termios>(arg).write(t));
        return 0;
    }
    case TCGETS2: {
        termios2 t;
        lock();
        ld_.get(t);
        unlock();
        TRY(UserOut<termios2>(arg).write(t));
        return 0;
    }
    case TCGETA: {
        termio t{};
        lock();
        const termios2& cur = ld_.settings();
        t.c_iflag = static_cast<u16>(cur.c_iflag);
        t.c_oflag = static_cast<u16>(cur.c_oflag);
        t.c_cflag = static_cast<u16>(cur.c_cflag);
        t.c_lflag = static_cast<u16>(cur.c_lflag);
        t.c_line = cur.c_line;
        for (int i = 0; i < NCC; ++i) t.c_cc[i] = cur.c_cc[i];
        unlock();
        TRY(UserOut<termio>(arg).write(t));
        return 0;
    }
    default:
        break;
    }
    // The setters: a background group is stopped first (set_termios).
    if (f) TRY(check_change(*this, SIGTTOU));
    termios2 next;
    bool flush = cmd == TCSETSF || cmd == TCSETSF2 || cmd == TCSETAF;
    if (cmd == TCSETS || cmd == TCSETSW || cmd == TCSETSF) {
        termios t = TRY(UserIn<termios>(arg).read());
        lock();
        if (flush) ld_.flush_input();
        ld_.set(t);
    } else if (cmd == TCSETS2 || cmd == TCSETSW2 || cmd == TCSETSF2) {
        next = TRY(UserIn<termios2>(arg).read());
        lock();
        if (flush) ld_.flush_input();
        ld_.set(next);
    } else {
        termio t = TRY(UserIn<termio>(arg).read());
        lock();
        // The old structure replaces the low 16 bits of each flag word.
        next = ld_.settings();
        next.c_iflag = (next.c_iflag & 0xffff0000u) | t.c_iflag;
        next.c_oflag = (next.c_oflag & 0xffff0000u) | t.c_oflag;
        next.c_cflag = (next.c_cflag & 0xffff0000u) | t.c_cflag;
        next.c_lflag = (next.c_lflag & 0xffff0000u) | t.c_lflag;
        next.c_line = t.c_line;
        for (int i = 0; i < NCC; ++i) next.c_cc[i] = t.c_cc[i];
        if (flush) ld_.flush_input();
        ld_.set(next);
    }
    wake_readers_ = wake_writers_ = true;
    unlock();
    return 0;
}

Result<u64> Tty::ioctl(TtyFile* f, u32 cmd, u64 arg) {
    // hung_up_tty_ioctl.
    if (f && f->hung_up()) return Error(cmd == TIOCSPGRP ? ENOTTY : EIO);
    switch (cmd) {
    case TCGETS: case TCGETS2: case TCGETA:
    case TCSETS: case TCSETSW: case TCSETSF:
    case TCSETS2: case TCSETSW2: case TCSETSF2:
    case TCSETA: case TCSETAW: case TCSETAF:
        return termios_ioctl(f, cmd, arg);
    case TIOCGWINSZ: {
        lock();
        winsize ws = ld_.window_size();
        unlock();
        TRY(UserOut<winsize>(arg).write(ws));
        return 0;
    }
    case TIOCSWINSZ: {
        winsize ws = TRY(UserIn<winsize>(arg).read());
        lock();
        ld_.set_window_size(ws);
        unlock();
        return 0;
    }
    case TCFLSH:
    case TCXONC: {
        if (f) TRY(check_change(*this, SIGTTOU));
        lock();
        Status st = cmd == TCFLSH ? ld_.flush(arg) : ld_.flow(arg);
        if (cmd == TCFLSH) input_drained();
        wake_writers_ = true;
        unlock();
        TRY(st);
        return 0;
    }
    case FIONREAD: {
        lock();
        int n = static_cast<int>(ld_.readable());
        unlock();
        TRY(UserOut<int>(arg).write(n));
        return 0;
    }
    case TIOCOUTQ: {
        lock();
        int n = static_cast<int>(chars_in_buffer());
        unlock();
        TRY(UserOut<int>(arg).write(n));
        return 0;
    }
    case TIOCSTI: {
        // dev.tty.legacy_tiocsti is 0: only CAP_SYS_ADMIN may fake input.
        if (!capable(CAP_SYS_ADMIN)) return Error(EIO);
        u8 c = TRY(UserIn<u8>(arg).read());
        lock();
        (void)ld_.receive(&c, 1);
        if (ld_.input_available()) wake_readers_ = true;
        unlock();
        return 0;
    }
    case TIOCEXCL:
    case TIOCNXCL:
        lock();
        exclusive_ = cmd == TIOCEXCL;
        unlock();
        return 0;
    case TIOCGEXCL: {
        lock();
        int v = exclusive_;
        unlock();
        TRY(UserOut<int>(arg).write(v));
        return 0;
    }
    case TIOCGETD:
        TRY(UserOut<int>(arg).write(0));  // N_TTY
        return 0;
    case TIOCSETD: {
        int ld = TRY(UserIn<int>(arg).read());
        if (f) TRY(check_change(*this, SIGTTOU));
        if (ld != 0) return Error(EINVAL);  // no other line discipline is built in
        return 0;
    }
    case TCSBRK:
    case TCSBRKP:
    case TIOCSBRK:
    case TIOCCBRK:
        // Output is written synchronously, so "drained" holds already.
        if (f) TRY(check_change(*this, SIGTTOU));
        return 0;
    case TIOCVHANGUP:
        if (!capable(CAP_SYS_TTY_CONFIG)) return Error(EPERM);
        hangup(false);
        return 0;
    case TIOCSCTTY:
    case TIOCNOTTY:
    case TIOCGPGRP:
    case TIOCSPGRP:
    case TIOCGSID:
        return ctty_ioctl(f, *this, cmd, arg);
    default:
        return driver_ioctl(f, cmd, arg);
    }
}

// ---------------------------------------------------------------- files

TtyFile::TtyFile(RefPtr<fs::File> file, Tty& tty, bool console)
    : DeviceFile(move(file)), tty_(tty), console_(console), gen_(tty.hangup_generation()) {
    tty_.get();
    tty_.file_opened();
}

bool TtyFile::nonblocking() const { return flags & O_NONBLOCK; }

Status TtyFile::stat(struct stat& st) {
    if (file_) return DeviceFile::stat(st);
    // pid 1's console, opened by the kernel before any /dev existed.
    st = {};
    st.st_mode = S_IFCHR | 0600;
    st.st_nlink = 1;
    st.st_rdev = (5u << 8) | 1u;
    st.st_blksize = 1024;
    st.st_ino = 2;
    st.st_dev = 6;
    return {};
}

void TtyFile::release() {
    Tty& t = tty_;
    t.file_closed();
    destroy(this);
    t.put();
}

}  // namespace keel::tty
