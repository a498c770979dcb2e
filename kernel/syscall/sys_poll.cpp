// poll, ppoll, select, pselect6: readiness of several descriptors at once.
#include <linux/poll.h>
#include <linux/time.h>

#include "kernel/signal/handlers.h"
#include "kernel/process/proc_info.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/syscall.h"
#include "kernel/time.h"
#include "kernel/uaccess.h"
#include "mm/slab.h"

namespace keel {

namespace {

// The wait queues registered by the files polled in one pass, and
// references to those files: their queues must outlive the sleep even if
// another thread closes a descriptor meanwhile.
class Poller final : public fs::PollTable {
public:
    ~Poller() { release(); }

    void release() {
        reset();
        mm::kfree(slots_);
        mm::kfree(held_);
        slots_ = nullptr;
        held_ = nullptr;
        cap_ = capheld_ = 0;
    }

    void add(sched::WaitQueue& wq) override {
        if (n_ == cap_ && !grow()) {
            overflow_ = true;  // out of memory: fall back to short sleeps
            return;
        }
        Slot& s = slots_[n_++];
        s.wq = &wq;
        s.entry = sched::WaitEntry{};
        s.entry.thread = sched::current();
        wq.add(s.entry);
    }

    void reset() {
        for (usize i = 0; i < n_; ++i) slots_[i].wq->remove(slots_[i].entry);
        n_ = 0;
        for (usize i = 0; i < nheld_; ++i) held_[i]->put();
        nheld_ = 0;
    }

    // Keeps f referenced until reset(), so that the queues it registers
    // stay. Without memory for that it is polled without registering and
    // the pass falls back to short sleeps.
    bool hold(fs::OpenFile& f) {
        if (nheld_ == capheld_ && !grow_held()) {
            overflow_ = true;
            return false;
        }
        f.get();
        held_[nheld_++] = &f;
        return true;
    }

    bool any_woken() const {
        for (usize i = 0; i < n_; ++i)
            if (__atomic_load_n(&slots_[i].entry.woken, __ATOMIC_SEQ_CST)) return true;
        return false;
    }
    bool overflow() const { return overflow_; }

private:
    struct Slot {
        sched::WaitQueue* wq;
        sched::WaitEntry entry;
    };

    bool grow() {
        usize cap = cap_ ? cap_ * 2 : 16;
        auto mem = mm::kmalloc(cap * sizeof(Slot));
        if (mem.is_error()) return false;
        auto* bigger = static_cast<Slot*>(mem.value());
        // Entries are linked into queues by address: re-link the moved ones.
        for (usize i = 0; i < n_; ++i) {
            slots_[i].wq->remove(slots_[i].entry);
            bigger[i].wq = slots_[i].wq;
            bigger[i].entry = sched::WaitEntry{};
            bigger[i].entry.thread = sched::current();
            bigger[i].wq->add(bigger[i].entry);
        }
        mm::kfree(slots_);
        slots_ = bigger;
        cap_ = cap;
        return true;
    }

    bool grow_held() {
        usize cap = capheld_ ? capheld_ * 2 : 16;
        auto mem = mm::kmalloc(cap * sizeof(fs::OpenFile*));
        if (mem.is_error()) return false;
        auto* bigger = static_cast<fs::OpenFile**>(mem.value());
        for (usize i = 0; i < nheld_; ++i) bigger[i] = held_[i];
        mm::kfree(held_);
        held_ = bigger;
        capheld_ = cap;
        return true;
    }

    Slot* slots_ = nullptr;
    usize n_ = 0, cap_ = 0;
    fs::OpenFile** held_ = nullptr;
    usize nheld_ = 0, capheld_ = 0;
    bool overflow_ = false;
};

using time::deadline_after;
using time::NO_DEADLINE;

// Sleeps until a registered queue wakes, the deadline passes or a signal
// arrives. Returns false for a signal.
bool sleep_on(Poller& poller, u64 deadline) {
    sched::Thread* self = sched::current();
    self->sleep_timer.fn = [](Timer* tm) { sched::wake(static_cast<sched::Thread*>(tm->data)); };
    self->sleep_timer.data = self;
    __atomic_store_n(&self->interruptible, true, __ATOMIC_SEQ_CST);
    sched::set_current_blocked();
    bool signal = sig::interrupt_pending();
    if (signal || poller.any_woken() || time::monotonic_ns() >= deadline) {
        sched::wake(self);
    } else {
        u64 limit = poller.overflow() ? time::monotonic_ns() + 10000000 : deadline;
        if (limit != NO_DEADLINE) timer_arm(self->sleep_timer, limit);
        sched::schedule();
        timer_cancel(self->sleep_timer);
    }
    __atomic_store_n(&self->interruptible, false, __ATOMIC_SEQ_CST);
    return !sig::interrupt_pending();
}

// One pass over the descriptors: revents filled, count of ready ones.
usize poll_pass(pollfd* fds, usize n, Poller* pt) {
    usize ready = 0;
    proc::FdTable& table = *proc::current_process()->fds;
    for (usize i = 0; i < n; ++i) {
        fds[i].revents = 0;
        if (fds[i].fd < 0) continue;
        fs::FileRef f = table.get(fds[i].fd);
        if (!f) {
            fds[i].revents = POLLNVAL;
            ++ready;
            continue;
        }
        u32 mask = f->poll(pt && pt->hold(*f) ? pt : nullptr);
        fds[i].revents = static_cast<short>(mask & (static_cast<u16>(fds[i].events) | POLLERR | POLLHUP));
        if (fds[i].revents) ++ready;
    }
    return ready;
}

// The shared engine: waits until something in `fds` is ready.
Result<usize> do_poll(pollfd* fds, usize n, u64 deadline) {
    Poller poller;
    for (;;) {
        poller.reset();
        usize ready = poll_pass(fds, n, &poller);
        if (ready || time::monotonic_ns() >= deadline) return ready;
        // A signal or a cgroup freeze: EINTR under a handler, else the call
        // goes on towards the same deadline (poll through a restart block,
        // ppoll and the selects with the time left written back).
        if (!sleep_on(poller, deadline)) return Error(sig::ERESTARTNOHAND);
    }
}

struct KTimespec {
    i64 sec, nsec;
};

Result<u64> timespec_deadline(uptr user) {
    if (!user) return NO_DEADLINE;
    KTimespec ts = TRY(UserIn<KTimespec>(user).read());
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000) return Error(EINVAL);
    if (static_cast<u64>(ts.sec) > (NO_DEADLINE - 1000000000) / 1000000000) return NO_DEADLINE;
    return deadline_after(static_cast<u64>(ts.sec) * 1000000000 + static_cast<u64>(ts.nsec));
}

Result<u64> poll_syscall(uptr ufds, u64 nfds, u64 deadline) {
    if (nfds > proc::current_process()->rlimits[7 /* RLIMIT_NOFILE */].cur) return Error(EINVAL);
    pollfd* fds = nullptr;
    if (nfds) fds = static_cast<pollfd*>(TRY(mm::kmalloc(nfds * sizeof(pollfd))));
    auto copied = copy_from_user(fds, ufds, nfds * sizeof(pollfd));
    if (copied.is_error()) {
        mm::kfree(fds);
        return copied.error();
    }
    auto r = do_poll(fds, nfds, deadline);
    // revents go back even when interrupted (they are all zero then).
    if (r.is_ok()) {
        for (u64 i = 0; i < nfds; ++i) {
            if (copy_to_user(ufds + i * sizeof(pollfd) + __builtin_offsetof(pollfd, revents), &fds[i].revents,
                             sizeof(short))
                    .is_error()) {
                mm::kfree(fds);
                return Error(EFAULT);
            }
        }
    }
    mm::kfree(fds);
    if (r.is_error()) return r.error();
    return r.value();
}

// poll's timeout is relative and stays where the program wrote it, so an
// interrupted poll goes on through restart_syscall (Linux: do_restart_poll).
Result<u64> poll_restartable(uptr ufds, u64 nfds, u64 deadline) {
    auto r = poll_syscall(ufds, nfds, deadline);
    if (r.is_ok() || r.error().code() != sig::ERESTARTNOHAND) return r;
    auto resume = [](const sig::RestartBlock& rb) { return poll_restartable(rb.a[0], rb.a[1], rb.a[2]); };
    return sig::restart_with({resume, {ufds, nfds, deadline}});
}

// ppoll and pselect6 write back the time left, also when interrupted, so
// that the restarted call waits only that long (none for a zero timeout).
void write_back_timespec(uptr user, u64 deadline, const Result<u64>& r, bool zero) {
    if (!user || zero || (r.is_error() && r.error().code() != sig::ERESTARTNOHAND)) return;
    u64 now = time::monotonic_ns();
    u64 left = deadline > now ? deadline - now : 0;
    KTimespec ts{static_cast<i64>(left / 1000000000), static_cast<i64>(left % 1000000000)};
    (void)copy_to_user(user, &ts, sizeof(ts));
}

bool zero_timespec(uptr user) {
    if (!user) return false;
    auto ts = UserIn<KTimespec>(user).read();
    return ts.is_ok() && ts.value().sec == 0 && ts.value().nsec == 0;
}

}  // namespace

SYSCALL(poll) {
    i64 timeout_ms = static_cast<int>(args.a2);
    u64 deadline = timeout_ms < 0 ? NO_DEADLINE : deadline_after(static_cast<u64>(timeout_ms) * 1000000);
    return poll_restartable(args.a0, args.a1, deadline);
}

SYSCALL(ppoll) {
    u64 deadline = TRY(timespec_deadline(args.a2));
    bool zero = zero_timespec(args.a2);
    TRY(sig::set_temporary_mask(args.a3, args.a4));
    auto r = poll_syscall(args.a0, args.a1, deadline);
    write_back_timespec(args.a2, deadline, r, zero);
    return r;
}

namespace {

// select/pselect6 on top of the poll engine. Linux reads and writes nfds
// bits of each set.
Result<u64> select_common(int nfds, uptr in, uptr out, uptr ex, u64 deadline) {
    if (nfds < 0) return Error(EINVAL);
    // Linux looks only as far as its descriptor table reaches (64 slots,
    // then powers of two): bits set beyond it are ignored, not EBADF.
    int limit = proc::fd_table_size(proc::current_process()->pid);
    if (nfds > limit) nfds = limit;
    usize words = (static_cast<usize>(nfds) + 63) / 64;
    usize bytes = (static_cast<usize>(nfds) + 7) / 8;
    u64 sets[3][proc::MAX_FDS / 64] = {};
    uptr users[3] = {in, out, ex};
    for (int s = 0; s < 3; ++s)
        if (users[s]) TRY(copy_from_user(sets[s], users[s], bytes));
    usize count = 0;
    for (usize w = 0; w < words; ++w) count += __builtin_popcountll(sets[0][w] | sets[1][w] | sets[2][w]);
    auto* fds = static_cast<pollfd*>(TRY(mm::kmalloc(max<usize>(count, 1) * sizeof(pollfd))));
    usize n = 0;
    for (int fd = 0; fd < nfds; ++fd) {
        u64 bit = 1ull << (fd % 64);
        short events = 0;
        if (sets[0][fd / 64] & bit) events |= POLLIN | POLLRDNORM | POLLRDBAND;
        if (sets[1][fd / 64] & bit) events |= POLLOUT | POLLWRNORM | POLLWRBAND;
        if (sets[2][fd / 64] & bit) events |= POLLPRI;
        if (!events) continue;
        if (!proc::current_process()->fds->get(fd)) {
            mm::kfree(fds);
            return Error(EBADF);
        }
        fds[n++] = pollfd{fd, events, 0};
    }
    auto r = do_poll(fds, n, deadline);
    if (r.is_error()) {
        mm::kfree(fds);
        return r.error();
    }
    u64 result[3][proc::MAX_FDS / 64] = {};
    usize ready = 0;
    for (usize i = 0; i < n; ++i) {
        int fd = fds[i].fd;
        u64 bit = 1ull << (fd % 64);
        short re = fds[i].revents;
        if ((sets[0][fd / 64] & bit) && (re & (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR))) {
            result[0][fd / 64] |= bit;
            ++ready;
        }
        if ((sets[1][fd / 64] & bit) && (re & (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR))) {
            result[1][fd / 64] |= bit;
            ++ready;
        }
        if ((sets[2][fd / 64] & bit) && (re & POLLPRI)) {
            result[2][fd / 64] |= bit;
            ++ready;
        }
    }
    mm::kfree(fds);
    for (int s = 0; s < 3; ++s)
        if (users[s]) TRY(copy_to_user(users[s], result[s], bytes));
    return ready;
}

}  // namespace

SYSCALL(select) {
    u64 deadline = NO_DEADLINE;
    if (args.a4) {
        struct {
            i64 sec, usec;
        } tv;
        TRY(copy_from_user(&tv, args.a4, sizeof(tv)));
        if (tv.sec < 0 || tv.usec < 0) return Error(EINVAL);
        u64 ns = static_cast<u64>(tv.sec) * 1000000000 + static_cast<u64>(tv.usec % 1000000) * 1000 +
                 static_cast<u64>(tv.usec / 1000000) * 1000000000;
        deadline = deadline_after(ns);
    }
    auto r = select_common(static_cast<int>(args.a0), args.a1, args.a2, args.a3, deadline);
    if (args.a4 && (r.is_ok() || r.error().code() == sig::ERESTARTNOHAND)) {
        // Linux writes back the time that was left.
        u64 now = time::monotonic_ns();
        u64 left = deadline > now ? deadline - now : 0;
        struct {
            i64 sec, usec;
        } tv{static_cast<i64>(left / 1000000000), static_cast<i64>(left % 1000000000 / 1000)};
        (void)copy_to_user(args.a4, &tv, sizeof(tv));
    }
    return r;
}

SYSCALL(pselect6) {
    u64 deadline = TRY(timespec_deadline(args.a4));
    bool zero = zero_timespec(args.a4);
    if (args.a5) {
        // The sixth argument points at {const sigset_t* ss; size_t ss_len}.
        struct {
            u64 mask, size;
        } sm;
        TRY(copy_from_user(&sm, args.a5, sizeof(sm)));
        TRY(sig::set_temporary_mask(sm.mask, sm.size));
    }
    auto r = select_common(static_cast<int>(args.a0), args.a1, args.a2, args.a3, deadline);
    write_back_timespec(args.a4, deadline, r, zero);
    return r;
}

}  // namespace keel
