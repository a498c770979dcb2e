// IPIs and cross-CPU calls. AP start-up lives in arch/x86_64/smpboot.cpp.
#include "kernel/smp.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/traps.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/sched/scheduler.h"

namespace keel {

namespace {

bool stop_requested = false;

// One cross-CPU call at a time, machine-wide. The caller spins for the slot
// with interrupts enabled, so two CPUs calling each other cannot deadlock.
struct CallSlot {
    void (*fn)(void*);
    void* arg;
    u32 pending;  // CPUs that have not finished yet
};
CallSlot call_slot;
u32 call_busy = 0;

void ipi_call(arch::TrapFrame&, void*) {
    call_slot.fn(call_slot.arg);
    __atomic_fetch_sub(&call_slot.pending, 1, __ATOMIC_RELEASE);
}

void ipi_reschedule(arch::TrapFrame&, void*) {
    IrqsOffProof proof;
    this_cpu(proof).need_resched = true;
}

void ipi_stop(arch::TrapFrame&, void*) { arch::halt_forever(); }

// Runs fn(arg) on the online CPUs of `mask` but this one and waits for them.
void run_call(u64 mask, void (*fn)(void*), void* arg) {
    KASSERT(arch::irqs_enabled());
    u32 zero = 0;
    while (!__atomic_compare_exchange_n(&call_busy, &zero, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        zero = 0;
        arch::cpu_relax();
    }
    u32 self = current_cpu_raw()->id;
    auto target = [&](u32 c) { return cpus[c] && cpus[c]->online && c != self && (mask >> c & 1); };
    u32 n = 0;
    for (u32 c = 0; c < cpu_count; ++c) n += target(c);
    call_slot = {fn, arg, n};
    for (u32 c = 0; c < cpu_count; ++c)
        if (target(c)) arch::lapic_send_ipi(cpus[c]->apic_id, arch::VEC_IPI_CALL);
    while (__atomic_load_n(&call_slot.pending, __ATOMIC_ACQUIRE)) arch::cpu_relax();
    __atomic_store_n(&call_busy, 0, __ATOMIC_RELEASE);
}

struct FlushRange {
    uptr va;
    usize pages;
};

void flush_range(void* arg) {
    auto* r = static_cast<FlushRange*>(arg);
    if (r->pages > 32) {
        // Toggling PGE drops global entries too, unlike a CR3 reload.
        u64 cr4 = arch::read_cr4();
        arch::write_cr4(cr4 & ~arch::CR4_PGE);
        arch::write_cr4(cr4);
        return;
    }
    for (usize i = 0; i < r->pages; ++i) arch::invlpg(r->va + i * 4096);
}

}  // namespace

void smp_init_ipis() {
    arch::set_irq_handler(arch::VEC_IPI_CALL, ipi_call, nullptr);
    arch::set_irq_handler(arch::VEC_IPI_RESCHEDULE, ipi_reschedule, nullptr);
    arch::set_irq_handler(arch::VEC_IPI_STOP, ipi_stop, nullptr);
}

void smp_call_on(u32 cpu, void (*fn)(void*), void* arg) {
    if (cpu == current_cpu_raw()->id) {
        arch::InterruptGuard g;
        fn(arg);
        return;
    }
    run_call(u64{1} << cpu, fn, arg);
}

void smp_call_others(void (*fn)(void*), void* arg) {
    if (sched::online_cpus() <= 1) return;
    run_call(~u64{0}, fn, arg);
}

void smp_send_reschedule(u32 cpu) {
    if (cpus[cpu] && cpus[cpu]->online) arch::lapic_send_ipi(cpus[cpu]->apic_id, arch::VEC_IPI_RESCHEDULE);
}

bool smp_stop_requested() { return __atomic_load_n(&stop_requested, __ATOMIC_ACQUIRE); }

void smp_stop_others() {
    __atomic_store_n(&stop_requested, true, __ATOMIC_RELEASE);
    if (cpu_count > 1) arch::lapic_send_ipi_all_but_self(0, arch::IpiKind::Nmi);
}

namespace {

// Flushes [va, va + pages) here and on the other CPUs that have `tables`
// loaded (0: on every other CPU).
void shootdown(u64 tables, uptr va, usize pages) {
    FlushRange r{va, pages};
    if (sched::online_cpus() <= 1) {
        flush_range(&r);
        return;
    }
    // Waiting for other CPUs with interrupts off could deadlock.
    KASSERT(arch::irqs_enabled());
    // Pinned, so that "the other CPUs" and "this CPU" stay what they were.
    PreemptGuard pin;
    flush_range(&r);
    u64 mask = ~u64{0};
    if (tables) {
        // The entries were changed before this reads who has the tables: a
        // CPU not seen here loads them after, and its walks see the change
        // (load_page_tables publishes before it loads).
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        mask = 0;
        for (u32 c = 0; c < cpu_count; ++c)
            if (cpus[c] && __atomic_load_n(&cpus[c]->loaded_tables, __ATOMIC_RELAXED) == tables) mask |= u64{1} << c;
        mask &= ~(u64{1} << this_cpu(pin).id);
        if (!mask) return;
    }
    run_call(mask, flush_range, &r);
}

}  // namespace

void tlb_shootdown(uptr va, usize pages) { shootdown(0, va, pages); }

void tlb_shootdown_tables(u64 pml4, uptr va, usize pages) { shootdown(pml4, va, pages); }

void load_page_tables(u64 pml4) {
    arch::InterruptGuard pin;  // the record and the load on one CPU
    __atomic_store_n(&current_cpu_raw()->loaded_tables, pml4 == arch::kernel_pml4() ? 0 : pml4, __ATOMIC_SEQ_CST);
    arch::write_cr3(pml4);
}

}  // namespace keel
