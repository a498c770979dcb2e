#include "kernel/process/proc_info.h"

#include "drivers/tty/tty.h"
#include "kernel/process/cputime.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/handlers.h"
#include "lib/string.h"
#include "mm/address_space.h"

namespace keel::proc {

namespace {

// Holds the tree lock for a scope.
struct TreeGuard {
    TreeGuard() { lock_tree(); }
    ~TreeGuard() { unlock_tree(); }
    TreeGuard(const TreeGuard&) = delete;
    TreeGuard& operator=(const TreeGuard&) = delete;
};

constexpr int PID_LIMIT = 32768;

// The thread of p called tid, or its main thread for tid 0. Tree lock.
sched::Thread* thread_of(Process& p, int tid) {
    if (tid == 0) return p.thread;
    for (sched::Thread* t = p.threads.front(); t; t = p.threads.next(*t))
        if (t->user_tid == tid) return t;
    return nullptr;
}

char thread_state(const Process& p, const sched::Thread& t) {
    if (&t == sched::current()) return 'R';
    if (p.stopped) return 'T';
    switch (t.state) {
    case sched::ThreadState::Runnable: return 'R';
    case sched::ThreadState::Blocked: return 'S';
    case sched::ThreadState::Dead: return 'X';
    }
    return 'S';
}

sig::SigSet actions_matching(const Process& p, bool ignored) {
    sig::SigSet set = 0;
    if (!p.sighand) return set;
    for (int s = 1; s <= sig::NSIG_ALL; ++s) {
        u64 h = p.sighand->actions[s - 1].handler;
        if (ignored ? h == 1 /* SIG_IGN */ : h > 1) set |= sig::bit(s);
    }
    return set;
}

}  // namespace

Status task_info(int tgid, int tid, TaskInfo& out) {
    TreeGuard g;
    Process* p = process_slot(tgid);
    if (!p || p->pid != tgid) return Error(ESRCH);
    out = TaskInfo{};
    out.tgid = p->pid;
    out.ppid = p->parent ? p->parent->pid : 0;
    out.pgid = p->pgid;
    out.sid = p->sid;
    tty::ctty_info(*p, &out.tty_nr, &out.tpgid);
    str_lcpy(out.comm, p->comm, sizeof(out.comm));
    out.cred = p->cred;
    out.umask = p->umask;
    out.exit_signal = p->exit_signal;
    out.start_time_ns = p->start_time_ns;
    out.no_new_privs = p->no_new_privs;
    out.layout = p->layout;
    for (int i = 0; i < RLIMIT_COUNT; ++i) out.rlimits[i] = p->rlimits[i];
    cputime::Times children = cputime::children_times(*p);
    out.cutime_ns = children.user_ns;
    out.cstime_ns = children.system_ns;
    if (p->state == ProcessState::Zombie) {
        out.utime_ns = p->dead_utime_ns;
        out.stime_ns = p->dead_runtime_ns > p->dead_utime_ns ? p->dead_runtime_ns - p->dead_utime_ns : 0;
        if (tid && tid != tgid) return Error(ESRCH);
        out.tid = tgid;
        out.zombie = true;
        out.state = 'Z';
        return {};
    }
    out.nthreads = p->nthreads;
    sched::Thread* t = thread_of(*p, tid);
    if (!t) return Error(ESRCH);
    out.tid = t->user_tid;
    out.state = thread_state(*p, *t);
    out.nice = t->nice;
    out.policy = t->policy;
    out.rt_priority = t->rt_priority;
    sched::thread_sched_info(*t, out.sched);
    out.cpu = t->cpu;
    out.affinity = t->allowed_cpus();
    out.sig_blocked = t->signals.blocked;
    out.sig_pending = t->signals.pending.set;
    if (tid) {
        out.runtime_ns = t->se.sum_exec_runtime;
        out.nvcsw = t->nvcsw;
        out.nivcsw = t->nivcsw;
    } else {
        for (sched::Thread* u = p->threads.front(); u; u = p->threads.next(*u)) {
            out.runtime_ns += u->se.sum_exec_runtime;
            out.nvcsw += u->nvcsw;
            out.nivcsw += u->nivcsw;
        }
    }
    cputime::Times ct = tid ? cputime::thread_times(*t) : cputime::process_times(*p);
    out.utime_ns = ct.user_ns;
    out.stime_ns = ct.system_ns;
    if (p->sighand) {
        SpinlockGuard sg(p->sighand->lock);
        out.sig_shared = p->sighand->shared.set;
    }
    out.sig_ignored = actions_matching(*p, true);
    out.sig_caught = actions_matching(*p, false);
    return {};
}

bool process_alive(int tgid, u64 start_ns) {
    TreeGuard g;
    Process* p = process_slot(tgid);
    return p && p->pid == tgid && (start_ns == 0 || p->start_time_ns == start_ns);
}

u64 process_start_time(int tgid) {
    TreeGuard g;
    Process* p = process_slot(tgid);
    return p && p->pid == tgid ? p->start_time_ns : 0;
}

int tgid_of(int tid) {
    TreeGuard g;
    sched::Thread* t = find_thread(tid);
    return t && t->process ? t->process->pid : 0;
}

int next_tgid(int from) {
    TreeGuard g;
    for (int pid = from < 1 ? 1 : from; pid < PID_LIMIT; ++pid) {
        Process* p = process_slot(pid);
        if (p && p->pid == pid) return pid;
    }
    return 0;
}

int next_tid(int tgid, int from) {
    TreeGuard g;
    Process* p = process_slot(tgid);
    if (!p || p->pid != tgid) return 0;
    if (p->state == ProcessState::Zombie) return from <= tgid ? tgid : 0;
    int best = 0;
    for (sched::Thread* t = p->threads.front(); t; t = p->threads.next(*t))
        if (t->user_tid >= from && (!best || t->user_tid < best)) best = t->user_tid;
    return best;
}

ProcCounts count_processes() {
    ProcCounts c;
    TreeGuard g;
    for (int pid = 1; pid < PID_LIMIT; ++pid) {
        Process* p = process_slot(pid);
        if (!p || p->pid != pid) continue;
        ++c.processes;
        if (p->state == ProcessState::Zombie) continue;
        for (sched::Thread* t = p->threads.front(); t; t = p->threads.next(*t)) {
            ++c.threads;
            if (thread_state(*p, *t) == 'R') ++c.running;
        }
    }
    return c;
}

u64 forks_since_boot() { return static_cast<u64>(last_pid_allocated()); }

Result<mm::AddressSpace*> get_mm(int tgid) {
    TreeGuard g;
    Process* p = process_slot(tgid);
    if (!p || p->pid != tgid || p->state == ProcessState::Zombie || !p->mm) return Error(ESRCH);
    p->mm->get();
    return p->mm;
}

Result<fs::Path> get_path(int tgid, PathKind which) {
    fs::Path out;
    {
        TreeGuard g;
        Process* p = process_slot(tgid);
        if (!p || p->pid != tgid || p->state == ProcessState::Zombie) return Error(ESRCH);
        out = which == PathKind::Cwd ? p->cwd() : which == PathKind::Root ? p->root() : p->exe;
    }
    if (!out) return Error(ENOENT);
    return out;
}

Result<fs::FileRef> get_fd(int tgid, int fd, bool* cloexec) {
    TreeGuard g;
    Process* p = process_slot(tgid);
    if (!p || p->pid != tgid || p->state == ProcessState::Zombie || !p->fds) return Error(ENOENT);
    fs::FileRef f = p->fds->get(fd, cloexec);
    if (!f) return Error(ENOENT);
    return f;
}

int next_fd(int tgid, int from) {
    TreeGuard g;
    Process* p = process_slot(tgid);
    if (!p || p->pid != tgid || p->state == ProcessState::Zombie || !p->fds) return -1;
    return p->fds->next_open(from);
}

int fd_table_size(int tgid) {
    // Linux grows the table in steps (64, then powers of two); Keel's has
    // a fixed size, so report Linux's first step while it covers the open
    // descriptors.
    int highest = -1;
    for (int fd = next_fd(tgid, 0); fd >= 0; fd = next_fd(tgid, fd + 1)) highest = fd;
    int size = 64;
    while (size <= highest) size *= 2;
    return size;
}

}  // namespace keel::proc
