// Process creation: clone, clone3, fork, vfork, for processes and threads,
// with Linux's checks of the flag set. Namespaces are not implemented: the
// flags fail (EPERM without CAP_SYS_ADMIN, as Linux, else EINVAL).
#include <linux/sched.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "drivers/tty/tty.h"
#include "kernel/cgroup/cgroup.h"
#include "kernel/cgroup/freeze.h"
#include "kernel/cgroup/memcg.h"
#include "kernel/signal/handlers.h"
#include "kernel/printk.h"
#include "kernel/process/caps.h"
#include "kernel/process/posix_timers.h"
#include "kernel/process/process.h"
#include "kernel/process/rseq.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/syscall.h"
#include "kernel/time.h"
#include "kernel/uaccess.h"
#include "lib/alloc.h"
#include "lib/string.h"
#include "mm/address_space.h"
#include "mm/slab.h"

namespace keel {

namespace {

using proc::Process;

void fork_child_entry(void* arg) {
    auto* staged = static_cast<arch::TrapFrame*>(arg);
    arch::TrapFrame frame = *staged;
    mm::kfree(staged);
    proc::enter_user(frame);
}

void free_child(Process* c) {
    if (c->fds) {
        c->fds->close_all();
        destroy(c->fds);
    }
    if (c->mm) c->mm->put();
    if (c->sighand) destroy(c->sighand);
    destroy(c);
}

// The user registers and FPU state of a new thread or process: the
// caller's, with rax = 0 and, if given, a new stack.
Result<sched::Thread*> new_user_thread(const char* name, arch::TrapFrame& frame, uptr stack, u64 flags, u64 tls) {
    auto staged = mm::kmalloc(sizeof(arch::TrapFrame));
    if (staged.is_error()) return staged.error();
    auto* child_frame = static_cast<arch::TrapFrame*>(staged.value());
    *child_frame = frame;
    child_frame->rax = 0;
    if (stack) child_frame->rsp = stack;
    auto thread = sched::create_kthread(name, fork_child_entry, child_frame);
    if (thread.is_error()) {
        mm::kfree(child_frame);
        return thread.error();
    }
    sched::Thread* t = thread.value();
    sched::Thread* self = sched::current();
    auto fpu = arch::fpu_state_alloc();
    if (fpu.is_error()) {
        mm::kfree(child_frame);
        return fpu.error();  // the unstarted thread is leaked; rare
    }
    t->fpu = fpu.value();
    arch::fpu_save(t->fpu);  // the caller's live user FPU state
    t->fs_base = (flags & CLONE_SETTLS) ? tls : self->fs_base;
    t->gs_base = self->gs_base;
    t->signals.blocked = self->signals.blocked;
    t->timer_slack_ns = t->default_timer_slack_ns = self->timer_slack_ns;
    sched::fork_params(t, *self);
    memcg::charge_kernel_stack(t->stack_bottom);
    return t;
}

// The new task's cgroup and pids charge (kernel/cgroup), given back unless
// the task is created. The thread belongs to its cgroup before it joins its
// process, so that a concurrent move of the process sees it right.
struct CgroupCharge {
    cgroup::Cgroup* c = nullptr;
    sched::Thread* attached = nullptr;
    ~CgroupCharge() {
        if (attached) cgroup::thread_exit(*attached, nullptr);
        else if (c) cgroup::cancel_fork(c);
    }
    void attach(sched::Thread& t) {
        cgroup::attach_new(t, c);
        attached = &t;
    }
    void commit() { attached = nullptr, c = nullptr; }
};

Result<u64> clone_thread(u64 flags, uptr stack, uptr parent_tid, uptr child_tid, u64 tls, arch::TrapFrame& frame,
                         int cgroup_fd) {
    if (!(flags & CLONE_FILES)) {
        pr_warn("clone: a thread with its own descriptor table is not supported");
        return Error(ENOSYS);
    }
    Process* p = proc::current_process();
    CgroupCharge charge{TRY(cgroup::charge_fork(cgroup_fd, true))};  // pids.max counts threads
    int tid = TRY(proc::alloc_pid());
    sched::Thread* t = TRY(new_user_thread(p->comm, frame, stack, flags, tls));
    if (flags & CLONE_CHILD_CLEARTID) t->clear_child_tid = child_tid;
    // A thread on a new stack does not inherit the alternate signal stack.
    charge.attach(*t);
    TRY(proc::add_thread(*p, *t, tid));
    charge.commit();
    cgroup::thread_joined(*t);
    u32 utid = static_cast<u32>(tid);
    if (flags & CLONE_PARENT_SETTID) (void)UserOut<u32>(parent_tid).write(utid);
    if (flags & CLONE_CHILD_SETTID) (void)UserOut<u32>(child_tid).write(utid);
    sched::start_thread(t);
    return utid;
}

Result<u64> do_clone(u64 flags, uptr stack, uptr parent_tid, uptr child_tid, u64 tls, arch::TrapFrame& frame,
                     int cgroup_fd = -1) {
    // Linux's consistency rules for the flag set.
    if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND)) return Error(EINVAL);
    if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM)) return Error(EINVAL);
    if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS)) return Error(EINVAL);
    if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS)) return Error(EINVAL);
    if ((flags & CLONE_THREAD) && (flags & (CLONE_NEWUSER | CLONE_NEWPID))) return Error(EINVAL);
    // Namespaces: Linux needs CAP_SYS_ADMIN for all but a user namespace;
    // Keel has none of them, so where Linux would create one it fails with
    // EINVAL (tests/diff/known-differences.txt).
    constexpr u64 NS_FLAGS = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET |
                             CLONE_NEWCGROUP | CLONE_NEWUSER;
    if (flags & NS_FLAGS) {
        if ((flags & NS_FLAGS & ~u64(CLONE_NEWUSER)) && !caps::capable(CAP_SYS_ADMIN)) return Error(EPERM);
        return Error(EINVAL);
    }
    if (flags & CLONE_THREAD) return clone_thread(flags, stack, parent_tid, child_tid, tls, frame, cgroup_fd);
    // Sharing handlers or descriptors between processes: not yet.
    if (flags & (CLONE_SIGHAND | CLONE_FILES)) {
        static bool warned = false;
        if (!warned) pr_warn("clone: flags %llx (shared handlers or descriptors between processes) not supported",
                             static_cast<unsigned long long>(flags));
        warned = true;
        return Error(ENOSYS);
    }

    Process* parent = proc::current_process();
    CgroupCharge charge{TRY(cgroup::charge_fork(cgroup_fd, false))};
    Process* child = TRY(make_accounted<Process>());
    auto pid = proc::alloc_pid();
    if (pid.is_error()) {
        destroy(child);
        return pid.error();
    }
    child->pid = pid.value();
    child->pgid = parent->pgid;
    child->sid = parent->sid;
    child->umask = parent->umask;
    child->cred = parent->cred;
    child->fs_root = parent->root();
    child->fs_cwd = parent->cwd();
    for (int i = 0; i < proc::RLIMIT_COUNT; ++i) child->rlimits[i] = parent->rlimits[i];
    child->no_new_privs = parent->no_new_privs;
    child->dumpable = parent->dumpable;
    child->thp_disable = parent->thp_disable;
    child->oom_score_adj = parent->oom_score_adj;
    child->oom_score_adj_min = parent->oom_score_adj_min;
    child->exe = parent->exe;
    child->layout = parent->layout;
    child->start_time_ns = time::monotonic_ns();
    child->exit_signal = static_cast<int>(flags & CSIGNAL);
    str_lcpy(child->comm, parent->comm, sizeof(child->comm));

    auto fail = [&](Error e) -> Result<u64> {
        free_child(child);
        return e;
    };
    if (flags & CLONE_VM) {
        parent->mm->get();
        child->mm = parent->mm;
    } else {
        auto as = parent->mm->fork();
        if (as.is_error()) return fail(as.error());
        child->mm = as.value();
    }
    if (auto st = sig::fork_handlers(*child, *parent); st.is_error()) return fail(st.error());
    auto fds = parent->fds->copy();
    if (fds.is_error()) return fail(fds.error());
    child->fds = fds.value();

    auto thread = new_user_thread(child->comm, frame, stack, flags, tls);
    if (thread.is_error()) return fail(thread.error());
    sched::Thread* t = thread.value();
    sched::Thread* self = sched::current();
    if (flags & CLONE_CHILD_CLEARTID) t->clear_child_tid = child_tid;
    // The child inherits the mask and the alternate stack, not pending signals.
    t->signals.altstack_sp = self->signals.altstack_sp;
    t->signals.altstack_size = self->signals.altstack_size;
    t->signals.altstack_flags = self->signals.altstack_flags;
    if (!(flags & CLONE_VM)) rseq::fork(*t, *self);
    child->thread = t;
    charge.attach(*t);
    MUST(proc::add_thread(*child, *t, child->pid));  // a new process cannot be exiting
    charge.commit();
    // The child's CPU time starts at 0, so its RLIMIT_CPU is checked anew.
    ptimer::rlimit_cpu_changed(*child);

    u32 child_pid = static_cast<u32>(child->pid);
    if (flags & CLONE_PARENT_SETTID) (void)UserOut<u32>(parent_tid).write(child_pid);
    if (flags & CLONE_CHILD_SETTID) (void)child->mm->poke(child_tid, &child_pid, sizeof(child_pid));

    sched::Completion vfork_done;
    if (flags & CLONE_VFORK) child->vfork_done = &vfork_done;
    tty::fork_ctty(*child, *parent);
    proc::attach_child(parent, child);
    sched::start_thread(t);
    if (flags & CLONE_VFORK) {
        // Counted as frozen while it waits, as Linux does, so that a
        // freeze of its cgroup completes.
        cgroup::freeze_vfork_wait(*sched::current(), true);
        vfork_done.wait();
        cgroup::freeze_vfork_wait(*sched::current(), false);
    }
    return child_pid;
}

}  // namespace

// x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
SYSCALL(clone) { return do_clone(args.a0, args.a1, args.a2, args.a3, args.a4, *args.frame); }

// clone3: the same, from struct clone_args. The stack is given as its lowest
// address and size; the new thread starts at its top.
SYSCALL(clone3) {
    usize size = args.a1;
    if (size < CLONE_ARGS_SIZE_VER0) return Error(EINVAL);
    if (size > 4096) return Error(E2BIG);
    clone_args ca{};
    TRY(copy_from_user(&ca, args.a0, min<usize>(size, sizeof(ca))));
    // Bytes beyond what Keel knows must be zero (a newer caller's fields).
    for (usize off = sizeof(ca); off < size; ++off) {
        u8 b;
        TRY(copy_from_user(&b, args.a0 + off, 1));
        if (b) return Error(E2BIG);
    }
    if ((ca.flags & CSIGNAL) || ca.exit_signal > 64) return Error(EINVAL);
    if ((ca.flags & CLONE_INTO_CGROUP) && (ca.cgroup > 0x7fffffff || size < CLONE_ARGS_SIZE_VER2)) return Error(EINVAL);
    if (ca.flags & (CLONE_PIDFD | CLONE_CLEAR_SIGHAND)) return Error(ENOSYS);
    if (ca.flags & CLONE_NEWTIME) return Error(caps::capable(CAP_SYS_ADMIN) ? EINVAL : EPERM);  // as the other namespaces
    if (ca.set_tid || ca.set_tid_size) return Error(EINVAL);
    if ((ca.stack == 0) != (ca.stack_size == 0)) return Error(EINVAL);
    uptr stack = ca.stack ? ca.stack + ca.stack_size : 0;
    int cgroup_fd = (ca.flags & CLONE_INTO_CGROUP) ? static_cast<int>(ca.cgroup) : -1;
    return do_clone((ca.flags & ~u64(CLONE_INTO_CGROUP)) | ca.exit_signal, stack, ca.parent_tid, ca.child_tid, ca.tls,
                    *args.frame, cgroup_fd);
}

SYSCALL(fork) { return do_clone(17 /* SIGCHLD */, 0, 0, 0, 0, *args.frame); }

SYSCALL(vfork) { return do_clone(CLONE_VM | CLONE_VFORK | 17 /* SIGCHLD */, 0, 0, 0, 0, *args.frame); }

}  // namespace keel
