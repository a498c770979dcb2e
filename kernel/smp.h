// Multiprocessor support: bringing up the other CPUs and talking to them.
#pragma once

#include "lib/types.h"

namespace keel {

// Starts every CPU the firmware describes; returns how many are online.
u32 smp_boot_aps();
void smp_init_ipis();
// Runs fn(arg) on `cpu` and waits for it to finish.
void smp_call_on(u32 cpu, void (*fn)(void*), void* arg);
// Runs fn(arg) on every other online CPU and waits for all of them.
void smp_call_others(void (*fn)(void*), void* arg);
// Asks `cpu` to reschedule.
void smp_send_reschedule(u32 cpu);
// Stops the other CPUs (panic path; does not wait long).
void smp_stop_others();
bool smp_stop_requested();
// Flushes the TLB entries of [va, va + pages * 4 KiB) on every CPU, global
// (kernel) entries included.
void tlb_shootdown(uptr va, usize pages);
// The same for the user page tables at `pml4`: on this CPU and on the
// others that have them loaded (Linux's mm_cpumask), after the caller
// changed their entries.
void tlb_shootdown_tables(u64 pml4, uptr va, usize pages);
// Loads page tables into CR3, recording them for tlb_shootdown_tables;
// every load of user tables goes through it.
void load_page_tables(u64 pml4);

}  // namespace keel
