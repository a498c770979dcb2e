#include "kernel/signal/handlers.h"
#include "kernel/signal/signal.h"

#include <asm/sigcontext.h>
#include <asm/unistd.h>
#include <asm/ucontext.h>
#include <linux/signal.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/segments.h"
#include "kernel/cgroup/freeze.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/process/caps.h"
#include "kernel/process/coredump.h"
#include "kernel/process/posix_timers.h"
#include "kernel/process/process.h"
#include "kernel/process/rseq.h"
#include "kernel/sched/scheduler.h"
#include "kernel/smp.h"
#include "kernel/uaccess.h"
#include "lib/alloc.h"
#include "mm/slab.h"

namespace keel::sig {

namespace {

enum class Default : u8 { Term, Core, Ignore, Stop, Cont };

Default default_action(int sig) {
    switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGXCPU: case SIGXFSZ: case SIGSYS:
        return Default::Core;
    case SIGCHLD: case SIGURG: case SIGWINCH:
        return Default::Ignore;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
        return Default::Stop;
    case SIGCONT:
        return Default::Cont;
    default:
        return Default::Term;
    }
}

constexpr SigSet STOP_SIGNALS = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);
// Synchronous faults are delivered before anything else pending.
constexpr SigSet SYNC_SIGNALS = bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGTRAP) | bit(SIGFPE) | bit(SIGSYS);
constexpr u64 SIG_DFL_HANDLER = 0;
constexpr u64 SIG_IGN_HANDLER = 1;

sched::Thread& self() { return *sched::current(); }
proc::Process& self_process() { return *sched::current()->process; }

bool ignored_at_generation(const Handlers& h, int sig) {
    const KSigaction& a = h.actions[sig - 1];
    if (a.handler == SIG_IGN_HANDLER) return true;
    return a.handler == SIG_DFL_HANDLER && default_action(sig) == Default::Ignore;
}

siginfo_t user_info(int sig) {
    siginfo_t info{};
    info.si_signo = sig;
    info.si_code = SI_USER;
    if (sched::current()->process) {
        info.si_pid = self_process().pid;
        info.si_uid = self_process().cred.ruid;
    }
    return info;
}

// Adds sig to `pending` (lock held). Standard signals coalesce; real-time
// ones queue with their siginfo.
Status enqueue(Pending& pending, int sig, const siginfo_t& info) {
    if (sig < SIGRTMIN) {
        if (pending.set & bit(sig)) return {};
        pending.standard[sig] = info;
        pending.set |= bit(sig);
        return {};
    }
    auto q = mm::kmalloc(sizeof(Queued));
    if (q.is_error()) return Error(EAGAIN);
    Queued* e = new (q.value()) Queued();
    e->info = info;
    pending.queue.push_back(*e);
    pending.set |= bit(sig);
    return {};
}

// Removes one instance of sig from `pending` (lock held).
siginfo_t take(Pending& pending, int sig) {
    siginfo_t info{};
    if (sig < SIGRTMIN) {
        info = pending.standard[sig];
        pending.set &= ~bit(sig);
        return info;
    }
    bool more = false;
    Queued* found = nullptr;
    pending.queue.for_each([&](Queued& q) {
        if (q.info.si_signo != sig) return;
        if (!found) found = &q;
        else more = true;
    });
    if (found) {
        info = found->info;
        pending.queue.remove(*found);
        mm::kfree(found);
    } else {
        info.si_signo = sig;
    }
    if (!more) pending.set &= ~bit(sig);
    return info;
}

void discard(Pending& pending, SigSet which) {
    for (int sig = 1; sig <= NSIG_ALL; ++sig)
        if (pending.set & which & bit(sig)) (void)take(pending, sig);
}

// Makes the thread notice: wake it from an interruptible sleep, or kick its
// CPU so that it passes through the kernel soon.
void kick_one(sched::Thread& t) {
    if (__atomic_load_n(&t.interruptible, __ATOMIC_SEQ_CST)) sched::wake(&t);
    if (__atomic_load_n(&t.on_cpu, __ATOMIC_RELAXED) && &t != sched::current()) sched::kick_cpu(t.cpu);
}

Status generate(proc::Process& p, sched::Thread* t, int sig, const siginfo_t& info);

// Tells child's parent it stopped (CLD_STOPPED) or continued (CLD_CONTINUED):
// its waiters, and SIGCHLD unless it asked for SA_NOCLDSTOP.
void notify_parent_of_state(proc::Process& child, int code, int status) {
    proc::Process* parent = child.parent;
    if (!parent) return;
    proc::notify_waiters(parent);
    if (parent->sighand->actions[SIGCHLD - 1].flags & SA_NOCLDSTOP) return;
    siginfo_t info{};
    info.si_signo = SIGCHLD;
    info.si_code = code;
    info.si_pid = child.pid;
    info.si_uid = child.cred.ruid;
    info.si_status = status;
    (void)generate(*parent, nullptr, SIGCHLD, info);
}

// A process group is orphaned when no member has a parent in another group
// of the same session (init, as a parent, does not count): nobody is left
// to resume it, so the terminal stop signals are discarded.
bool group_orphaned(const proc::Process& self) {
    bool orphaned = true;
    proc::for_each_process([&](proc::Process& q) {
        if (q.pgid != self.pgid) return;
        proc::Process* parent = q.parent;
        if (!parent || parent->pid == 1) return;
        if (parent->pgid != q.pgid && parent->sid == q.sid) orphaned = false;
    });
    return orphaned;
}

// Does `sig`, just queued, kill the whole process (lock held)? As Linux
// decides when a signal is generated: SIGKILL, or a signal that terminates
// by default (a core dump is left to the thread that takes it) without a
// handler, for a receiver that does not block it, not even before a
// sigtimedwait. init and a process already exiting are left alone; so is
// one whose last thread is leaving (nothing receives the signal).
bool fatal_to_group(proc::Process& p, const sched::Thread* t, int sig) {
    if (p.pid == 1 || __atomic_load_n(&p.group_exit, __ATOMIC_RELAXED) || p.threads.empty()) return false;
    if (sig == SIGKILL) return true;
    if (p.sighand->actions[sig - 1].handler != SIG_DFL_HANDLER || default_action(sig) != Default::Term) return false;
    auto receives = [sig](const sched::Thread& th) {
        return !((th.signals.blocked | th.signals.real_blocked) & bit(sig));
    };
    if (t) return receives(*t);
    bool any = false;
    p.threads.for_each([&](sched::Thread& th) { any |= receives(th); });
    return any;
}

// The process dies of `sig` (lock held): it counts as exiting from now on
// (group_exit: the OOM killer, the freezer and every sleep see it), and
// each thread gets SIGKILL so that a stopped or sleeping one leaves too.
// Each thread leaves at its next return towards user mode, with `sig` as
// the process's status.
void start_group_exit(proc::Process& p, int sig) {
    p.group_exit_status = sig;
    __atomic_store_n(&p.group_exit, true, __ATOMIC_RELEASE);
    siginfo_t kill{};
    kill.si_signo = SIGKILL;
    kill.si_code = SI_KERNEL;
    p.threads.for_each([&](sched::Thread& th) { (void)enqueue(th.signals.pending, SIGKILL, kill); });
}

// What generating a signal set off (queue_locked), for after_generate.
struct Generated {
    bool resume = false;  // SIGCONT for a stopped process
    bool fatal = false;
};

// The part of generate() under the signal lock: `sig` queued, or dropped
// (ignored, or init without a handler).
Status queue_locked(proc::Process& p, sched::Thread* t, int sig, const siginfo_t& info, Generated& out) {
    Handlers& h = *p.sighand;
    // SIGCONT and the stop signals cancel each other when generated.
    if (sig == SIGCONT) {
        discard(h.shared, STOP_SIGNALS);
        if (p.thread) discard(p.thread->signals.pending, STOP_SIGNALS);
        out.resume |= p.stopped;
    } else if (STOP_SIGNALS & bit(sig)) {
        discard(h.shared, bit(SIGCONT));
        if (p.thread) discard(p.thread->signals.pending, bit(SIGCONT));
    }
    bool blocked = p.thread && (p.thread->signals.blocked & bit(sig));
    // init only receives signals it has a handler for; blocked signals
    // are kept (the handler may change before they are unblocked).
    if (p.pid == 1 && !blocked && h.actions[sig - 1].handler == SIG_DFL_HANDLER && sig != SIGCONT) return {};
    if (!blocked && ignored_at_generation(h, sig) && sig != SIGCONT) return {};
    if (!(sig == SIGCONT && ignored_at_generation(h, sig)))
        TRY(enqueue(t ? t->signals.pending : h.shared, sig, info));
    // Dying is visible from here on, not only once a thread has taken
    // the signal: an OOM killer looking meanwhile must not pick another
    // victim (or the same one twice).
    if (fatal_to_group(p, t, sig)) {
        out.fatal = true;
        start_group_exit(p, sig);
    }
    return {};
}

// The rest, without the lock: the parent told of a continue, and the
// receivers woken.
void after_generate(proc::Process& p, sched::Thread* t, const Generated& g) {
    Handlers& h = *p.sighand;
    if (g.resume) {
        p.stopped = false;
        p.report_continued = true;
        notify_parent_of_state(p, CLD_CONTINUED, SIGCONT);
    }
    h.arrivals.wake_all();  // signalfd readers and pollers
    if (t && !g.fatal) {
        kick_one(*t);
    } else {
        // The thread list changes under the signal lock too (add_thread,
        // leave), so it can be walked here, even from an interrupt.
        SpinlockGuard lock(h.lock);
        p.threads.for_each([](sched::Thread& th) { kick_one(th); });
    }
}

Status generate(proc::Process& p, sched::Thread* t, int sig, const siginfo_t& info) {
    Generated g;
    {
        SpinlockGuard lock(p.sighand->lock);
        TRY(queue_locked(p, t, sig, info, g));
    }
    after_generate(p, t, g);
    return {};
}

bool may_signal(const proc::Process& target, int sig) {
    const proc::Cred& c = self_process().cred;
    const proc::Cred& tc = target.cred;
    if (caps::has(c, CAP_KILL)) return true;
    if (c.euid == tc.ruid || c.euid == tc.suid || c.ruid == tc.ruid || c.ruid == tc.suid) return true;
    return sig == SIGCONT && target.sid == self_process().sid;
}

// The next signal to deliver to the current thread (lock held), 0 if none.
int next_signal(const ThreadSignals& ts, const Handlers& h) {
    SigSet ready = (ts.pending.set | h.shared.set) & ~ts.blocked;
    if (!ready) return 0;
    SigSet sync = ready & SYNC_SIGNALS;
    SigSet pick = sync ? sync : ready;
    return __builtin_ctzll(pick) + 1;
}

// Linux's x86-64 signal frame; the FPU state follows it, 64-byte aligned.
struct RtSigframe {
    u64 pretcode;
    struct ucontext uc;
    siginfo_t info;
};
static_assert(sizeof(RtSigframe) == 440);

constexpr u64 EFLAGS_USER_MASK = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;  // AC OF DF TF SF ZF AF PF CF RF

bool on_altstack(const ThreadSignals& ts, u64 sp) {
    return ts.altstack_size && sp > ts.altstack_sp && sp - ts.altstack_sp <= ts.altstack_size;
}

// Writes the FPU state for the frame at `fp` (user address). Returns false
// if the user memory is bad.
bool save_fpu_to_user(u64 fp, usize size) {
    auto area = arch::fpu_state_alloc();
    if (area.is_error()) return false;
    auto* buf = static_cast<u8*>(area.value());
    arch::fpu_save(buf);
    // The sw_reserved bytes of the legacy area say an xsave image follows.
    auto* sw = reinterpret_cast<_fpx_sw_bytes*>(buf + 464);
    sw->magic1 = FP_XSTATE_MAGIC1;
    sw->extended_size = static_cast<u32>(size + FP_XSTATE_MAGIC2_SIZE);
    sw->xfeatures = arch::fpu_xfeatures();
    sw->xstate_size = static_cast<u32>(size);
    u32 magic2 = FP_XSTATE_MAGIC2;
    bool ok = copy_to_user(fp, buf, size).is_ok() && copy_to_user(fp + size, &magic2, 4).is_ok();
    arch::fpu_state_free(buf);
    return ok;
}

bool setup_frame(arch::TrapFrame& f, int sig, const siginfo_t& info, const KSigaction& act, SigSet old_mask) {
    ThreadSignals& ts = self().signals;
    if (!(act.flags & SA_RESTORER)) return false;  // x86-64 needs the C library's restorer
    u64 sp = f.rsp - 128;  // skip the red zone
    if ((act.flags & SA_ONSTACK) && ts.altstack_size && !(ts.altstack_flags & SS_DISABLE) && !on_altstack(ts, f.rsp))
        sp = ts.altstack_sp + ts.altstack_size;
    usize fpsize = arch::fpu_state_size();
    u64 fp = align_down<u64>(sp - fpsize - FP_XSTATE_MAGIC2_SIZE, 64);
    u64 frame = align_down<u64>(fp - sizeof(RtSigframe), 16) - 8;
    if (!save_fpu_to_user(fp, fpsize)) return false;

    RtSigframe fr{};
    fr.pretcode = act.restorer;
    fr.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    fr.uc.uc_stack.ss_sp = reinterpret_cast<void*>(ts.altstack_sp);
    fr.uc.uc_stack.ss_size = ts.altstack_size;
    fr.uc.uc_stack.ss_flags = ts.altstack_size ? (on_altstack(ts, f.rsp) ? SS_ONSTACK : 0) : SS_DISABLE;
    sigcontext& m = fr.uc.uc_mcontext;
    m.r8 = f.r8; m.r9 = f.r9; m.r10 = f.r10; m.r11 = f.r11;
    m.r12 = f.r12; m.r13 = f.r13; m.r14 = f.r14; m.r15 = f.r15;
    m.rdi = f.rdi; m.rsi = f.rsi; m.rbp = f.rbp; m.rbx = f.rbx;
    m.rdx = f.rdx; m.rax = f.rax; m.rcx = f.rcx; m.rsp = f.rsp;
    m.rip = f.rip; m.eflags = f.rflags;
    m.cs = static_cast<u16>(f.cs);
    m.ss = static_cast<u16>(f.ss);
    if (f.vector < 32) {
        m.trapno = f.vector;
        m.err = f.error_code;
        if (f.vector == 14) m.cr2 = info.si_addr ? reinterpret_cast<u64>(info.si_addr) : 0;
    }
    m.oldmask = old_mask;
    m.fpstate = reinterpret_cast<_fpstate_64*>(fp);
    fr.uc.uc_sigmask = old_mask;
    fr.info = info;
    if (copy_to_user(frame, &fr, sizeof(fr)).is_error()) return false;

    f.rdi = static_cast<u64>(sig);
    f.rsi = frame + __builtin_offsetof(RtSigframe, info);
    f.rdx = frame + __builtin_offsetof(RtSigframe, uc);
    f.rax = 0;
    f.rsp = frame;
    f.rip = act.handler;
    f.rflags &= ~(0x100ull | 0x400 | 0x10000 | 0x40000);  // TF DF RF AC
    f.cs = arch::USER_CS;
    f.ss = arch::USER_DS;
    // The handler starts with a clean FPU state, as on Linux.
    if (self().fpu) {
        auto init = arch::fpu_state_alloc();
        if (init.is_ok()) {
            arch::fpu_restore(init.value());
            arch::fpu_state_free(init.value());
        }
    }
    return true;
}

[[noreturn]] void die(int sig) { proc::exit_killed(sig); }

// Job control: the process stops until SIGCONT (or SIGKILL).
void do_stop(int sig) {
    proc::Process& p = self_process();
    p.stopped = true;
    p.stop_signal = sig;
    p.report_stopped = true;
    if (p.parent) notify_parent_of_stop(p, sig);
    sched::Thread& t = self();
    for (;;) {
        __atomic_store_n(&t.interruptible, true, __ATOMIC_SEQ_CST);
        sched::set_current_blocked();
        bool kill_pending;
        {
            SpinlockGuard g(p.sighand->lock);
            kill_pending = (t.signals.pending.set | p.sighand->shared.set) & bit(SIGKILL);
        }
        if (!p.stopped || kill_pending) {
            sched::wake(&t);
            __atomic_store_n(&t.interruptible, false, __ATOMIC_SEQ_CST);
            cgroup::freeze_stopped(t, false);
            // Continued in a freezing cgroup: it stays put until the thaw.
            if (!kill_pending && cgroup::freeze_wanted(t)) cgroup::freezer_trap();
            return;
        }
        // A stopped thread counts as frozen, as in Linux, so a cgroup with
        // one can report "frozen 1".
        cgroup::freeze_stopped(t, true);
        sched::schedule();
        __atomic_store_n(&t.interruptible, false, __ATOMIC_SEQ_CST);
    }
}

}  // namespace

void kick_thread(sched::Thread& t) { kick_one(t); }

bool parent_reaps_automatically(const proc::Process& parent) {
    const KSigaction& a = parent.sighand->actions[SIGCHLD - 1];
    return a.handler == SIG_IGN_HANDLER || (a.flags & SA_NOCLDWAIT);
}

Status send_to_process(proc::Process& p, int sig, const siginfo_t* info) {
    if (sig < 0 || sig > NSIG_ALL) return Error(EINVAL);
    if (sched::current()->process && !may_signal(p, sig)) return Error(EPERM);
    if (sig == 0 || p.state != proc::ProcessState::Running) return {};
    siginfo_t i = info ? *info : user_info(sig);
    return generate(p, nullptr, sig, i);
}

Status send_to_thread(sched::Thread& t, int sig, const siginfo_t* info) {
    if (sig < 0 || sig > NSIG_ALL) return Error(EINVAL);
    proc::Process* p = t.process;
    if (!p) return Error(ESRCH);
    if (!may_signal(*p, sig)) return Error(EPERM);
    if (sig == 0) return {};
    siginfo_t i = info ? *info : user_info(sig);
    if (!info) i.si_code = SI_TKILL;
    return generate(*p, &t, sig, i);
}

namespace {
siginfo_t kernel_info(int sig) {
    siginfo_t info{};
    info.si_signo = sig;
    info.si_code = SI_KERNEL;
    return info;
}
}  // namespace

bool kill_pgrp(int pgid, int sig) {
    if (pgid <= 0 || sig <= 0 || sig > NSIG_ALL) return false;
    siginfo_t info = kernel_info(sig);
    bool found = false;
    proc::for_each_process([&](proc::Process& p) {
        if (p.pgid != pgid) return;
        found = true;
        (void)generate(p, nullptr, sig, info);
    });
    return found;
}

void send_from_kernel(proc::Process& p, int sig) {
    if (sig <= 0 || sig > NSIG_ALL || p.state != proc::ProcessState::Running) return;
    (void)generate(p, nullptr, sig, kernel_info(sig));
}

void send_from_kernel_together(proc::Process& p, int first, int second) {
    if (p.state != proc::ProcessState::Running) return;
    Generated g;
    {
        SpinlockGuard lock(p.sighand->lock);
        (void)queue_locked(p, nullptr, first, kernel_info(first), g);
        (void)queue_locked(p, nullptr, second, kernel_info(second), g);
    }
    after_generate(p, nullptr, g);
}

Status set_temporary_mask(uptr user_mask, u64 size) {
    if (!user_mask) return {};
    if (size != sizeof(SigSet)) return Error(EINVAL);
    SigSet mask = TRY(UserIn<SigSet>(user_mask).read());
    ThreadSignals& ts = sched::current()->signals;
    SpinlockGuard g(proc::current_process()->sighand->lock);
    ts.saved_mask = ts.blocked;
    ts.restore_mask = true;
    ts.blocked = mask & ~UNBLOCKABLE;
    return {};
}

void send_from_kernel_info(proc::Process& p, int sig, const siginfo_t& info) {
    if (sig <= 0 || sig > NSIG_ALL || p.state != proc::ProcessState::Running) return;
    (void)generate(p, nullptr, sig, info);
}

bool send_timer_signal(proc::Process& p, sched::Thread* t, const siginfo_t& info) {
    int sig = info.si_signo;
    if (sig <= 0 || sig > NSIG_ALL || p.state != proc::ProcessState::Running) return false;
    {
        Handlers& h = *p.sighand;
        SpinlockGuard g(h.lock);
        bool blocked = (t ? t : p.thread) && ((t ? t : p.thread)->signals.blocked & bit(sig));
        if (!blocked && ignored_at_generation(h, sig)) return false;
        if (p.pid == 1 && !blocked && h.actions[sig - 1].handler == SIG_DFL_HANDLER) return false;
        const Pending& pd = t ? t->signals.pending : h.shared;
        if (sig < SIGRTMIN && (pd.set & bit(sig))) return false;
    }
    return generate(p, t, sig, info).is_ok();
}

namespace {
void force_signal(int sig, int code, u64 addr, bool fatal) {
    proc::Process& p = self_process();
    Handlers& h = *p.sighand;
    siginfo_t info{};
    info.si_signo = sig;
    info.si_code = code;
    info.si_addr = reinterpret_cast<void*>(addr);
    SpinlockGuard g(h.lock);
    KSigaction& a = h.actions[sig - 1];
    // A fault that is blocked or ignored would loop forever: Linux unblocks
    // it and restores the default action.
    if (fatal || (self().signals.blocked & bit(sig)) || a.handler == SIG_IGN_HANDLER) {
        self().signals.blocked &= ~bit(sig);
        a.handler = SIG_DFL_HANDLER;
    }
    (void)enqueue(self().signals.pending, sig, info);
}
}  // namespace

void force_fault_signal(int sig, int code, u64 addr) { force_signal(sig, code, addr, false); }

void force_fatal_signal(int sig) { force_signal(sig, SI_KERNEL, 0, true); }

bool end_other_threads(proc::Process& p) {
    sched::Thread* me = &self();
    siginfo_t kill{};
    kill.si_signo = SIGKILL;
    kill.si_code = SI_KERNEL;
    {
        SpinlockGuard g(p.sighand->lock);
        if (__atomic_load_n(&p.group_exit, __ATOMIC_RELAXED) || p.exec_thread) return false;
        __atomic_store_n(&p.exec_thread, me, __ATOMIC_RELEASE);
        p.threads.for_each([&](sched::Thread& th) {
            if (&th != me) (void)enqueue(th.signals.pending, SIGKILL, kill);
        });
        p.threads.for_each([&](sched::Thread& th) {
            if (&th != me) kick_one(th);
        });
    }
    return true;
}

bool interrupt_pending() {
    sched::Thread& t = self();
    if (!t.process) return false;
    if (t.process->group_exit) return true;
    if (cgroup::freeze_wanted(t)) return true;
    SigSet pending = t.signals.pending.set | __atomic_load_n(&t.process->sighand->shared.set, __ATOMIC_SEQ_CST);
    return pending & ~t.signals.blocked;
}

Error restart_with(const RestartBlock& rb) {
    self().signals.restart = rb;
    return Error(ERESTART_RESTARTBLOCK);
}

int fatal_signal_pending() {
    proc::Process& p = self_process();
    SpinlockGuard g(p.sighand->lock);
    SigSet ready = (self().signals.pending.set | p.sighand->shared.set) & ~self().signals.blocked;
    if (ready & bit(SIGKILL)) return SIGKILL;
    if (p.pid == 1) return 0;
    for (int sig = 1; sig <= NSIG_ALL; ++sig)
        if ((ready & bit(sig)) && p.sighand->actions[sig - 1].handler == SIG_DFL_HANDLER &&
            default_action(sig) == Default::Term)
            return sig;
    return 0;
}

int dequeue_from(SigSet set, siginfo_t* info) {
    proc::Process& p = self_process();
    int sig;
    {
        SpinlockGuard g(p.sighand->lock);
        ThreadSignals& ts = self().signals;
        SigSet ready = (ts.pending.set | p.sighand->shared.set) & set;
        if (!ready) return 0;
        sig = __builtin_ctzll(ready) + 1;
        Pending& from = (ts.pending.set & bit(sig)) ? ts.pending : p.sighand->shared;
        *info = take(from, sig);
    }
    if (info->si_code == SI_TIMER || sig == SIGALRM) ptimer::signal_dequeued(p, *info);
    return sig;
}

void deliver(arch::TrapFrame& f) {
    sched::Thread& t = self();
    if (!t.process) return;
    proc::Process& p = *t.process;
    bool in_syscall = f.vector == 0x100;
    i64 ret = static_cast<i64>(f.rax);
    bool restartable = in_syscall && (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND ||
                                      ret == -ERESTART_RESTARTBLOCK);
    // The common case, without the lock: nothing pending and nothing to
    // restart. A signal that arrives after this look comes with a kick
    // (kick_thread), whose interrupt brings the thread back here.
    if (!restartable && (__atomic_load_n(&t.signals.pending.set, __ATOMIC_ACQUIRE) |
                         __atomic_load_n(&p.sighand->shared.set, __ATOMIC_ACQUIRE)) == 0)
        return;
    for (;;) {
        // Killed meanwhile (a stop just ended by SIGKILL, say): the status
        // is that of the signal that killed the process, not the SIGKILL
        // each thread was given.
        if (__atomic_load_n(&p.group_exit, __ATOMIC_ACQUIRE)) proc::exit_killed(p.group_exit_status);
        int sig;
        siginfo_t info;
        KSigaction act;
        {
            SpinlockGuard g(p.sighand->lock);
            sig = next_signal(t.signals, *p.sighand);
            if (!sig) break;
            Pending& from = (t.signals.pending.set & bit(sig)) ? t.signals.pending : p.sighand->shared;
            info = take(from, sig);
            act = p.sighand->actions[sig - 1];
            if (act.handler > SIG_IGN_HANDLER && (act.flags & SA_RESETHAND)) {
                p.sighand->actions[sig - 1].handler = SIG_DFL_HANDLER;
                p.sighand->actions[sig - 1].flags &= ~SA_SIGINFO;
            }
        }
        if (info.si_code == SI_TIMER || sig == SIGALRM) ptimer::signal_dequeued(p, info);
        if (act.handler == SIG_IGN_HANDLER) continue;
        if (act.handler == SIG_DFL_HANDLER) {
            Default d = default_action(sig);
            if (d == Default::Ignore || d == Default::Cont) continue;
            if (p.pid == 1 && !(SYNC_SIGNALS & bit(sig))) continue;  // init ignores what it does not handle
            if (d == Default::Stop) {
                if (sig == SIGSTOP || !group_orphaned(p)) do_stop(sig);
                continue;
            }
            if (d == Default::Core && coredump::dump(info, f)) die(sig | 0x80);  // WCOREDUMP
            die(sig);
        }
        // A handler runs: a restartable call either restarts after it or
        // fails with EINTR; a continuation it left is dropped (Linux: at
        // sigreturn), so restart_syscall from the handler fails.
        t.signals.restart.fn = nullptr;
        if (restartable) {
            bool restart = ret == -ERESTARTNOINTR || (ret == -ERESTARTSYS && (act.flags & SA_RESTART));
            if (restart) {
                f.rax = f.error_code;  // the syscall number, kept at entry
                f.rip -= 2;            // back over the syscall instruction
            } else {
                f.rax = static_cast<u64>(-EINTR);
            }
            restartable = false;
        }
        SigSet old_mask = t.signals.restore_mask ? t.signals.saved_mask : t.signals.blocked;
        t.signals.restore_mask = false;
        rseq::signal_deliver(f);  // a critical section aborts before the handler's frame saves it
        if (!setup_frame(f, sig, info, act, old_mask)) {
            pr_info("%s[%d]: cannot deliver signal %d (bad stack or no restorer)", p.comm, p.pid, sig);
            die(SIGSEGV);
        }
        SpinlockGuard g(p.sighand->lock);
        t.signals.blocked |= act.mask;
        if (!(act.flags & SA_NODEFER)) t.signals.blocked |= bit(sig);
        t.signals.blocked &= ~UNBLOCKABLE;
        return;
    }
    if (restartable) {
        // No handler ran: the call restarts as if nothing happened, or goes
        // on through restart_syscall from where it was.
        f.rax = ret == -ERESTART_RESTARTBLOCK ? static_cast<u64>(__NR_restart_syscall) : f.error_code;
        f.rip -= 2;
    }
    if (t.signals.restore_mask) {
        t.signals.restore_mask = false;
        t.signals.blocked = t.signals.saved_mask;
    }
}

Result<u64> sigreturn(arch::TrapFrame& f) {
    u64 frame = f.rsp - 8;  // the handler's `ret` popped pretcode
    RtSigframe fr;
    if (copy_from_user(&fr, frame, sizeof(fr)).is_error()) die(SIGSEGV);
    const sigcontext& m = fr.uc.uc_mcontext;
    f.r8 = m.r8; f.r9 = m.r9; f.r10 = m.r10; f.r11 = m.r11;
    f.r12 = m.r12; f.r13 = m.r13; f.r14 = m.r14; f.r15 = m.r15;
    f.rdi = m.rdi; f.rsi = m.rsi; f.rbp = m.rbp; f.rbx = m.rbx;
    f.rdx = m.rdx; f.rcx = m.rcx; f.rsp = m.rsp; f.rip = m.rip;
    f.rflags = (f.rflags & ~EFLAGS_USER_MASK) | (m.eflags & EFLAGS_USER_MASK);
    f.cs = arch::USER_CS;
    f.ss = arch::USER_DS;
    f.vector = 0;  // not a restartable syscall any more
    {
        SpinlockGuard g(self_process().sighand->lock);
        self().signals.blocked = fr.uc.uc_sigmask & ~UNBLOCKABLE;
    }
    if (m.fpstate && self().fpu) {
        usize size = arch::fpu_state_size();
        auto area = arch::fpu_state_alloc();
        if (area.is_ok()) {
            if (copy_from_user(area.value(), reinterpret_cast<uptr>(m.fpstate), size).is_ok()) {
                arch::fpu_sanitize(area.value());
                arch::fpu_restore(area.value());
            }
            arch::fpu_state_free(area.value());
        }
    }
    return m.rax;
}

Status fork_handlers(proc::Process& child, const proc::Process& parent) {
    Handlers* h = TRY(make_accounted<Handlers>());
    for (int i = 0; i < NSIG_ALL; ++i) h->actions[i] = parent.sighand->actions[i];
    child.sighand = h;
    return {};
}

void exec_reset_handlers(proc::Process& p) {
    SpinlockGuard g(p.sighand->lock);
    for (auto& a : p.sighand->actions) {
        if (a.handler > SIG_IGN_HANDLER) a.handler = SIG_DFL_HANDLER;
        a.flags = 0;
        a.mask = 0;
        a.restorer = 0;
    }
    sched::current()->signals.altstack_sp = 0;
    sched::current()->signals.altstack_size = 0;
    sched::current()->signals.altstack_flags = SS_DISABLE;
}

void notify_parent_of_stop(proc::Process& child, int sig) { notify_parent_of_state(child, CLD_STOPPED, sig); }

void notify_parent_of_exit(proc::Process& child) {
    proc::Process* parent = child.parent;
    if (!parent || child.exit_signal == 0) return;
    siginfo_t info{};
    info.si_signo = child.exit_signal;
    int st = child.exit_status;
    if ((st & 0x7f) == 0) {
        info.si_code = CLD_EXITED;
        info.si_status = (st >> 8) & 0xff;
    } else {
        info.si_code = (st & 0x80) ? CLD_DUMPED : CLD_KILLED;
        info.si_status = st & 0x7f;
    }
    info.si_pid = child.pid;
    info.si_uid = child.cred.ruid;
    (void)generate(*parent, nullptr, child.exit_signal, info);
}

}  // namespace keel::sig
