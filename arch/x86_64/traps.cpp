#include "arch/x86_64/traps.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/thread.h"
#include "kernel/smp.h"
#include "kernel/process/cputime.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "kernel/process/fault.h"

extern "C" const keel::arch::ExtableEntry __extable_start[], __extable_end[];

namespace keel::arch {

namespace {

struct HandlerSlot {
    IrqHandler fn;
    void* ctx;
};
HandlerSlot handlers[256];
u8 next_device_vector = VEC_DEVICE_FIRST;

const char* const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range exceeded", "invalid opcode",
    "device not available", "double fault", "coprocessor segment overrun", "invalid TSS", "segment not present",
    "stack-segment fault", "general protection fault", "page fault", "reserved", "x87 floating-point error",
    "alignment check", "machine check", "SIMD floating-point exception", "virtualization exception",
    "control protection exception", "reserved", "reserved", "reserved", "reserved", "reserved", "reserved",
    "hypervisor injection", "VMM communication", "security exception", "reserved"};

bool fixup_exception(TrapFrame& f) {
    for (const ExtableEntry* e = __extable_start; e < __extable_end; ++e) {
        if (e->insn == f.rip) {
            f.rip = e->fixup;
            return true;
        }
    }
    return false;
}

// A fault with the stack pointer in the guard page under the current
// thread's stack is a stack overflow; it arrives as a double fault, because
// the page fault itself could not be pushed.
bool is_stack_overflow(const TrapFrame& f) {
    IrqsOffProof proof;
    sched::Thread* t = this_cpu(proof).current;
    return t && t->stack_bottom && f.rsp >= t->stack_bottom - 4096 && f.rsp < t->stack_bottom + 256;
}

[[noreturn]] void kernel_exception(TrapFrame& f) {
    if (is_stack_overflow(f)) {
        IrqsOffProof proof;
        panic_with_frame(f, "kernel stack overflow in thread %s (%s, rsp %llx, stack %lx-%lx)",
                         this_cpu(proof).current->name, exception_names[f.vector],
                         static_cast<unsigned long long>(f.rsp), this_cpu(proof).current->stack_bottom,
                         this_cpu(proof).current->stack_top);
    }
    if (f.vector == 14) {
        u64 cr2 = read_cr2();
        const char* what = (f.error_code & 1) ? "protection violation" : "not-present page";
        const char* access = (f.error_code & 16) ? "instruction fetch" : (f.error_code & 2) ? "write" : "read";
        panic_with_frame(f, "page fault at %016llx: %s on %s (error %llx)", static_cast<unsigned long long>(cr2),
                         what, access, static_cast<unsigned long long>(f.error_code));
    }
    uptr off = 0;
    const char* sym = ksym_lookup(f.rip, &off);
    panic_with_frame(f, "%s (vector %llu, error %llx) in kernel at %s+0x%lx", exception_names[f.vector],
                     static_cast<unsigned long long>(f.vector), static_cast<unsigned long long>(f.error_code),
                     sym ? sym : "?", off);
}

// An exception in user mode becomes the signal Linux sends for it.
void user_exception(TrapFrame& f) {
    irq_enable();
    int sig = SIGSEGV, code = SI_KERNEL;
    u64 addr = 0;
    switch (f.vector) {
    case 0: sig = SIGFPE; code = FPE_INTDIV; addr = f.rip; break;
    case 1: sig = SIGTRAP; code = TRAP_TRACE; break;
    case 3: sig = SIGTRAP; code = SI_KERNEL; break;
    case 4: sig = SIGSEGV; code = SI_KERNEL; break;
    case 5: sig = SIGSEGV; code = SI_KERNEL; break;
    case 6: sig = SIGILL; code = ILL_ILLOPN; addr = f.rip; break;
    case 7: sig = SIGFPE; code = SI_KERNEL; break;
    case 16: case 19: sig = SIGFPE; code = FPE_FLTINV; addr = f.rip; break;
    case 17: sig = SIGBUS; code = BUS_ADRALN; break;
    default: sig = SIGSEGV; code = SI_KERNEL; break;  // #GP, #SS, #NP...
    }
    sig::force_fault_signal(sig, code, addr);
    proc::exit_to_user(f);
    irq_disable();
}

}  // namespace

void set_irq_handler(u8 vector, IrqHandler handler, void* ctx) { handlers[vector] = {handler, ctx}; }

u8 alloc_irq_vector() {
    if (next_device_vector >= VEC_TIMER) return 0;
    return next_device_vector++;
}

}  // namespace keel::arch

using namespace keel;
using namespace keel::arch;

extern "C" void trap_dispatch(TrapFrame* frame) {
    TrapFrame& f = *frame;
    if (f.from_user()) cputime::enter_kernel();
    if (f.vector < 32) {
        // NMIs from smp_stop_others land here too.
        if (f.vector == 2 && smp_stop_requested()) halt_forever();
        if (f.vector == 14 && proc::handle_page_fault(f, read_cr2())) {
            if (f.from_user()) {
                irq_enable();
                proc::exit_to_user(f);  // a fault signal is delivered here
                irq_disable();
            }
            return;
        }
        if (!f.from_user() && fixup_exception(f)) return;
        if (f.from_user()) {
            user_exception(f);
            return;
        }
        kernel_exception(f);
    }

    if (f.vector == VEC_SPURIOUS) return;
    IrqsOffProof proof;
    Cpu& cpu = this_cpu(proof);
    ++cpu.irq_count;
    const HandlerSlot& h = handlers[f.vector];
    if (h.fn) h.fn(f, h.ctx);
    else pr_warn("unexpected interrupt vector %llu on cpu %u", static_cast<unsigned long long>(f.vector), cpu.id);
    lapic_eoi();
    // Wake-ups the handler did owe other CPUs their IPIs.
    if (cpu.kick_mask) sched::send_kicks();
    if (f.from_user()) {
        // Rescheduling and signals on the way back to user mode.
        irq_enable();
        proc::exit_to_user(f);
        irq_disable();
        return;
    }
    // Preempt on the way out if the interrupt asked for it and it is safe.
    if (cpu.need_resched && cpu.preempt_count == 0) sched::preempt_from_irq();
}
