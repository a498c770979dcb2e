// Boot: from the PVH entry to the first kernel thread and, later, init.
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/segments.h"
#include "drivers/uart16550.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/init.h"
#include "kernel/ktest.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/scheduler.h"
#include "kernel/smp.h"
#include "kernel/syscall/syscall.h"
#include "arch/x86_64/fpu.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "kernel/version.h"
#include "mm/address_space.h"
#include "mm/layout.h"
#include "mm/page_alloc.h"
#include "mm/vmalloc.h"

extern "C" char __kernel_phys_start[], __kernel_end[], __boot_end[];
extern "C" void (*__init_array_start[])(), (*__init_array_end[])();
extern "C" const keel::u64 __smap_sites_start[], __smap_sites_end[];
extern "C" [[noreturn]] void kmain(keel::u32 start_info_phys);

namespace keel {

Cmdline kernel_cmdline;
u64 boot_tsc_kmain = 0;

namespace {

constinit Cpu boot_cpu{};
alignas(16) u8 bsp_ist_stacks[arch::IST_COUNT][8192];

// Keys the kernel consumes itself; everything else goes to init (Linux rule).
const StringView known_keys[] = {"console", "loglevel", "quiet", "debug", "init", "panic", "ktest",
                                 "rdinit", "earlyprintk", "tsc_early_khz", "tsc", "nosmp", "maxcpus",
                                 "keel.bench", "keel.crashtest", "keel.icount", "idle"};

void apply_cmdline() {
    u32 errs = kernel_cmdline.parse(StringView(boot_info.cmdline), known_keys);
    if (kernel_cmdline.has("quiet")) set_console_loglevel(4);
    if (kernel_cmdline.has("debug")) set_console_loglevel(10);
    i64 lvl = kernel_cmdline.get_int("loglevel", -1);
    if (lvl >= 0) set_console_loglevel(static_cast<int>(lvl));
    set_panic_timeout(static_cast<long>(kernel_cmdline.get_int("panic", 0)));
    if (kernel_cmdline.get_int("cpuidle_haltpoll.force", 0) == 1) sched::set_idle_mode(sched::IdleMode::Adaptive);
    if (auto v = kernel_cmdline.get("idle"); v.has_value()) sched::set_idle_mode(v.value());
    for (u32 bit = 1; bit & Cmdline::kAllErrors; bit <<= 1) {
        if (errs & bit)
            pr_err("Kernel command line: %s; parameters may be lost",
                   Cmdline::error_name(static_cast<Cmdline::Error>(bit)));
    }
}

}  // namespace

void enable_cpu_protections_on_this_cpu() {
    auto leaf7 = arch::cpuid(7);
    arch::fpu_init_cpu();
    sys::init_syscall_msrs();
    u64 cr4 = arch::read_cr4();
    if (leaf7.ebx & (1u << 7)) cr4 |= arch::CR4_SMEP;
    if (leaf7.ebx & (1u << 20)) cr4 |= arch::CR4_SMAP;
    if (leaf7.ecx & (1u << 2)) cr4 |= arch::CR4_UMIP;
    arch::write_cr4(cr4);
    arch::write_cr0(arch::read_cr0() | arch::CR0_WP);
}

namespace {

// stac/clac are invalid instructions without SMAP: their sites become NOPs,
// written through the (writable) direct-map alias of the kernel text.
void patch_out_smap_if_absent() {
    if (arch::cpuid(7).ebx & (1u << 20)) return;
    for (const u64* site = __smap_sites_start; site < __smap_sites_end; ++site) {
        auto* p = static_cast<u8*>(mm::phys_to_virt(*site - mm::KERNEL_VIRT_BASE));
        p[0] = 0x0f;  // nopl (%rax): 0f 1f 00
        p[1] = 0x1f;
        p[2] = 0x00;
    }
}

Result<u64> boot_table_page() {
    u64 pa = TRY(boot_memory.alloc(mm::PAGE_SIZE, mm::PAGE_SIZE));
    __builtin_memset(mm::phys_to_virt(pa), 0, mm::PAGE_SIZE);
    return pa;
}

Result<u64> runtime_table_page() {
    void* va = TRY(mm::alloc_page_zeroed());
    return mm::virt_to_phys(va);
}

void setup_memory() {
    if (boot_memory.ram_count() == 0) panic("no usable RAM in the boot memory map");
    u64 kstart = reinterpret_cast<u64>(__kernel_phys_start);
    u64 kend = reinterpret_cast<u64>(__kernel_end) - mm::KERNEL_VIRT_BASE;
    // Low memory keeps firmware data and the AP start-up trampoline.
    MUST(boot_memory.reserve(0, 0x100000));
    MUST(boot_memory.reserve(kstart, kend - kstart));
    if (boot_info.initrd_size) MUST(boot_memory.reserve(boot_info.initrd_phys, boot_info.initrd_size));

    arch::detect_paging_features();
    arch::set_table_page_source(boot_table_page);
    auto st = arch::init_kernel_paging(boot_memory);
    if (st.is_error()) panic("out of memory building the kernel page tables (%llu KiB of RAM)",
                             static_cast<unsigned long long>(boot_memory.total_ram() / 1024));
    st = mm::page_alloc_init(boot_memory, KEEL_DEBUG_CHECKS);
    if (st.is_error()) panic("out of memory setting up the page allocator (%llu KiB of RAM)",
                             static_cast<unsigned long long>(boot_memory.total_ram() / 1024));
    arch::set_table_page_source(runtime_table_page);
    arch::set_table_page_release(mm::release_table_page);
    mm::page_alloc_init_cpu(0);
    auto stats = mm::mem_stats();
    pr_info("Memory: %lluK/%lluK available", static_cast<unsigned long long>(stats.free_pages * 4),
            static_cast<unsigned long long>(boot_memory.total_ram() / 1024));
}

}  // namespace

void setup_cpu_tables(Cpu& c, uptr (&ist_tops)[arch::IST_COUNT]) {
    for (int i = 0; i < arch::IST_COUNT; ++i) c.ist_stack_tops[i] = ist_tops[i];
    arch::load_cpu_tables(c.tables, ist_tops);
    arch::load_idt();
}

}  // namespace keel

using namespace keel;

extern "C" void kmain(u32 start_info_phys) {
    boot_tsc_kmain = arch::rdtsc();
    boot_cpu.id = 0;
    install_cpu(boot_cpu);
    // Global constructors (intrusive list heads and the like).
    for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
    cpus[0] = &boot_cpu;
    boot_cpu.online = true;
    cpu_count = 1;

    drivers::com1().init();
    parse_pvh_start_info(start_info_phys);
    apply_cmdline();
    pr_notice("%s", version_banner());
    if (!boot_info.valid) panic("no PVH start info from the boot loader (magic missing)");
    pr_info("Command line: %s", boot_info.cmdline);

    arch::init_idt();
    uptr ist_tops[arch::IST_COUNT];
    for (int i = 0; i < arch::IST_COUNT; ++i) ist_tops[i] = reinterpret_cast<uptr>(bsp_ist_stacks[i + 1]);
    setup_cpu_tables(boot_cpu, ist_tops);

    setup_memory();
    patch_out_smap_if_absent();
    enable_cpu_protections_on_this_cpu();
    sys::init_syscalls();

    arch::lapic_init_bsp();
    arch::pic_disable();
    arch::lapic_init_cpu();
    boot_cpu.apic_id = arch::lapic_id();
    arch::ioapic_init();
    time::calibrate();
    timers_init();

    smp_init_ipis();
    mm::vmalloc_init();
    sched::init_bsp();
    smp_boot_aps();
    start_kernel_threads();
    sched::idle_loop();
}
