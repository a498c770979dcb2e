#include "kernel/percpu.h"

#include "arch/x86_64/cpu.h"
#include "kernel/panic.h"
#include "kernel/sched/scheduler.h"
#include "kernel/spinlock.h"

namespace keel {

Cpu* cpus[MAX_CPUS];
u32 cpu_count = 0;

void install_cpu(Cpu& c) {
    c.self = &c;
    arch::wrmsr(arch::msr::GS_BASE, reinterpret_cast<u64>(&c));
    arch::wrmsr(arch::msr::KERNEL_GS_BASE, 0);
    arch::wrmsr(arch::msr::TSC_AUX, c.id);  // rdtscp/getcpu report the CPU
}

void preempt_enable() {
    Cpu* c = current_cpu_raw();
    asm volatile("decl %%gs:24" ::: "memory");
    if (c->preempt_count == 0 && c->need_resched && arch::irqs_enabled()) sched::schedule();
}

// Lock ranks: a CPU must take locks in increasing rank. Checked only in
// debug builds, and only once per-CPU data exists.
void lock_rank_acquire(LockRank r, const void* lock) {
    if (r == LockRank::None) return;
    Cpu* c = current_cpu_raw();
    if (!c) return;
    if (c->nheld > 0 && static_cast<u8>(r) <= c->held_ranks[c->nheld - 1] && r != LockRank::Console) {
        unsigned held = c->held_ranks[c->nheld - 1];
        c->nheld = 0;  // let panic's own locks through
        panic("lock rank violation: taking rank %u (%p) while holding rank %u", static_cast<unsigned>(r), lock, held);
    }
    if (c->nheld < static_cast<int>(sizeof(c->held_ranks))) c->held_ranks[c->nheld] = static_cast<u8>(r);
    ++c->nheld;
}

void lock_rank_release(LockRank r, const void*) {
    if (r == LockRank::None) return;
    Cpu* c = current_cpu_raw();
    if (!c || c->nheld == 0) return;
    --c->nheld;
}

}  // namespace keel
