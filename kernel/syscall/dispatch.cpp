#include "arch/x86_64/cpu.h"
#include "arch/x86_64/segments.h"
#include "kernel/printk.h"
#include "kernel/process/cputime.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"

extern "C" const keel::sys::SyscallEntry __syscalls_start[], __syscalls_end[];
extern "C" void syscall_entry();

namespace keel::sys {

namespace {

SyscallHandler table[KEEL_SYSCALL_COUNT];
// One bit per number: unknown calls are logged once each.
u64 reported_unknown[(KEEL_SYSCALL_COUNT + 63) / 64 + 1];

void report_unknown(u64 nr) {
    u64 slot = nr < KEEL_SYSCALL_COUNT ? nr : KEEL_SYSCALL_COUNT;
    u64 bit = 1ull << (slot % 64);
    if (__atomic_fetch_or(&reported_unknown[slot / 64], bit, __ATOMIC_RELAXED) & bit) return;
    pr_warn("syscall %llu (%s) is not implemented: ENOSYS", static_cast<unsigned long long>(nr), syscall_name(nr));
}

}  // namespace

const char* syscall_name(u64 nr) {
    return nr < KEEL_SYSCALL_COUNT && kSyscallNames[nr][0] ? kSyscallNames[nr] : "unknown";
}

void init_syscalls() {
    for (const SyscallEntry* e = __syscalls_start; e < __syscalls_end; ++e) {
        KASSERT(e->nr < KEEL_SYSCALL_COUNT && !table[e->nr]);
        table[e->nr] = e->fn;
    }
}

void init_syscall_msrs() {
    // SYSCALL loads CS from STAR[47:32]; SYSRET loads CS from STAR[63:48]+16
    // and SS from STAR[63:48]+8, hence the base just below user data.
    u64 star = (u64(arch::USER32_CS & ~3u) << 48) | (u64(arch::KERNEL_CS) << 32);
    arch::wrmsr(arch::msr::STAR, star);
    arch::wrmsr(arch::msr::LSTAR, reinterpret_cast<u64>(&syscall_entry));
    // Entry runs with IF, TF, DF, AC and NT clear.
    arch::wrmsr(arch::msr::FMASK, (1u << 9) | (1u << 8) | (1u << 10) | (1u << 18) | (1u << 14));
    arch::wrmsr(arch::msr::EFER, arch::rdmsr(arch::msr::EFER) | 1);  // SCE
}

}  // namespace keel::sys

using namespace keel;

extern "C" void syscall_dispatch(arch::TrapFrame* frame) {
    // Entered with interrupts off (syscall_entry.S): the user-time stamp
    // needs no guard of its own.
    cputime::enter_kernel_irqs_off();
    arch::irq_enable();
    u64 nr = frame->rax;
    sys::SyscallArgs args{frame->rdi, frame->rsi, frame->rdx, frame->r10, frame->r8, frame->r9, frame};
    sys::SyscallHandler fn = nr < KEEL_SYSCALL_COUNT ? sys::table[nr] : nullptr;
    if (!fn) {
        sys::report_unknown(nr);
        frame->rax = static_cast<u64>(-ENOSYS);
    } else {
        Result<u64> r = fn(args);
        frame->rax = r.is_ok() ? r.value() : static_cast<u64>(-static_cast<i64>(r.error().code()));
    }
    proc::exit_to_user(*frame);
}
