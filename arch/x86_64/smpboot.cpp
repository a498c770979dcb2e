// Starting the application processors: INIT and STARTUP IPIs point each AP
// at the trampoline, which brings it to ap_entry() on its own stack.
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/firmware_tables.h"
#include "arch/x86_64/paging.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/scheduler.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "mm/layout.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "mm/vmalloc.h"

extern "C" const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_data[];

namespace keel {

extern Cmdline kernel_cmdline;
void setup_cpu_tables(Cpu& c, uptr (&ist_tops)[arch::IST_COUNT]);
void enable_cpu_protections_on_this_cpu();

namespace {

constexpr u64 TRAMPOLINE_PHYS = 0x8000;

struct TrampolineData {
    u64 cr3;
    u64 stack;
    u64 arg;
    u64 entry;
    u32 efer;
    u32 pad;
};

volatile u32 ap_checked_in = 0;

[[noreturn]] void ap_entry(Cpu* c) {
    install_cpu(*c);
    uptr ist[arch::IST_COUNT];
    for (int i = 0; i < arch::IST_COUNT; ++i) ist[i] = c->ist_stack_tops[i];
    setup_cpu_tables(*c, ist);
    enable_cpu_protections_on_this_cpu();
    arch::lapic_init_cpu();
    mm::page_alloc_init_cpu(c->id);
    sched::init_ap(c->id);
    c->online = true;
    sched::mark_cpu_online(c->id);
    __atomic_store_n(&ap_checked_in, 1, __ATOMIC_RELEASE);
    arch::irq_enable();
    sched::idle_loop();
}

bool wait_checkin(u64 ns) {
    u64 end = time::monotonic_ns() + ns;
    while (time::monotonic_ns() < end)
        if (__atomic_load_n(&ap_checked_in, __ATOMIC_ACQUIRE)) return true;
    return false;
}

Result<Cpu*> prepare_cpu(u32 id, u32 apic_id) {
    void* mem = TRY(mm::kzalloc(sizeof(Cpu)));
    Cpu* c = static_cast<Cpu*>(mem);
    c->id = id;
    c->apic_id = apic_id;
    for (int i = 0; i < arch::IST_COUNT; ++i) {
        auto st = TRY(mm::alloc_kernel_stack());
        c->ist_stack_tops[i] = st.top;
    }
    return c;
}

bool start_ap(Cpu* c, TrampolineData* data) {
    auto stack = mm::alloc_kernel_stack();
    if (stack.is_error()) return false;
    data->stack = stack.value().top;
    data->arg = reinterpret_cast<u64>(c);
    __atomic_store_n(&ap_checked_in, 0, __ATOMIC_RELEASE);
    cpus[c->id] = c;
    arch::lapic_send_ipi(c->apic_id, 0, arch::IpiKind::Init);
    arch::lapic_send_ipi(c->apic_id, TRAMPOLINE_PHYS >> 12, arch::IpiKind::Startup);
    if (wait_checkin(1000000)) return true;
    arch::lapic_send_ipi(c->apic_id, TRAMPOLINE_PHYS >> 12, arch::IpiKind::Startup);
    // Generous, as Linux's 10 s: a virtual CPU may not be scheduled by a
    // busy host for a long while, and one that starts after we gave up
    // finds its trampoline gone and takes the machine down.
    return wait_checkin(10000000000ull);
}

}  // namespace

u32 smp_boot_aps() {
    const auto& topo = arch::platform_topology(boot_info.rsdp_phys);
    i64 max_cpus = kernel_cmdline.has("nosmp") ? 1 : kernel_cmdline.get_int("maxcpus", MAX_CPUS);
    if (topo.ncpus <= 1 || max_cpus <= 1) {
        pr_info("smp: cpus online: 1");
        return 1;
    }
    // The trampoline runs at its physical address with paging on: map that
    // page 1:1 for the duration.
    usize len = ap_trampoline_end - ap_trampoline_start;
    if (arch::map_range(arch::kernel_pml4(), TRAMPOLINE_PHYS, TRAMPOLINE_PHYS, mm::PAGE_SIZE, arch::pte::W, false)
            .is_error())
        panic("smp: cannot map the AP trampoline");
    auto* tramp = reinterpret_cast<u8*>(TRAMPOLINE_PHYS);
    __builtin_memcpy(tramp, ap_trampoline_start, len);
    auto* data = reinterpret_cast<TrampolineData*>(tramp + (ap_trampoline_data - ap_trampoline_start));
    data->cr3 = arch::kernel_pml4();
    data->entry = reinterpret_cast<u64>(&ap_entry);
    data->efer = (1u << 8) | (arch::paging_features().nx ? (1u << 11) : 0);

    u32 bsp_apic = arch::lapic_id();
    for (u32 i = 0; i < topo.ncpus && cpu_count < static_cast<u64>(max_cpus) && cpu_count < MAX_CPUS; ++i) {
        if (topo.apic_ids[i] == bsp_apic) continue;
        auto c = prepare_cpu(cpu_count, topo.apic_ids[i]);
        if (c.is_error()) {
            pr_err("smp: out of memory for CPU %u", cpu_count);
            break;
        }
        if (!start_ap(c.value(), data)) {
            pr_err("smp: CPU with APIC id %u did not start", topo.apic_ids[i]);
            cpus[c.value()->id] = nullptr;
            continue;
        }
        ++cpu_count;
    }
    arch::unmap_page(arch::kernel_pml4(), TRAMPOLINE_PHYS);
    arch::flush_tlb_local();
    pr_info("smp: cpus online: %u", sched::online_cpus());
    return sched::online_cpus();
}

}  // namespace keel
