// Process identity and lifetime: exit, pids, thread-area setup.
#include <asm/prctl.h>
#include <linux/utsname.h>

#include "arch/x86_64/cpu.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "kernel/version.h"
#include "lib/string.h"

namespace keel {

using proc::current_process;

SYSCALL(exit_group) { proc::exit_group(static_cast<int>(args.a0)); }

// exit ends the calling thread; the process ends with its last thread.
SYSCALL(exit) { proc::exit_thread(static_cast<int>(args.a0)); }

SYSCALL(getpid) { return static_cast<u64>(current_process()->pid); }
SYSCALL(gettid) { return static_cast<u64>(sched::current()->user_tid); }
SYSCALL(getppid) {
    proc::Process* parent = current_process()->parent;
    return static_cast<u64>(parent ? parent->pid : 0);
}

SYSCALL(set_tid_address) {
    sched::current()->clear_child_tid = args.a0;
    return static_cast<u64>(sched::current()->user_tid);
}

SYSCALL(arch_prctl) {
    sched::Thread* t = sched::current();
    uptr addr = args.a1;
    switch (args.a0) {
    case ARCH_SET_FS:
        if (addr >= mm::USER_END) return Error(EPERM);
        t->fs_base = addr;
        arch::wrmsr(arch::msr::FS_BASE, addr);
        return 0;
    case ARCH_SET_GS:
        if (addr >= mm::USER_END) return Error(EPERM);
        t->gs_base = addr;
        arch::wrmsr(arch::msr::KERNEL_GS_BASE, addr);
        return 0;
    case ARCH_GET_FS:
        TRY(UserOut<u64>(addr).write(t->fs_base));
        return 0;
    case ARCH_GET_GS:
        TRY(UserOut<u64>(addr).write(t->gs_base));
        return 0;
    default:
        return Error(EINVAL);
    }
}

}  // namespace keel
