// Controlling terminals and job control, with Linux 6.12's rules: which
// open makes a terminal controlling, TIOCSCTTY/TIOCNOTTY, the foreground
// process group, SIGTTIN/SIGTTOU for background groups, and what a
// session leader's exit does to its terminal.
#include <asm-generic/fcntl.h>
#include <asm-generic/ioctls.h>
#include <asm/signal.h>

#include "drivers/tty/tty.h"
#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/signal/handlers.h"
#include "kernel/signal/signal.h"

namespace keel::tty {

namespace {

// Guards every Process::ctty and every Tty's session and pgrp. Never
// held across a sleep, a signal or a tty's own lock.
Spinlock g_ctrl{LockRank::Device};

proc::Process& me() { return *proc::current_process(); }

bool privileged() { return caps::capable(CAP_SYS_ADMIN); }

bool is_leader(const proc::Process& p) { return p.sid == p.pid; }

// is_ignored: blocked by the calling thread or ignored by the process.
bool ignored(int sig) {
    if (sched::current()->signals.blocked & sig::bit(sig)) return true;
    SpinlockGuard g(me().sighand->lock);
    return me().sighand->actions[sig - 1].handler == reinterpret_cast<u64>(SIG_IGN);
}

// will_become_orphaned_pgrp(pgrp, NULL): no member has a parent in
// another group of the same session (children of init do not count).
bool pgrp_orphaned(int pgid) {
    bool orphaned = true;
    proc::for_each_process([&](proc::Process& p) {
        if (p.pgid != pgid) return;
        proc::Process* parent = p.parent;
        if (!parent || parent->pid == 1) return;
        if (parent->pgid != pgid && parent->sid == p.sid) orphaned = false;
    });
    return orphaned;
}

// session_of_pgrp: the session of the group's members, or of the process
// with that pid; 0 when neither exists. Zombies count: a pid stays in its
// group until it is reaped (the first stage of a pipeline that exited).
int session_of(int pgid) {
    int sid = 0, pid_sid = 0;
    proc::lock_tree();
    for (int pid = 1; pid < 32768; ++pid) {
        proc::Process* p = proc::process_slot(pid);
        if (!p) continue;
        if (p->pgid == pgid) sid = p->sid;
        if (p->pid == pgid) pid_sid = p->sid;
    }
    proc::unlock_tree();
    return sid ? sid : pid_sid;
}

void set_ctty_locked(proc::Process& p, Tty& tty) {
    tty.get();
    p.ctty = &tty;
    tty.session = p.sid;
    tty.pgrp = p.pgid;
}

// disassociate_ctty: the calling session leader gives up its terminal.
// On exit a serial line is hung up; otherwise the foreground group gets
// SIGHUP (and SIGCONT unless exiting).
void disassociate(bool on_exit) {
    Tty* tty = current_ctty();
    if (!tty) return;
    if (on_exit && !tty->is_pty()) {
        tty->hangup(true);
    } else {
        int fg = foreground_of(*tty);
        if (fg > 0) {
            signal_pgrp(fg, SIGHUP);
            if (!on_exit) signal_pgrp(fg, SIGCONT);
        }
        (void)session_clear_tty(*tty);
    }
    tty->put();
}

void clear_own_ctty(proc::Process& p) {
    Tty* old;
    {
        SpinlockGuard g(g_ctrl);
        old = p.ctty;
        p.ctty = nullptr;
    }
    if (old) old->put();
}

}  // namespace

void signal_pgrp(int pgid, int sig) { (void)sig::kill_pgrp(pgid, sig); }

int foreground_of(const Tty& tty) {
    SpinlockGuard g(g_ctrl);
    return tty.pgrp;
}

Tty* current_ctty() {
    SpinlockGuard g(g_ctrl);
    Tty* t = me().ctty;
    if (t) t->get();
    return t;
}

bool is_ctty_of_current(const Tty& tty) {
    SpinlockGuard g(g_ctrl);
    return me().ctty == &tty;
}

int session_clear_tty(Tty& tty) {
    int sid;
    {
        SpinlockGuard g(g_ctrl);
        sid = tty.session;
        tty.session = 0;
        tty.pgrp = 0;
    }
    usize dropped = 0;
    proc::for_each_process([&](proc::Process& p) {
        SpinlockGuard g(g_ctrl);
        if (p.ctty != &tty) return;
        p.ctty = nullptr;
        ++dropped;
    });
    // The caller holds a reference of its own, so these are never the last.
    while (dropped--) tty.put();
    return sid;
}

void hangup_session(Tty& tty, bool exit_session) {
    int fg = foreground_of(tty);
    int sid = session_clear_tty(tty);
    if (sid > 0) {
        proc::lock_tree();
        if (proc::Process* leader = proc::process_slot(sid);
            leader && leader->state == proc::ProcessState::Running && leader->sid == sid) {
            sig::send_from_kernel_together(*leader, SIGHUP, SIGCONT);
        }
        proc::unlock_tree();
    }
    if (exit_session && fg > 0) signal_pgrp(fg, SIGHUP);
}

Status check_change(Tty& tty, int sig) {
    proc::Process& p = me();
    int fg;
    {
        SpinlockGuard g(g_ctrl);
        if (p.ctty != &tty) return {};
        fg = tty.pgrp;
    }
    if (!fg || fg == p.pgid) return {};
    if (ignored(sig)) return sig == SIGTTIN ? Status(Error(EIO)) : Status{};
    if (pgrp_orphaned(p.pgid)) return Error(EIO);
    signal_pgrp(p.pgid, sig);
    return Error(sig::ERESTARTSYS);
}

void open_may_acquire(Tty& tty, bool readable) {
    proc::Process& p = me();
    if (!readable) return;  // write-only opens do not get job control's privileges
    SpinlockGuard g(g_ctrl);
    if (is_leader(p) && !p.ctty && tty.session == 0) set_ctty_locked(p, tty);
}

Result<u64> ctty_ioctl(TtyFile* f, Tty& real, u32 cmd, u64 arg) {
    proc::Process& p = me();
    // On the terminal itself (not a pty master) the group and session are
    // only told to processes it controls.
    bool direct = f != nullptr;
    switch (cmd) {
    case TIOCSCTTY: {
        bool steal = false;
        {
            SpinlockGuard g(g_ctrl);
            if (is_leader(p) && real.session == p.sid) return 0;
            if (!is_leader(p) || p.ctty) return Error(EPERM);
            if (real.session) {
                if (arg != 1 || !privileged()) return Error(EPERM);
                steal = true;
            }
        }
        if (steal) (void)session_clear_tty(real);
        bool readable = !f || (f->flags & O_ACCMODE) != O_WRONLY;
        if (!readable && !privileged()) return Error(EPERM);
        SpinlockGuard g(g_ctrl);
        if (p.ctty || real.session) return Error(EPERM);  // raced with another taker
        set_ctty_locked(p, real);
        return 0;
    }
    case TIOCNOTTY:
        if (!direct || !is_ctty_of_current(real)) return Error(ENOTTY);
        if (is_leader(p)) disassociate(false);
        clear_own_ctty(p);
        return 0;
    case TIOCGPGRP: {
        int pgrp;
        {
            SpinlockGuard g(g_ctrl);
            if (direct && p.ctty != &real) return Error(ENOTTY);
            pgrp = real.pgrp;
        }
        TRY(UserOut<int>(arg).write(pgrp));
        return 0;
    }
    case TIOCGSID: {
        int sid;
        {
            SpinlockGuard g(g_ctrl);
            if (direct && p.ctty != &real) return Error(ENOTTY);
            sid = real.session;
        }
        if (!sid) return Error(ENOTTY);
        TRY(UserOut<int>(arg).write(sid));
        return 0;
    }
    case TIOCSPGRP: {
        if (Status st = check_change(real, SIGTTOU); st.is_error())
            return Error(st.error().code() == EIO ? ENOTTY : st.error().code());
        int pgrp = TRY(UserIn<int>(arg).read());
        if (pgrp < 0) return Error(EINVAL);
        {
            SpinlockGuard g(g_ctrl);
            if (p.ctty != &real || real.session != p.sid) return Error(ENOTTY);
        }
        int sid = pgrp ? session_of(pgrp) : 0;
        if (!sid) return Error(ESRCH);
        if (sid != p.sid) return Error(EPERM);
        SpinlockGuard g(g_ctrl);
        if (p.ctty != &real || real.session != p.sid) return Error(ENOTTY);
        real.pgrp = pgrp;
        return 0;
    }
    default:
        return Error(ENOTTY);
    }
}

void ctty_info(const proc::Process& p, u32* tty_nr, int* tpgid) {
    SpinlockGuard g(g_ctrl);
    const Tty* t = p.ctty;
    *tty_nr = 0;
    *tpgid = -1;
    if (!t) return;
    u32 minor = t->minor();
    *tty_nr = (minor & 0xff) | (t->major() << 8) | ((minor & ~0xffu) << 12);
    if (t->pgrp) *tpgid = t->pgrp;
}

void fork_ctty(proc::Process& child, const proc::Process& parent) {
    SpinlockGuard g(g_ctrl);
    child.ctty = parent.ctty;
    if (child.ctty) child.ctty->get();
}

void setsid_ctty(proc::Process& p) { clear_own_ctty(p); }

namespace {

// will_become_orphaned_pgrp with `gone` already out of the tree: no live
// member other than `gone` has a parent outside the group but in the same
// session (init and `gone` do not count as parents). Tree lock held.
bool orphaned_without(int pgid, const proc::Process& gone) {
    for (int pid = 1; pid < 32768; ++pid) {
        proc::Process* q = proc::process_slot(pid);
        if (!q || q == &gone || q->pgid != pgid || q->state != proc::ProcessState::Running) continue;
        proc::Process* parent = q->parent;
        if (!parent || parent == &gone || parent->pid == 1) continue;
        if (parent->pgid != pgid && parent->sid == q->sid) return false;
    }
    return true;
}

bool has_stopped(int pgid) {
    for (int pid = 1; pid < 32768; ++pid) {
        proc::Process* q = proc::process_slot(pid);
        if (q && q->pgid == pgid && q->state == proc::ProcessState::Running && q->stopped) return true;
    }
    return false;
}

// kill_orphaned_pgrp for an exit: the exiting process's group, and each
// child's group, may lose their last link to a parent in the session.
OrphanedGroups orphan_groups_on_exit(proc::Process& p) {
    OrphanedGroups out;
    auto consider = [&](int pgid) {
        for (usize i = 0; i < out.count; ++i)
            if (out.pgids[i] == pgid) return;
        if (out.count < 8 && orphaned_without(pgid, p) && has_stopped(pgid)) out.pgids[out.count++] = pgid;
    };
    proc::lock_tree();
    proc::Process* parent = p.parent;
    if (parent && parent->pgid != p.pgid && parent->sid == p.sid) consider(p.pgid);
    for (proc::Process* c = p.children.front(); c; c = p.children.next(*c))
        if (c->state == proc::ProcessState::Running && c->pgid != p.pgid && c->sid == p.sid) consider(c->pgid);
    proc::unlock_tree();
    return out;
}

}  // namespace

OrphanedGroups exit_ctty(proc::Process& p) {
    if (is_leader(p)) disassociate(true);
    clear_own_ctty(p);
    return orphan_groups_on_exit(p);
}

void signal_orphaned(const OrphanedGroups& groups) {
    for (usize i = 0; i < groups.count; ++i) {
        signal_pgrp(groups.pgids[i], SIGHUP);
        signal_pgrp(groups.pgids[i], SIGCONT);
    }
}

}  // namespace keel::tty
