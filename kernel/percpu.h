// Per-CPU data. Each CPU's GS base points at its Cpu; the first word is a
// self-pointer so one `mov %gs:0` finds it. Code reaches its own Cpu only
// through this_cpu(guard), which needs a PreemptGuard (or an interrupt-off
// context) as proof that the thread cannot migrate meanwhile.
#pragma once

#include "arch/x86_64/segments.h"
#include "arch/x86_64/trapframe.h"
#include "lib/types.h"

namespace keel {

namespace sched {
struct Thread;
struct CpuRunQueue;
}  // namespace sched

constexpr int MAX_CPUS = 64;

struct Cpu {
    Cpu* self;                 // %gs:0
    u64 user_rsp_scratch;      // %gs:8, used by the syscall entry
    u64 kernel_rsp;            // %gs:16, top of the current thread's stack
    int preempt_count;         // %gs:24
    bool need_resched;         // %gs:28
    u32 id;
    u32 apic_id;
    bool online;

    sched::Thread* current;
    sched::Thread* idle_thread;
    sched::CpuRunQueue* rq;

    // Lock-rank checking (debug builds): ranks held, innermost last.
    u8 held_ranks[16];
    int nheld;

    arch::CpuTables tables;
    uptr ist_stack_tops[arch::IST_COUNT];

    u64 timer_deadline_ns;  // the one-shot currently programmed, ~0 if none
    arch::TrapFrame user_entry;  // staging for enter_user (interrupts off)
    u64 irq_count;
    u64 idle_ns;
    u64 kick_mask;  // CPUs owed a reschedule IPI once run-queue locks are dropped
    // The user page tables in CR3 (0: the kernel's), set by
    // load_page_tables: a TLB shootdown for an address space interrupts only
    // the CPUs that have its tables loaded, idle ones lazily included.
    u64 loaded_tables;
};

static_assert(__builtin_offsetof(Cpu, user_rsp_scratch) == 8);
static_assert(__builtin_offsetof(Cpu, kernel_rsp) == 16);
static_assert(__builtin_offsetof(Cpu, preempt_count) == 24);

extern Cpu* cpus[MAX_CPUS];
extern u32 cpu_count;

inline Cpu* current_cpu_raw() {
    Cpu* c;
    asm volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}

inline void preempt_disable() { asm volatile("incl %%gs:24" ::: "memory"); }
void preempt_enable();  // may reschedule

class PreemptGuard {
public:
    PreemptGuard() { preempt_disable(); }
    ~PreemptGuard() { preempt_enable(); }
    PreemptGuard(const PreemptGuard&) = delete;
    PreemptGuard& operator=(const PreemptGuard&) = delete;
};

// Interrupts off also pins the thread; this tag is how such code says so.
struct IrqsOffProof {};

inline Cpu& this_cpu(const PreemptGuard&) { return *current_cpu_raw(); }
inline Cpu& this_cpu(const IrqsOffProof&) { return *current_cpu_raw(); }

inline u32 this_cpu_id_unstable() { return current_cpu_raw()->id; }

// Installs c as this CPU's per-CPU block (GS base).
void install_cpu(Cpu& c);

}  // namespace keel
