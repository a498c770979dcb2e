// eventfd, timerfd and signalfd: files that are counters or event sources
// rather than data, with blocking reads and poll.
#include "fs/event_files.h"

#include <asm-generic/fcntl.h>
#include <linux/poll.h>
#include <linux/signalfd.h>
#include <linux/stat.h>
#include <linux/time.h>
#include <linux/timerfd.h>

#include "kernel/signal/handlers.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/wait.h"
#include "kernel/signal/handlers.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "lib/alloc.h"

namespace keel::fs {

namespace {

constexpr u64 U64_MAX = ~0ull;

// The common shape: an anonymous inode file, a wait queue for readers and
// writers, and Linux's "anon_inode" fstat.
class EventFileBase : public OpenFile {
public:
    Status stat(struct stat& st) override {
        st = {};
        st.st_mode = 0600;  // anon_inode: no file type bits
        st.st_nlink = 1;
        st.st_blksize = 4096;
        st.st_dev = 0xe;  // anon_inodefs
        return {};
    }

protected:
    void release() override { destroy(this); }

    // Waits (unless O_NONBLOCK) until ready() holds.
    template <typename F>
    Status wait_for(F&& ready) {
        if (ready()) return {};
        if (flags & O_NONBLOCK) return Error(EAGAIN);
        if (!wq_.wait_until_interruptible(ready)) return Error(sig::ERESTARTSYS);
        return {};
    }

    sched::WaitQueue wq_;
};

class EventFd final : public EventFileBase {
public:
    EventFd(u64 initial, bool semaphore) : count_(initial), semaphore_(semaphore) {}
    FileKind kind() const override { return FileKind::EventFd; }

    Result<usize> read(const IoBuffer& buf, u64*) override {
        if (buf.size() < 8) return Error(EINVAL);
        for (;;) {
            TRY(wait_for([&] { return __atomic_load_n(&count_, __ATOMIC_ACQUIRE) != 0; }));
            u64 cur = __atomic_load_n(&count_, __ATOMIC_ACQUIRE);
            if (cur == 0) continue;
            u64 take = semaphore_ ? 1 : cur;
            if (!__atomic_compare_exchange_n(&count_, &cur, cur - take, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue;
            wq_.wake_all();  // writers waiting for room
            TRY(buf.write_to(0, &take, 8));
            return 8;
        }
    }

    Result<usize> write(const IoBuffer& buf, u64*) override {
        if (buf.size() < 8) return Error(EINVAL);
        u64 add;
        TRY(buf.read_from(0, &add, 8));
        if (add == U64_MAX) return Error(EINVAL);
        for (;;) {
            TRY(wait_for([&] { return U64_MAX - 1 - __atomic_load_n(&count_, __ATOMIC_ACQUIRE) >= add; }));
            u64 cur = __atomic_load_n(&count_, __ATOMIC_ACQUIRE);
            if (U64_MAX - 1 - cur < add) continue;
            if (!__atomic_compare_exchange_n(&count_, &cur, cur + add, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue;
            wq_.wake_all();
            return 8;
        }
    }

    u32 poll(PollTable* pt) override {
        if (pt) pt->add(wq_);
        u64 c = __atomic_load_n(&count_, __ATOMIC_ACQUIRE);
        u32 m = 0;
        if (c > 0) m |= POLLIN | POLLRDNORM;
        if (c < U64_MAX - 1) m |= POLLOUT | POLLWRNORM;
        return m;
    }

private:
    u64 count_;
    bool semaphore_;
};

class TimerFd final : public EventFileBase {
public:
    FileKind kind() const override { return FileKind::TimerFd; }
    explicit TimerFd(int clock) : clock_(clock) {
        timer_.fn = fired;
        timer_.data = this;
    }

    Result<usize> read(const IoBuffer& buf, u64*) override {
        if (buf.size() < 8) return Error(EINVAL);
        TRY(wait_for([&] { return __atomic_load_n(&ticks_, __ATOMIC_ACQUIRE) != 0; }));
        u64 n = __atomic_exchange_n(&ticks_, 0, __ATOMIC_ACQ_REL);
        if (!n) return Error(EAGAIN);
        TRY(buf.write_to(0, &n, 8));
        return 8;
    }

    u32 poll(PollTable* pt) override {
        if (pt) pt->add(wq_);
        return __atomic_load_n(&ticks_, __ATOMIC_ACQUIRE) ? POLLIN | POLLRDNORM : 0;
    }

    // Values are nanoseconds; `value` 0 disarms.
    void set(u64 value_ns, u64 interval_ns, bool absolute, u64* old_value, u64* old_interval) {
        get(old_value, old_interval);
        timer_cancel(timer_);
        __atomic_store_n(&ticks_, 0, __ATOMIC_RELEASE);
        interval_ = interval_ns;
        if (!value_ns) return;
        u64 now_mono = time::monotonic_ns();
        u64 deadline;
        if (absolute) {
            u64 now_clock = clock_now();
            deadline = value_ns > now_clock ? now_mono + (value_ns - now_clock) : now_mono;
        } else {
            deadline = now_mono + value_ns;
        }
        timer_arm(timer_, deadline ? deadline : 1);
    }

    void get(u64* value, u64* interval) {
        *interval = interval_;
        u64 now = time::monotonic_ns();
        *value = timer_.armed ? (timer_.deadline_ns > now ? timer_.deadline_ns - now : 1) : 0;
    }

protected:
    void release() override {
        timer_cancel(timer_);
        destroy(this);
    }

private:
    u64 clock_now() const { return clock_ == CLOCK_REALTIME || clock_ == CLOCK_REALTIME_ALARM ? time::realtime_ns() : time::monotonic_ns(); }

    static void fired(Timer* t) {
        auto* self = static_cast<TimerFd*>(t->data);
        __atomic_add_fetch(&self->ticks_, 1, __ATOMIC_ACQ_REL);
        if (self->interval_) timer_arm(*t, t->deadline_ns + self->interval_);
        self->wq_.wake_all();
    }

    int clock_;
    Timer timer_;
    u64 ticks_ = 0;
    u64 interval_ = 0;
};

class SignalFd final : public EventFileBase {
public:
    explicit SignalFd(sig::SigSet mask) : mask_(mask) {}
    FileKind kind() const override { return FileKind::SignalFd; }
    void set_mask(sig::SigSet m) { mask_ = m; }

    Result<usize> read(const IoBuffer& buf, u64*) override {
        constexpr usize SZ = sizeof(signalfd_siginfo);
        if (buf.size() < SZ) return Error(EINVAL);
        usize done = 0;
        while (done + SZ <= buf.size()) {
            siginfo_t info{};
            int sig = sig::dequeue_from(mask_, &info);
            if (!sig) {
                if (done) break;
                if (flags & O_NONBLOCK) return Error(EAGAIN);
                if (!sched::current()->process->sighand->arrivals.wait_until_interruptible([&] { return pending_here(); }))
                    return Error(sig::ERESTARTSYS);
                continue;
            }
            signalfd_siginfo s{};
            s.ssi_signo = static_cast<u32>(sig);
            s.ssi_code = info.si_code;
            s.ssi_pid = static_cast<u32>(info.si_pid);
            s.ssi_uid = info.si_uid;
            s.ssi_int = info.si_int;
            s.ssi_status = sig == SIGCHLD ? info.si_status : 0;
            TRY(buf.write_to(done, &s, SZ));
            done += SZ;
        }
        return done;
    }

    u32 poll(PollTable* pt) override {
        if (pt) pt->add(sched::current()->process->sighand->arrivals);
        return pending_here() ? POLLIN | POLLRDNORM : 0;
    }

private:
    bool pending_here() {
        sched::Thread& t = *sched::current();
        return (t.signals.pending.set | t.process->sighand->shared.set) & mask_;
    }
    sig::SigSet mask_;
};

Result<u64> install(OpenFile* f, u32 fl) {
    f->flags = O_RDWR | (fl & O_NONBLOCK);
    auto fd = proc::current_process()->fds->install(f, 0, fl & O_CLOEXEC);
    if (fd.is_error()) {
        f->put();
        return fd.error();
    }
    return static_cast<u64>(fd.value());
}

}  // namespace

Result<u64> eventfd_open(u64 initial, u32 fl) {
    if (fl & ~static_cast<u32>(O_CLOEXEC | O_NONBLOCK | 1 /* EFD_SEMAPHORE */)) return Error(EINVAL);
    OpenFile* f = TRY(make_accounted<EventFd>(initial, fl & 1));
    return install(f, fl);
}

Result<u64> timerfd_open(int clock, u32 fl) {
    if (fl & ~static_cast<u32>(TFD_CLOEXEC | TFD_NONBLOCK)) return Error(EINVAL);
    if (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME && clock != CLOCK_BOOTTIME &&
        clock != CLOCK_REALTIME_ALARM && clock != CLOCK_BOOTTIME_ALARM)
        return Error(EINVAL);
    OpenFile* f = TRY(make_accounted<TimerFd>(clock));
    return install(f, fl);
}

Result<u64> signalfd_open(int fd, sig::SigSet mask, u32 fl) {
    if (fl & ~static_cast<u32>(O_CLOEXEC | O_NONBLOCK)) return Error(EINVAL);
    mask &= ~sig::UNBLOCKABLE;
    if (fd != -1) {
        // Changing the mask of an existing signalfd.
        FileRef f = proc::current_process()->fds->get(fd);
        if (!f) return Error(EBADF);
        if (f->kind() != FileKind::SignalFd) return Error(EINVAL);
        static_cast<SignalFd*>(f.get())->set_mask(mask);
        return static_cast<u64>(fd);
    }
    OpenFile* f = TRY(make_accounted<SignalFd>(mask));
    return install(f, fl);
}

Status timerfd_settime(OpenFile* f, bool absolute, u64 value, u64 interval, u64* old_value, u64* old_interval) {
    if (f->kind() != FileKind::TimerFd) return Error(EINVAL);
    static_cast<TimerFd*>(f)->set(value, interval, absolute, old_value, old_interval);
    return {};
}

Status timerfd_gettime(OpenFile* f, u64* value, u64* interval) {
    if (f->kind() != FileKind::TimerFd) return Error(EINVAL);
    static_cast<TimerFd*>(f)->get(value, interval);
    return {};
}

}  // namespace keel::fs
