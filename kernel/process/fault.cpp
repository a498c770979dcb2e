#include "kernel/process/fault.h"

#include "arch/x86_64/cpu.h"
#include "kernel/cgroup/memcg.h"
#include "kernel/printk.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "mm/address_space.h"
#include "mm/layout.h"

namespace keel::proc {

namespace {
constexpr u64 PF_WRITE = 1u << 1;
constexpr u64 PF_USER = 1u << 2;
constexpr u64 PF_INSTR = 1u << 4;
}  // namespace

bool handle_page_fault(arch::TrapFrame& f, uptr addr) {
    Process* p = sched::current()->process;
    // Faults in kernel code on kernel addresses are kernel bugs: not here.
    if (!p || !p->mm || addr >= mm::USER_END) {
        if (f.from_user()) {
            // A user access to a kernel address: as an unmapped user address.
        } else {
            return false;
        }
    }
    // The fault arrived through an interrupt gate; let the interrupted
    // context's interrupt state return while paging in (it may sleep).
    if (f.rflags & arch::FLAGS_IF) arch::irq_enable();
    mm::FaultResult r = mm::FaultResult::MapError;
    if (p && p->mm && addr < mm::USER_END)
        r = p->mm->handle_fault(addr, f.error_code & PF_WRITE, f.error_code & PF_INSTR);
    if (r == mm::FaultResult::Handled) return true;  // over memory.high: exit_to_user pauses
    if (!(f.error_code & PF_USER)) {
        arch::irq_disable();
        return false;  // a kernel access: the exception table decides
    }
    if (r == mm::FaultResult::OutOfMemory) {
        // A cgroup's OOM victim was logged by the OOM killer already.
        if (!memcg::current_killed())
            pr_err("%s[%d]: out of memory on a page fault at %lx", p ? p->comm : "?", p ? p->pid : 0, addr);
        exit_killed(SIGKILL);
    }
    if (r == mm::FaultResult::BusError) sig::force_fault_signal(SIGBUS, BUS_ADRERR, addr);
    else sig::force_fault_signal(SIGSEGV, r == mm::FaultResult::AccessError ? SEGV_ACCERR : SEGV_MAPERR, addr);
    return true;  // back to user mode, where the signal is delivered
}

}  // namespace keel::proc
