#include "kernel/process/fault.h"

#include "arch/x86_64/cpu.h"
#include "kernel/printk.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "mm/address_space.h"
#include "mm/layout.h"

namespace keel::proc {

namespace {
constexpr u64 PF_WRITE = 1u << 1;
constexpr u64 PF_USER = 1u << 2;
constexpr u64 PF_INSTR = 1u << 4;
constexpr int SIGSEGV_NR = 11;
constexpr int SIGBUS_NR = 7;
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
    if (r == mm::FaultResult::Handled) return true;
    if (!(f.error_code & PF_USER)) {
        arch::irq_disable();
        return false;  // a kernel access: the exception table decides
    }
    // Signals arrive with the rest of the process ABI; until then a fault
    // user mode cannot handle ends the process as the default action would.
    int sig = r == mm::FaultResult::BusError ? SIGBUS_NR : SIGSEGV_NR;
    pr_info("%s[%d]: segfault at %lx ip %016llx sp %016llx error %llx", p ? p->comm : "?", p ? p->pid : 0, addr,
            static_cast<unsigned long long>(f.rip), static_cast<unsigned long long>(f.rsp),
            static_cast<unsigned long long>(f.error_code));
    exit_killed(sig);
}

}  // namespace keel::proc
