#include "kernel/process/posix_timers.h"

#include <linux/resource.h>
#include <linux/time.h>

#include "kernel/percpu.h"
#include "kernel/process/cputime.h"
#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/signal/handlers.h"
#include "kernel/signal/signal.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "lib/alloc.h"

namespace keel::ptimer {

namespace {

constexpr u64 TICK_NS = 4000000;   // Linux's jiffy at HZ=250 (Debian)
constexpr int MAX_TIMERS = 4096;   // stands in for RLIMIT_SIGPENDING's preallocation limit
constexpr int INT_MAX_ = 0x7fffffff;

struct PosixTimer {
    ListNode node;
    ProcessTimers* owner = nullptr;
    proc::Process* process = nullptr;  // where the signal goes
    int id = 0;
    int clock = 0;
    bool cpu = false;                  // on a CPU-time clock
    cputime::CpuClock cpu_clock;
    bool clock_gone = false;           // its thread has exited: never fires again
    int notify = SIGEV_SIGNAL;
    int signo = SIGALRM;
    sigval_t value{};
    sched::Thread* target = nullptr;   // SIGEV_THREAD_ID; null once it has gone
    u64 expires = 0;                   // absolute, on the timer's clock; 0: disarmed
    u64 interval = 0;
    bool active = false;               // waiting to expire (not SIGEV_NONE, not awaiting a dequeue)
    bool requeue_pending = false;      // periodic: fired, rearmed when its signal is taken
    u32 gen = 0;                       // si_sys_private of its last signal
    i64 overrun = -1;
    i64 overrun_last = 0;
    bool deleted = false;
    // Wall-clock timers: the kernel timer holds a reference while it may
    // still call back (kt_ref), so deletion waits for a callback under way.
    Timer kt;
    bool kt_ref = false;
    u32 refs = 1;
};

}  // namespace

struct CpuItimer {
    u64 expires = 0;  // on the process's CPU clock; 0: off
    u64 incr = 0;
};

struct ProcessTimers {
    Spinlock lock{LockRank::PosixTimer};
    IntrusiveList<PosixTimer, &PosixTimer::node> list;
    u32 next_id = 0;           // survives exec, as Linux's signal_struct does
    int count = 0;
    CpuItimer itimer[2];       // ITIMER_VIRTUAL, ITIMER_PROF
    bool cpu_armed = false;    // a CPU-clock timer or itimer is pending
    bool cpu_limit = false;    // RLIMIT_CPU is finite: checked with the timers
};

namespace {

// One poke per CPU: it only interrupts user mode so that the return path
// checks the CPU-time timers of whatever runs there.
Timer pokes[MAX_CPUS];

void poke_in(u64 ns) {
    arch::InterruptGuard ig;
    IrqsOffProof proof;
    Timer& t = pokes[this_cpu(proof).id];
    t.fn = [](Timer*) {};
    timer_arm(t, time::monotonic_ns() + ns);
}

Result<ProcessTimers*> timers_of(proc::Process& p) {
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (pt) return pt;
    ProcessTimers* fresh = TRY(make<ProcessTimers>());
    ProcessTimers* expected = nullptr;
    if (__atomic_compare_exchange_n(&p.timers, &expected, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return fresh;
    destroy(fresh);  // another thread made them first
    return expected;
}

bool is_wall_clock(int clock) { return clock == CLOCK_REALTIME || clock == CLOCK_TAI || clock == CLOCK_REALTIME_ALARM; }

// Now on a timer's clock.
u64 clock_now(const PosixTimer& t) {
    if (t.cpu) return t.clock_gone ? 0 : cputime::read(t.cpu_clock);
    return is_wall_clock(t.clock) ? time::realtime_ns() : time::monotonic_ns();
}

void put(PosixTimer* t) {
    if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) destroy(t);
}

// Moves expires past now by whole intervals (hrtimer_forward): the number
// of intervals skipped.
u64 forward(PosixTimer& t, u64 now) {
    if (!t.interval || now < t.expires) return 0;
    u64 n = (now - t.expires) / t.interval + 1;
    t.expires += n * t.interval;
    return n;
}

void wall_fired(Timer* kt);

// Lock held. Wall-clock timers go on the kernel timer queue.
void start(PosixTimer& t) {
    t.active = true;
    if (t.cpu) {
        t.owner->cpu_armed = true;
        return;
    }
    u64 now = clock_now(t);
    u64 mono = time::monotonic_ns() + (t.expires > now ? t.expires - now : 0);
    if (!t.kt_ref) {
        t.kt_ref = true;
        __atomic_add_fetch(&t.refs, 1, __ATOMIC_ACQ_REL);
    }
    t.kt.fn = wall_fired;
    t.kt.data = &t;
    timer_arm(t.kt, mono);
}

// Lock held.
void stop(PosixTimer& t) {
    t.active = false;
    if (t.kt_ref && timer_cancel(t.kt)) {
        t.kt_ref = false;
        __atomic_sub_fetch(&t.refs, 1, __ATOMIC_ACQ_REL);  // never the last: the caller has one
    }
}

// Queues the timer's signal. False if it was not queued (ignored, a
// standard signal already pending, or the target thread is gone).
bool send(PosixTimer& t) {
    if (t.notify == SIGEV_NONE) return true;
    siginfo_t info{};
    info.si_signo = t.signo;
    info.si_code = SI_TIMER;
    info._sifields._timer._tid = t.id;
    info._sifields._timer._overrun = 0;
    info._sifields._timer._sigval = t.value;
    info._sifields._timer._sys_private = t.interval ? static_cast<int>(t.gen) : 0;
    if (t.notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID)) {
        if (!t.target) return false;
        return sig::send_timer_signal(*t.process, t.target, info);
    }
    return sig::send_timer_signal(*t.process, nullptr, info);
}

// The timer expired at `now` (lock held).
void fire(PosixTimer& t, u64 now) {
    t.active = false;
    if (t.interval) {
        t.gen = (t.gen + 1) & 0x7fffffff;
        if (!t.gen) t.gen = 1;
        t.requeue_pending = true;
    }
    if (send(t)) {
        if (!t.interval) t.expires = 0;
        return;
    }
    if (!t.interval) {
        t.expires = 0;
        return;
    }
    // Not queued: nobody will take it, so keep ticking (slowly, as Linux
    // does for an ignored signal with a short interval).
    t.requeue_pending = false;
    t.overrun += static_cast<i64>(forward(t, t.interval < TICK_NS ? now + TICK_NS : now));
    start(t);
}

void wall_fired(Timer* kt) {
    auto* t = static_cast<PosixTimer*>(kt->data);
    ProcessTimers& pt = *t->owner;
    bool irq = pt.lock.lock();
    if (__atomic_load_n(&kt->armed, __ATOMIC_ACQUIRE)) {
        // Rearmed after this expiry was taken off the queue: the new
        // arming owns the reference.
        pt.lock.unlock(irq);
        return;
    }
    t->kt_ref = false;
    if (!t->deleted && t->active) fire(*t, clock_now(*t));
    pt.lock.unlock(irq);
    put(t);
}

PosixTimer* find(ProcessTimers& pt, int id) {
    for (PosixTimer* t = pt.list.front(); t; t = pt.list.next(*t))
        if (t->id == id) return t;
    return nullptr;
}

// timer_gettime's view (lock held): periodic timers awaiting a dequeue and
// SIGEV_NONE ones are moved past now first, counting overruns.
Setting current(PosixTimer& t) {
    Setting s{0, t.interval};
    bool none = t.notify == SIGEV_NONE;
    if (!t.expires) return s;
    if (!t.interval && !t.active && !none) return s;
    u64 now = clock_now(t);
    if (t.interval && (t.requeue_pending || none)) t.overrun += static_cast<i64>(forward(t, now));
    if (t.expires > now) s.value = t.expires - now;
    else if (!none) s.value = 1;
    return s;
}

// Unlinks and frees a timer; its callback, if under way, finishes first.
void destroy_timer(ProcessTimers& pt, PosixTimer* t) {
    {
        SpinlockGuard g(pt.lock);
        t->deleted = true;
        stop(*t);
        pt.list.remove(*t);
        --pt.count;
    }
    while (__atomic_load_n(&t->refs, __ATOMIC_ACQUIRE) > 1) arch::cpu_relax();
    put(t);
}

}  // namespace

Result<int> create(proc::Process& p, int clock, const sigevent_t* event) {
    if (clock < 0 && (clock & 7) == 3) return Error(EOPNOTSUPP);  // clocks from descriptors have no timers
    bool cpu = cputime::is_cpu_clock(clock);
    if (!cpu) {
        switch (clock) {
        case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME: case CLOCK_TAI:
        case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
            break;
        case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
            return Error(EOPNOTSUPP);
        default:
            return Error(EINVAL);
        }
        if ((clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) && !caps::has(p.cred, CAP_WAKE_ALARM))
            return Error(EPERM);  // CAP_WAKE_ALARM
    }
    ProcessTimers* pt = TRY(timers_of(p));
    PosixTimer* t = TRY(make_accounted<PosixTimer>());
    t->owner = pt;
    t->process = &p;
    t->clock = clock;
    {
        SpinlockGuard g(pt->lock);
        if (pt->count >= MAX_TIMERS) {
            destroy(t);
            return Error(EAGAIN);
        }
        // The id is taken before the event is checked, as in Linux: a
        // rejected timer_create still uses one up.
        t->id = static_cast<int>(pt->next_id);
        pt->next_id = (pt->next_id + 1) & INT_MAX_;
    }
    auto fail = [&](Error e) -> Result<int> {
        destroy(t);
        return e;
    };
    if (event) {
        int notify = event->sigev_notify;
        if (notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID)) {
            sched::Thread* th = proc::find_thread(event->_sigev_un._tid);
            if (!th || th->process != &p) return fail(Error(EINVAL));
            t->target = th;
        } else if (notify != SIGEV_SIGNAL && notify != SIGEV_THREAD && notify != SIGEV_NONE) {
            return fail(Error(EINVAL));
        }
        if (notify != SIGEV_NONE && (event->sigev_signo <= 0 || event->sigev_signo > sig::NSIG_ALL))
            return fail(Error(EINVAL));
        t->notify = notify == SIGEV_THREAD ? SIGEV_SIGNAL : notify;
        t->signo = event->sigev_signo;
        t->value = event->sigev_value;
    } else {
        t->signo = SIGALRM;
        t->value.sival_ptr = nullptr;
        t->value.sival_int = t->id;
    }
    if (cpu) {
        auto c = cputime::resolve(clock, false);
        if (c.is_error()) return fail(c.error());
        // Timers on another process's CPU clock: not yet.
        if (c.value().process != &p) return fail(Error(EINVAL));
        t->cpu = true;
        t->cpu_clock = c.value();
    }
    {
        SpinlockGuard g(pt->lock);
        pt->list.push_back(*t);
        ++pt->count;
    }
    return t->id;
}

Status remove(proc::Process& p, int id) {
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt) return Error(EINVAL);
    PosixTimer* t;
    {
        SpinlockGuard g(pt->lock);
        t = find(*pt, id);
        if (!t || t->deleted) return Error(EINVAL);
        t->deleted = true;  // a racing remove of the same id fails
    }
    destroy_timer(*pt, t);
    return {};
}

Status settime(proc::Process& p, int id, bool absolute, const Setting& value, Setting* old) {
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt) return Error(EINVAL);
    SpinlockGuard g(pt->lock);
    PosixTimer* t = find(*pt, id);
    if (!t || t->deleted) return Error(EINVAL);
    if (old) *old = current(*t);
    stop(*t);
    t->interval = 0;
    t->requeue_pending = false;
    t->overrun_last = 0;
    t->expires = 0;
    if (!value.value) return {};
    u64 now = clock_now(*t);
    t->interval = value.interval;
    t->expires = absolute ? value.value : now + value.value;
    if (!t->expires) t->expires = 1;
    if (t->notify != SIGEV_NONE) start(*t);
    return {};
}

Result<Setting> gettime(proc::Process& p, int id) {
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt) return Error(EINVAL);
    SpinlockGuard g(pt->lock);
    PosixTimer* t = find(*pt, id);
    if (!t || t->deleted) return Error(EINVAL);
    return current(*t);
}

Result<int> getoverrun(proc::Process& p, int id) {
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt) return Error(EINVAL);
    SpinlockGuard g(pt->lock);
    PosixTimer* t = find(*pt, id);
    if (!t || t->deleted) return Error(EINVAL);
    return static_cast<int>(t->overrun_last > INT_MAX_ ? INT_MAX_ : t->overrun_last);
}

void signal_dequeued(proc::Process& p, siginfo_t& info) {
    if (info.si_signo == SIGALRM && p.alarm_interval_ns && !p.alarm_timer.armed) {
        // ITIMER_REAL restarts when its signal is taken, as in Linux.
        u64 now = time::monotonic_ns();
        u64 next = p.alarm_timer.deadline_ns + p.alarm_interval_ns;
        if (next <= now) next += (now - next) / p.alarm_interval_ns * p.alarm_interval_ns + p.alarm_interval_ns;
        timer_arm(p.alarm_timer, next);
    }
    if (info.si_code != SI_TIMER || !info._sifields._timer._sys_private) return;
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt) return;
    SpinlockGuard g(pt->lock);
    PosixTimer* t = find(*pt, info._sifields._timer._tid);
    if (!t || t->deleted || !t->requeue_pending || !t->interval ||
        static_cast<int>(t->gen) != info._sifields._timer._sys_private)
        return;
    t->overrun += static_cast<i64>(forward(*t, clock_now(*t)));
    t->requeue_pending = false;
    start(*t);
    t->overrun_last = t->overrun;
    t->overrun = -1;
    i64 sum = t->overrun_last + info._sifields._timer._overrun;
    info._sifields._timer._overrun = static_cast<int>(sum > INT_MAX_ ? INT_MAX_ : sum);
}

bool cpu_timers_armed(const proc::Process& p) {
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    return pt && __atomic_load_n(&pt->cpu_armed, __ATOMIC_RELAXED);
}

void check_cpu_timers(proc::Process& p, sched::Thread& self) {
    ProcessTimers& pt = *p.timers;
    cputime::Times proc_t = cputime::process_times(p);
    cputime::Times self_t = cputime::thread_times(self);
    u64 nearest = ~0ull;
    int nthreads = p.nthreads > 0 ? p.nthreads : 1;
    int fired_itimers[2] = {0, 0};
    bool cpu_kill = false, cpu_xcpu = false;
    {
        SpinlockGuard g(pt.lock);
        bool armed = false;
        for (int i = 0; i < 2; ++i) {
            CpuItimer& it = pt.itimer[i];
            if (!it.expires) continue;
            u64 now = cputime::sample(proc_t, i == 0 ? cputime::VIRT : cputime::PROF);
            if (now >= it.expires) {
                it.expires = it.incr ? it.expires + it.incr : 0;
                fired_itimers[i] = i == 0 ? SIGVTALRM : SIGPROF;
            }
            if (it.expires) {
                armed = true;
                if (it.expires > now) nearest = min(nearest, (it.expires - now) / static_cast<u64>(nthreads));
            }
        }
        for (PosixTimer* t = pt.list.front(); t; t = pt.list.next(*t)) {
            if (!t->cpu || t->deleted || t->clock_gone) continue;
            if (t->active || t->requeue_pending) armed = true;
            if (!t->active) continue;
            const cputime::Times* sample = nullptr;
            if (!t->cpu_clock.thread) sample = &proc_t;
            else if (t->cpu_clock.thread == &self) sample = &self_t;
            if (!sample) continue;  // another thread's clock: checked on its way out
            u64 now = cputime::sample(*sample, t->cpu_clock.which);
            if (now >= t->expires) {
                fire(*t, now);
            } else {
                u64 left = t->expires - now;
                nearest = min(nearest, sample == &proc_t ? left / static_cast<u64>(nthreads) : left);
            }
        }
        // RLIMIT_CPU (seconds of user+system time): SIGKILL at the hard
        // limit; SIGXCPU at the soft one, which then moves on by a second
        // (Linux raises rlim_cur itself, visible to getrlimit).
        if (pt.cpu_limit) {
            proc::RLimit& lim = p.rlimits[RLIMIT_CPU];
            u64 total = proc_t.total();
            constexpr u64 NS = 1000000000;
            auto ns_of = [](u64 secs) -> u64 { return secs > ~u64{0} / NS ? ~u64{0} : secs * NS; };
            if (lim.max != RLIM_INFINITY && total >= ns_of(lim.max)) {
                cpu_kill = true;
            } else if (lim.cur != RLIM_INFINITY) {
                if (total >= ns_of(lim.cur)) {
                    cpu_xcpu = true;
                    if (lim.cur < lim.max) ++lim.cur;
                }
                u64 next = ns_of(lim.cur);
                if (lim.max != RLIM_INFINITY) next = min(next, ns_of(lim.max));
                if (next > total) nearest = min(nearest, (next - total) / static_cast<u64>(nthreads));
            }
            pt.cpu_limit = lim.cur != RLIM_INFINITY || lim.max != RLIM_INFINITY;
            armed |= pt.cpu_limit;
        }
        pt.cpu_armed = armed;
    }
    if (cpu_kill) sig::send_from_kernel(p, SIGKILL);
    if (cpu_xcpu) sig::send_from_kernel(p, SIGXCPU);
    for (int sig : fired_itimers)
        if (sig) sig::send_from_kernel(p, sig);
    if (nearest != ~0ull) poke_in(max<u64>(nearest, 20000));
}

Result<Setting> get_itimer(proc::Process& p, int which) {
    if (which == ITIMER_REAL) {
        Setting s{0, p.alarm_interval_ns};
        if (p.alarm_timer.armed) {
            u64 now = time::monotonic_ns();
            s.value = p.alarm_timer.deadline_ns > now ? p.alarm_timer.deadline_ns - now : 1000;
        }
        return s;
    }
    if (which != ITIMER_VIRTUAL && which != ITIMER_PROF) return Error(EINVAL);
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt) return Setting{};
    cputime::Times t = cputime::process_times(p);
    u64 now = cputime::sample(t, which == ITIMER_VIRTUAL ? cputime::VIRT : cputime::PROF);
    SpinlockGuard g(pt->lock);
    CpuItimer& it = pt->itimer[which == ITIMER_VIRTUAL ? 0 : 1];
    Setting s{it.expires, it.incr};
    if (s.value) s.value = s.value < now ? TICK_NS : s.value - now;
    return s;
}

namespace {
void alarm_fired(Timer* t) {
    auto* p = static_cast<proc::Process*>(t->data);
    sig::send_from_kernel(*p, SIGALRM);  // SEND_SIG_PRIV: si_code SI_KERNEL
}
}  // namespace

Status set_itimer(proc::Process& p, int which, const Setting& value, Setting* old) {
    if (which == ITIMER_REAL) {
        if (old) *old = TRY(get_itimer(p, which));
        timer_cancel(p.alarm_timer);
        p.alarm_interval_ns = value.value ? value.interval : 0;
        if (!value.value) return {};
        p.alarm_timer.fn = alarm_fired;
        p.alarm_timer.data = &p;
        timer_arm(p.alarm_timer, time::monotonic_ns() + value.value);
        return {};
    }
    if (which != ITIMER_VIRTUAL && which != ITIMER_PROF) return Error(EINVAL);
    ProcessTimers* pt = TRY(timers_of(p));
    cputime::Times t = cputime::process_times(p);
    u64 now = cputime::sample(t, which == ITIMER_VIRTUAL ? cputime::VIRT : cputime::PROF);
    SpinlockGuard g(pt->lock);
    CpuItimer& it = pt->itimer[which == ITIMER_VIRTUAL ? 0 : 1];
    if (old) {
        *old = {it.expires, it.incr};
        if (old->value) old->value = old->value <= now ? TICK_NS : old->value - now;
    }
    // Linux adds a tick to the first expiry (it fires on a tick boundary).
    it.expires = value.value ? now + value.value + TICK_NS : 0;
    it.incr = value.interval;
    if (it.expires) pt->cpu_armed = true;
    return {};
}

void rlimit_cpu_changed(proc::Process& p) {
    const proc::RLimit& lim = p.rlimits[RLIMIT_CPU];
    bool finite = lim.cur != RLIM_INFINITY || lim.max != RLIM_INFINITY;
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt && !finite) return;
    if (!pt) {
        auto made = timers_of(p);
        if (made.is_error()) return;  // no memory: the limit goes unchecked, as before
        pt = made.value();
    }
    {
        SpinlockGuard g(pt->lock);
        pt->cpu_limit = finite;
        if (finite) pt->cpu_armed = true;
    }
    if (finite) poke_in(20000);
}

void exec(proc::Process& p) {
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt) return;
    for (;;) {
        PosixTimer* t;
        {
            SpinlockGuard g(pt->lock);
            t = pt->list.front();
            while (t && t->deleted) t = pt->list.next(*t);
            if (!t) return;
            t->deleted = true;
        }
        destroy_timer(*pt, t);
    }
}

void exit(proc::Process& p) {
    exec(p);
    timer_cancel(p.alarm_timer);
    ProcessTimers* pt = __atomic_exchange_n(&p.timers, nullptr, __ATOMIC_ACQ_REL);
    if (pt) destroy(pt);
}

void thread_exiting(proc::Process& p, sched::Thread& th) {
    ProcessTimers* pt = __atomic_load_n(&p.timers, __ATOMIC_ACQUIRE);
    if (!pt) return;
    SpinlockGuard g(pt->lock);
    for (PosixTimer* t = pt->list.front(); t; t = pt->list.next(*t)) {
        if (t->target == &th) t->target = nullptr;
        if (t->cpu && t->cpu_clock.thread == &th) {
            t->clock_gone = true;
            t->cpu_clock.thread = nullptr;
        }
    }
}

}  // namespace keel::ptimer
