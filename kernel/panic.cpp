#include "kernel/panic.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "mm/layout.h"

namespace keel {

namespace {

long panic_timeout = 0;
int panic_depth = 0;

void print_frame(const arch::TrapFrame& f) {
    uptr off = 0;
    const char* sym = ksym_lookup(f.rip, &off);
    pr_emerg("RIP: %04llx:%016llx %s+0x%lx", static_cast<unsigned long long>(f.cs),
             static_cast<unsigned long long>(f.rip), sym ? sym : "?", off);
    pr_emerg("RSP: %04llx:%016llx EFLAGS: %08llx", static_cast<unsigned long long>(f.ss),
             static_cast<unsigned long long>(f.rsp), static_cast<unsigned long long>(f.rflags));
    pr_emerg("RAX: %016llx RBX: %016llx RCX: %016llx", (unsigned long long)f.rax, (unsigned long long)f.rbx,
             (unsigned long long)f.rcx);
    pr_emerg("RDX: %016llx RSI: %016llx RDI: %016llx", (unsigned long long)f.rdx, (unsigned long long)f.rsi,
             (unsigned long long)f.rdi);
    pr_emerg("RBP: %016llx R08: %016llx R09: %016llx", (unsigned long long)f.rbp, (unsigned long long)f.r8,
             (unsigned long long)f.r9);
    pr_emerg("R10: %016llx R11: %016llx R12: %016llx", (unsigned long long)f.r10, (unsigned long long)f.r11,
             (unsigned long long)f.r12);
    pr_emerg("R13: %016llx R14: %016llx R15: %016llx", (unsigned long long)f.r13, (unsigned long long)f.r14,
             (unsigned long long)f.r15);
    pr_emerg("CR2: %016llx CR3: %016llx CR4: %016llx", (unsigned long long)arch::read_cr2(),
             (unsigned long long)arch::read_cr3(), (unsigned long long)arch::read_cr4());
}

bool readable_kernel_word(uptr addr) {
    if (addr < mm::DIRECT_MAP_BASE || (addr & 7)) return false;
    return arch::translate(arch::read_cr3() & arch::pte::ADDR_MASK, addr) != 0;
}

[[noreturn]] void panic_finish() {
    pr_emerg("---[ end Kernel panic ]---");
    if (panic_timeout < 0) machine_reboot();
    if (panic_timeout > 0) {
        pr_emerg("Rebooting in %ld seconds..", panic_timeout);
        u64 khz = time::tsc_khz();
        u64 end = arch::rdtsc() + static_cast<u64>(panic_timeout) * (khz ? khz : 1000000) * 1000;
        while (arch::rdtsc() < end) arch::cpu_relax();
        machine_reboot();
    }
    arch::halt_forever();
}

[[noreturn]] void vpanic(const arch::TrapFrame* frame, const char* fmt, va_list ap) {
    arch::irq_disable();
    if (++panic_depth > 2) arch::halt_forever();  // panicking inside panic
    printk_enter_panic_mode();
    smp_stop_others();
    char reason[256];
    vformat(reason, sizeof(reason), fmt, ap);
    pr_emerg("Kernel panic - not syncing: %s", reason);
    if (panic_depth == 1) {
        if (frame) print_frame(*frame);
        print_backtrace(frame ? frame->rbp : reinterpret_cast<uptr>(__builtin_frame_address(0)), LOG_EMERG);
    }
    panic_finish();
}

}  // namespace

void set_panic_timeout(long seconds) { panic_timeout = seconds; }

void print_backtrace(uptr rbp, int level) {
    printk(level, "Call Trace:");
    for (int depth = 0; depth < 32 && readable_kernel_word(rbp) && readable_kernel_word(rbp + 8); ++depth) {
        uptr ret = reinterpret_cast<uptr*>(rbp)[1];
        if (ret < mm::KERNEL_VIRT_BASE) break;
        uptr off = 0;
        const char* sym = ksym_lookup(ret - 1, &off);  // -1: the call, not the next line
        printk(level, " [<%016lx>] %s+0x%lx", ret, sym ? sym : "?", off + 1);
        uptr next = reinterpret_cast<uptr*>(rbp)[0];
        if (next <= rbp) break;  // frames grow upwards; anything else is garbage
        rbp = next;
    }
}

void panic(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vpanic(nullptr, fmt, ap);
}

void panic_with_frame(const arch::TrapFrame& frame, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vpanic(&frame, fmt, ap);
}

void machine_reboot() {
    arch::irq_disable();
    arch::outb(0xcf9, 0x06);  // PCI reset control (q35)
    arch::outb(0x64, 0xfe);   // keyboard controller reset line
    // Last resort: a triple fault through an empty IDT.
    struct [[gnu::packed]] {
        u16 limit;
        u64 base;
    } empty_idt{0, 0};
    asm volatile("lidt %0; int3" ::"m"(empty_idt));
    arch::halt_forever();
}

void assert_failed(const char* expr, const char* file, int line) { panic("assertion failed: %s at %s:%d", expr, file, line); }

}  // namespace keel
