#include "kernel/signal/handlers.h"
#include "kernel/process/process.h"

#include "fs/locks.h"

#include <linux/resource.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "drivers/tty/tty.h"
#include "kernel/cgroup/cgroup.h"
#include "kernel/cgroup/freeze.h"
#include "kernel/cgroup/memcg.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/process/cputime.h"
#include "kernel/process/posix_timers.h"
#include "kernel/process/rseq.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "kernel/smp.h"
#include "kernel/uaccess.h"
#include "arch/x86_64/fpu.h"
#include "lib/alloc.h"
#include "mm/address_space.h"

extern "C" [[noreturn]] void enter_user_asm(const keel::arch::TrapFrame* frame, keel::u64 stack_top);

namespace keel {
void futex_wake_address(uptr addr);               // kernel/syscall/sys_futex.cpp
void futex_exit_robust_list(uptr head, int tid);  // kernel/syscall/sys_futex.cpp
}

namespace keel::proc {

Result<int> FdTable::install(fs::OpenFile* f, int from, bool cloexec_flag, int limit) {
    // Every call that allocates a descriptor stays below the caller's
    // RLIMIT_NOFILE (EMFILE at it).
    if (Process* self = sched::current()->process)
        limit = static_cast<int>(min<u64>(static_cast<u64>(limit), self->rlimits[RLIMIT_NOFILE].cur));
    SpinlockGuard g(lock_);
    for (int fd = from < 0 ? 0 : from; fd < limit && fd < MAX_FDS; ++fd) {
        if (files_[fd]) continue;
        files_[fd] = f;
        if (cloexec_flag) cloexec_[fd / 64] |= 1ull << (fd % 64);
        else cloexec_[fd / 64] &= ~(1ull << (fd % 64));
        return fd;
    }
    return Error(EMFILE);
}

fs::FileRef FdTable::get(int fd, bool* cloexec_flag) {
    if (fd < 0 || fd >= MAX_FDS) return {};
    SpinlockGuard g(lock_);
    if (cloexec_flag) *cloexec_flag = cloexec_[fd / 64] & (1ull << (fd % 64));
    return fs::FileRef(files_[fd]);
}

void FdTable::release(fs::OpenFile* f) {
    fs::locks_remove_posix(*f, this);  // any close drops the process's record locks on the file
    f->put();
}

Status FdTable::close(int fd) {
    if (fd < 0 || fd >= MAX_FDS) return Error(EBADF);
    fs::OpenFile* f;
    {
        SpinlockGuard g(lock_);
        f = files_[fd];
        files_[fd] = nullptr;
    }
    if (!f) return Error(EBADF);
    release(f);
    return {};
}

void FdTable::replace(int fd, fs::OpenFile* f, bool cloexec_flag) {
    f->get();
    fs::OpenFile* old;
    {
        SpinlockGuard g(lock_);
        old = files_[fd];
        files_[fd] = f;
        if (cloexec_flag) cloexec_[fd / 64] |= 1ull << (fd % 64);
        else cloexec_[fd / 64] &= ~(1ull << (fd % 64));
    }
    if (old) release(old);
}

bool FdTable::cloexec(int fd) {
    if (fd < 0 || fd >= MAX_FDS) return false;
    SpinlockGuard g(lock_);
    return cloexec_[fd / 64] & (1ull << (fd % 64));
}

void FdTable::set_cloexec(int fd, bool on) {
    if (fd < 0 || fd >= MAX_FDS) return;
    SpinlockGuard g(lock_);
    if (on) cloexec_[fd / 64] |= 1ull << (fd % 64);
    else cloexec_[fd / 64] &= ~(1ull << (fd % 64));
}

fs::OpenFile* FdTable::take_next(int* fd, int last, bool cloexec_only) {
    SpinlockGuard g(lock_);
    for (int i = *fd < 0 ? 0 : *fd; i <= last && i < MAX_FDS; ++i) {
        fs::OpenFile* f = files_[i];
        if (!f) continue;
        u64 bit = 1ull << (i % 64);
        if (cloexec_only && !(cloexec_[i / 64] & bit)) continue;
        files_[i] = nullptr;
        cloexec_[i / 64] &= ~bit;
        *fd = i;
        return f;
    }
    return nullptr;
}

void FdTable::close_range(int first, int last, bool cloexec_only) {
    if (cloexec_only) {
        SpinlockGuard g(lock_);
        for (int fd = first; fd <= last && fd < MAX_FDS; ++fd)
            if (files_[fd]) cloexec_[fd / 64] |= 1ull << (fd % 64);
        return;
    }
    int fd = first;
    while (fs::OpenFile* f = take_next(&fd, last, false)) {
        release(f);
        ++fd;
    }
}

void FdTable::close_on_exec() {
    int fd = 0;
    while (fs::OpenFile* f = take_next(&fd, MAX_FDS - 1, true)) {
        release(f);
        ++fd;
    }
}

void FdTable::close_all() { close_range(0, MAX_FDS - 1, false); }

Result<FdTable*> FdTable::copy() {
    FdTable* t = TRY(make_accounted<FdTable>());
    SpinlockGuard g(lock_);
    for (int fd = 0; fd < MAX_FDS; ++fd) {
        if (!files_[fd]) continue;
        t->files_[fd] = files_[fd];
        files_[fd]->get();
    }
    for (usize i = 0; i < sizeof(cloexec_) / sizeof(cloexec_[0]); ++i) t->cloexec_[i] = cloexec_[i];
    return t;
}

int FdTable::next_open(int from) {
    SpinlockGuard g(lock_);
    for (int fd = from < 0 ? 0 : from; fd < MAX_FDS; ++fd)
        if (files_[fd]) return fd;
    return -1;
}

fs::Path Process::root() {
    SpinlockGuard g(fs_lock);
    return fs_root;
}

fs::Path Process::cwd() {
    SpinlockGuard g(fs_lock);
    return fs_cwd;
}

void Process::set_root(fs::Path p) {
    fs::Path old;
    SpinlockGuard g(fs_lock);
    old = move(fs_root);
    fs_root = move(p);
}

void Process::set_cwd(fs::Path p) {
    fs::Path old;
    SpinlockGuard g(fs_lock);
    old = move(fs_cwd);
    fs_cwd = move(p);
}

u64 page_table_of(const sched::Thread& t) {
    mm::AddressSpace* as = __atomic_load_n(&t.mm, __ATOMIC_ACQUIRE);
    return as ? as->page_table() : arch::kernel_pml4();
}

Process* current_process() { return sched::current()->process; }

namespace {
[[noreturn]] void leave(int wstatus, bool group);
}

void exit_to_user(arch::TrapFrame& frame) {
    Cpu* c = current_cpu_raw();
    // A thread still Blocked here would be lost at its next schedule().
    KASSERT(__atomic_load_n(&sched::current()->state, __ATOMIC_RELAXED) == sched::ThreadState::Runnable);
    if (c->need_resched && c->preempt_count == 0) sched::schedule();
    Process* p = current_process();
    sched::Thread* self = sched::current();
    if (p && cgroup::freeze_wanted(*self)) cgroup::freezer_trap();
    if (p && p->group_exit) leave(p->group_exit_status, true);
    if (p && ptimer::cpu_timers_armed(*p)) ptimer::check_cpu_timers(*p, *self);
    if (self->memcg_pages_over_high) memcg::throttle_over_high();
    sig::deliver(frame);
    if (self->rseq_resume) {
        rseq::notify_resume(frame);
        // A bad rseq area costs a SIGSEGV, delivered before user mode.
        if (sig::interrupt_pending()) sig::deliver(frame);
    }
    // Interrupts stay off from here to user mode (the entry code turns them
    // off anyway before it returns), so the stamp needs no guard.
    arch::irq_disable();
    // Backstop: a reschedule IPI deferred under a raw interrupts-off
    // section would otherwise wait for this CPU's next kernel entry.
    if (current_cpu_raw()->kick_mask) sched::send_kicks();
    cputime::enter_user_irqs_off();
}

namespace {

// The process tree: parents, children, zombies and pids. A sleeping lock:
// exit and wait do real work under it.
sched::Mutex tree_lock;
constexpr int PID_MAX = 32768;  // /proc/sys/kernel/pid_max on small machines
u64 pid_bitmap[PID_MAX / 64];
Process* pid_table[PID_MAX];
int last_pid = 0;
Process* init_process = nullptr;
// Children whose parent ignores SIGCHLD: freed once their thread is gone.
IntrusiveList<Process, &Process::sibling> autoreaped;

void free_process(Process* p) {
    cgroup::process_released(*p);
    pid_bitmap[p->pid / 64] &= ~(1ull << (p->pid % 64));
    pid_table[p->pid] = nullptr;
    if (p->sighand) destroy(p->sighand);
    destroy(p);
}

void notify_parent_locked(Process* parent) { notify_waiters(parent); }

void release_files(FdTable* fds) {
    if (!fds) return;
    fds->close_all();
    destroy(fds);
}

// `wstatus` is encoded as wait(2) reports it.
sched::Thread* tid_table[PID_MAX];

// The calling thread leaves its process; the last one out tears the
// process down. `group` (exit_group, fatal signals) makes every other
// thread leave too, with `wstatus` as the process's status.
// The exiting thread's FPU save area: unhooked before it is freed, so that
// a preemption in between cannot save registers into freed memory.
void release_fpu(sched::Thread* self) {
    void* area = self->fpu;
    __atomic_store_n(&self->fpu, nullptr, __ATOMIC_RELEASE);
    if (area) arch::fpu_state_free(area);
}

// The exiting thread lets go of its page tables: first so that no switch
// back to it loads them again, then off the CPU, then the reference.
void drop_thread_mm(sched::Thread* self) {
    mm::AddressSpace* mine = self->mm;
    __atomic_store_n(&self->mm, nullptr, __ATOMIC_RELEASE);
    load_page_tables(arch::kernel_pml4());
    if (mine) mine->put();
}

[[noreturn]] void leave(int wstatus, bool group) {
    sched::Thread* self = sched::current();
    Process* p = self->process;
    if (p->pid == 1 && (group || p->nthreads == 1))
        panic("Attempted to kill init! exitcode=0x%08x", static_cast<unsigned>(group ? wstatus : p->group_exit ? p->group_exit_status : wstatus));
    // Locks the thread still holds go to their waiters as "owner died".
    if (uptr head = self->robust_list) futex_exit_robust_list(head, self->user_tid);
    // CLONE_CHILD_CLEARTID / set_tid_address: zero the word and wake a
    // waiter (how pthread_join and vfork-style spawners learn of the exit).
    if (uptr ctid = self->clear_child_tid) {
        if (UserOut<u32>(ctid).write(0u).is_ok()) futex_wake_address(ctid);
    }
    ptimer::thread_exiting(*p, *self);
    cputime::thread_exited(*p, *self);
    // Before it stops counting among the process's threads: once the last
    // one is gone the parent may reap, and the memory must be gone by then
    // (memory.current, as on Linux, where each thread drops it in exit_mm).
    drop_thread_mm(self);
    memcg::uncharge_kernel_stack(self->stack_bottom);  // as its memory: before the parent may reap
    bool last;
    {
        sched::MutexGuard g(tree_lock);
        if (group && !p->group_exit) {
            p->group_exit = true;
            p->group_exit_status = wstatus;
        }
        {
            SpinlockGuard sg(p->sighand->lock);
            p->threads.remove(*self);
            --p->nthreads;
        }
        tid_table[self->user_tid] = nullptr;
        if (self->user_tid != p->pid) pid_bitmap[self->user_tid / 64] &= ~(1ull << (self->user_tid % 64));
        last = p->nthreads == 0;
        if (p->nthreads == 1 && __atomic_load_n(&p->exec_thread, __ATOMIC_ACQUIRE)) p->exec_wait.wake_all();
        if (p->thread == self) p->thread = p->threads.front();
        // The others notice on their way back to user mode.
        if (group) {
            SpinlockGuard sg(p->sighand->lock);
            p->threads.for_each([](sched::Thread& t) { sig::kick_thread(t); });
        }
    }
    cgroup::thread_exit(*self, last ? p : nullptr);
    if (!last) {
        self->process = nullptr;
        release_fpu(self);
        sched::exit_current();
    }
    if (p->group_exit) wstatus = p->group_exit_status;
    // Detached under the tree lock, where /proc (proc_info.cpp) takes its
    // references to them, and let go of outside it.
    FdTable* fds;
    mm::AddressSpace* mm;
    fs::Path cwd, root, exe;
    {
        sched::MutexGuard g(tree_lock);
        fds = p->fds;
        p->fds = nullptr;
        mm = p->mm;
        p->mm = nullptr;
        {
            SpinlockGuard fg(p->fs_lock);
            swap(cwd, p->fs_cwd);
            swap(root, p->fs_root);
        }
        swap(exe, p->exe);
    }
    release_files(fds);
    cwd = fs::Path();
    root = fs::Path();
    exe = fs::Path();
    drop_thread_mm(self);
    if (mm) mm->put();
    if (p->vfork_done) p->vfork_done->complete();
    p->vfork_done = nullptr;
    ptimer::exit(*p);
    // A session leader's exit hangs up its terminal; groups it orphans are
    // signalled once its children have been given to init.
    tty::OrphanedGroups orphans = tty::exit_ctty(*p);
    {
        sched::MutexGuard g(tree_lock);
        // Orphans go to the nearest ancestor that asked for them
        // (PR_SET_CHILD_SUBREAPER), else to init; zombies included. Those
        // that asked (PR_SET_PDEATHSIG) are told their parent died.
        Process* reaper = init_process;
        for (Process* a = p->parent; a; a = a->parent)
            if (a->child_subreaper) {
                reaper = a;
                break;
            }
        bool gave_zombies = false;
        while (Process* c = p->children.pop_front()) {
            c->parent = reaper;
            reaper->children.push_back(*c);
            gave_zombies |= c->state == ProcessState::Zombie;
            if (c->pdeath_signal && c->state == ProcessState::Running) {
                siginfo_t info{};
                info.si_signo = c->pdeath_signal;
                info.si_code = SI_USER;
                info.si_pid = p->pid;
                info.si_uid = p->cred.ruid;
                sig::send_from_kernel_info(*c, c->pdeath_signal, info);
            }
        }
        if (gave_zombies) notify_parent_locked(reaper);
        p->exit_status = wstatus;
        p->state = ProcessState::Zombie;
        self->process = nullptr;
        if (p->parent && sig::parent_reaps_automatically(*p->parent)) {
            p->parent->children.remove(*p);
            autoreaped.push_back(*p);
            notify_parent_locked(p->parent);  // a waiter may now see ECHILD
        } else if (p->parent) {
            sig::notify_parent_of_exit(*p);
            notify_parent_locked(p->parent);
        }
    }
    tty::signal_orphaned(orphans);
    release_fpu(self);
    sched::exit_current();
}

[[noreturn]] void do_exit(int wstatus) { leave(wstatus, true); }

bool matches(const Process& c, int pid, const Process& waiter) {
    if (pid > 0) return c.pid == pid;
    if (pid == -1) return true;
    if (pid == 0) return c.pgid == waiter.pgid;
    return c.pgid == -pid;
}

}  // namespace

void notify_waiters(Process* parent) {
    parent->child_wait.update_and_wake([&] { ++parent->child_events; }, true);
}

int last_pid_allocated() {
    sched::MutexGuard g(tree_lock);
    return last_pid;
}

void lock_tree() { tree_lock.lock(); }
void unlock_tree() { tree_lock.unlock(); }
Process* process_slot(int pid) { return pid > 0 && pid < PID_MAX ? pid_table[pid] : nullptr; }

Process* find_process(int pid) {
    sched::MutexGuard g(tree_lock);
    Process* p = process_slot(pid);
    return p && p->state == ProcessState::Running ? p : nullptr;
}

Result<int> alloc_pid() {
    sched::MutexGuard g(tree_lock);
    // Auto-reaped processes from earlier exits: their threads have long
    // left the process by now (they dropped it before exiting).
    while (Process* dead = autoreaped.pop_front()) free_process(dead);
    for (int i = 1; i < PID_MAX; ++i) {
        // Linux hands out pids in increasing order and wraps, skipping 1..300
        // after the first wrap; a fresh machine never gets that far here.
        int pid = (last_pid + i) % PID_MAX;
        if (pid == 0) continue;
        u64 bit = 1ull << (pid % 64);
        if (pid_bitmap[pid / 64] & bit) continue;
        pid_bitmap[pid / 64] |= bit;
        last_pid = pid;
        return pid;
    }
    return Error(EAGAIN);
}

void attach_child(Process* parent, Process* child) {
    sched::MutexGuard g(tree_lock);
    child->parent = parent;
    if (parent) parent->children.push_back(*child);
    pid_table[child->pid] = child;
    if (child->pid == 1) init_process = child;
}

Result<int> wait_child(int pid, int options, int* wstatus, cputime::Times* usage) {
    Process* self = current_process();
    bool peek = options & 0x01000000;  // WNOWAIT: report, leave the child as it is
    for (;;) {
        u64 seen;
        {
            sched::MutexGuard g(tree_lock);
            bool any = false;
            Process* zombie = nullptr;
            for (Process* c = self->children.front(); c; c = self->children.next(*c)) {
                if (!matches(*c, pid, *self)) continue;
                any = true;
                if (c->state == ProcessState::Zombie) {
                    zombie = c;
                    break;
                }
                if ((options & 2 /* WUNTRACED */) && c->report_stopped && c->stopped) {
                    if (!peek) c->report_stopped = false;
                    *wstatus = (c->stop_signal << 8) | 0x7f;
                    return c->pid;
                }
                if ((options & 8 /* WCONTINUED */) && c->report_continued) {
                    if (!peek) c->report_continued = false;
                    *wstatus = 0xffff;
                    return c->pid;
                }
            }
            if (!any) return Error(ECHILD);
            if (zombie && peek) {
                *wstatus = zombie->exit_status;
                return zombie->pid;
            }
            if (zombie) {
                self->children.remove(*zombie);
                cputime::Times t = cputime::child_reaped(*self, *zombie);
                if (usage) *usage = t;
                int reaped = zombie->pid;
                *wstatus = zombie->exit_status;
                free_process(zombie);
                return reaped;
            }
            if (options & 1 /* WNOHANG */) return 0;
            seen = self->child_events;
        }
        if (!self->child_wait.wait_until_interruptible([&] { return self->child_events != seen; }))
            return Error(sig::ERESTARTSYS);
    }
}

void exit_group(int status) { do_exit((status & 0xff) << 8); }

void exit_thread(int status) { leave((status & 0xff) << 8, false); }

Status become_sole_thread() {
    sched::Thread* self = sched::current();
    Process& p = *self->process;
    bool alone;
    {
        sched::MutexGuard g(tree_lock);
        alone = p.nthreads == 1;
        if (!alone && !sig::end_other_threads(p)) return Error(EAGAIN);
    }
    if (!alone && !p.exec_wait.wait_until_killable([&] { return __atomic_load_n(&p.nthreads, __ATOMIC_ACQUIRE) == 1; })) {
        // Killed meanwhile: the process dies of that, not of this exec.
        __atomic_store_n(&p.exec_thread, nullptr, __ATOMIC_RELEASE);
        return Error(EINTR);
    }
    sched::MutexGuard g(tree_lock);
    // The leader's ID stayed allocated to the process; its thread is gone.
    if (self->user_tid != p.pid) {
        tid_table[self->user_tid] = nullptr;
        pid_bitmap[self->user_tid / 64] &= ~(1ull << (self->user_tid % 64));
        self->user_tid = p.pid;
        tid_table[p.pid] = self;
    }
    p.thread = self;
    __atomic_store_n(&p.exec_thread, nullptr, __ATOMIC_RELEASE);
    return {};
}

Status add_thread(Process& p, sched::Thread& t, int tid) {
    sched::MutexGuard g(tree_lock);
    // The process is going away, or an exec is ending its threads.
    if (p.group_exit || p.exec_thread) return Error(EINTR);
    t.user_tid = tid;
    t.process = &p;
    if (p.mm && !t.mm) {
        p.mm->get();
        t.mm = p.mm;
    }
    SpinlockGuard sg(p.sighand->lock);
    p.threads.push_back(t);
    ++p.nthreads;
    tid_table[tid] = &t;
    return {};
}

sched::Thread* find_thread(int tid) { return tid > 0 && tid < PID_MAX ? tid_table[tid] : nullptr; }

void exit_killed(int signal) {
    // The SIGKILL of another thread's execve ends only this thread
    // (sig::end_other_threads); the process lives on in the new image.
    Process* p = current_process();
    sched::Thread* execing = __atomic_load_n(&p->exec_thread, __ATOMIC_ACQUIRE);
    if (execing && execing != sched::current() && !__atomic_load_n(&p->group_exit, __ATOMIC_ACQUIRE)) leave(0, false);
    do_exit(signal & 0xff);
}

void enter_user(const arch::TrapFrame& frame) {
    // A new thread of a freezing cgroup stops before its first instruction.
    if (sched::current()->process && cgroup::freeze_wanted(*sched::current())) cgroup::freezer_trap();
    arch::irq_disable();
    IrqsOffProof proof;
    Cpu& cpu = this_cpu(proof);
    cpu.user_entry = frame;
    sched::Thread* self = sched::current();
    if (self->rseq_resume) rseq::notify_resume(cpu.user_entry);
    cputime::enter_user();
    enter_user_asm(&cpu.user_entry, sched::current()->stack_top);
}

}  // namespace keel::proc
