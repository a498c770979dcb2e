// The cgroup v2 memory controller, enforced: user pages (anonymous memory,
// copy-on-write copies, tmpfs/shmem pages) and kernel memory (page tables
// of user address spaces, user threads' kernel stacks, pipe buffers, and
// the objects allocated with mm::kzalloc_account / make_accounted: VMAs,
// files, dentries, inodes, epoll items, processes...) are charged to the
// cgroup of the thread that allocates them, in it and every ancestor below
// the root, and uncharged when freed, which may be long after that thread
// (shared and copied pages, tmpfs files). Objects are charged by the byte,
// the counter by the page (memcg_counter.h). A charged page or object holds
// a reference on its cgroup, so a removed ("dying") cgroup lives on until
// its last charge goes; its charges stay where they were, in it and its
// ancestors.
//
// memory.max refuses a charge that would go over. There is nothing to
// reclaim (no swap, and page-cache pages are not charged), so the next step
// is the OOM killer, confined to the cgroup whose limit was hit. memory.high
// never refuses: the allocating thread sleeps a little on its way back to
// user space, more the further it is over. memory.min and memory.low are
// kept as settings only (no reclaim to protect from).
#pragma once

#include "kernel/cgroup/memcg_counter.h"
#include "lib/result.h"

namespace keel::cgroup {
struct Cgroup;
}
namespace keel::mm {
struct PageFrame;
}
namespace keel::fs {
class File;
class OpenFile;
}

namespace keel::memcg {

// At boot, before the root file system: tmpfs pages are charged from then on.
void init();

// The cgroup whose memory controller pays for the current thread: its
// domain, or the nearest ancestor the controller is enabled in. Null for
// the root (nothing is charged there).
cgroup::Cgroup* charge_target();

// One page of `kind` for the current thread: the cgroup it was charged to
// (with a reference, null when uncharged), or ENOMEM over memory.max.
// try_charge never sleeps (address-space lock held); charge may OOM-kill
// inside the cgroup and wait for the victim to go.
Result<cgroup::Cgroup*> try_charge(Kind kind);
Result<cgroup::Cgroup*> charge(Kind kind);
void uncharge(cgroup::Cgroup* c, Kind kind);

// The same, remembered in the frame of a user page (PageFrame::memcg);
// also for the page-table pages of user address spaces (PAGETABLES).
Status try_charge_frame(mm::PageFrame& f, Kind kind);
void uncharge_frame(mm::PageFrame& f, Kind kind = ANON);

// A user thread's kernel stack (mm::KERNEL_STACK_SIZE at `bottom`, from
// mm::alloc_kernel_stack), charged to the current thread's cgroup when it
// is made and uncharged when it exits, as Linux accounts it. Forced: a
// stack is charged even over memory.max (the next user page is not).
// The cgroup is remembered in the frame of the stack's lowest page.
void charge_kernel_stack(uptr bottom);
void uncharge_kernel_stack(uptr bottom);

// After a charge of the current thread failed (no locks held but those of
// the file it is allocating for): the OOM killer in the cgroup over its
// limit. True when the charge should be tried again: a victim was killed
// (or was already dying) and its memory went, and the current thread was
// not the one killed.
bool handle_oom();

// Whether the current process was killed (SIGKILL pending or exiting):
// an OOM victim, say.
bool current_killed();

// On the way back to user space after charges made over memory.high
// (Thread::memcg_pages_over_high, from a fault or a system call): the
// event is counted and the thread sleeps in proportion to the overage and
// to the pages it charged.
void throttle_over_high();

// memory.peak's open description (kernel/cgroup/memcg_peak.cpp): its peak
// restarts at a write to it.
Result<fs::OpenFile*> open_peak(fs::File& file, cgroup::Cgroup& c);

// The OOM killer's measure of process `pid` against `total_pages` of
// memory it may use (Linux's badness): resident pages and page tables,
// plus oom_score_adj thousandths of the total. False when it is never
// chosen: init, a zombie, oom_score_adj -1000, a vfork child on its
// parent's memory. /proc/<pid>/oom_score shows it scaled to 0..2000.
bool badness(int pid, u64 total_pages, i64* points);

// memory.max written below the usage (tree mutex held): OOM-kills in the
// cgroup until the usage fits, a victim at a time.
void shrink_to_max(cgroup::Cgroup& c);

// Adds event `e` to `c`'s memory.events.local and to memory.events of `c`
// and its ancestors.
void count_event(cgroup::Cgroup& c, Event e);

}  // namespace keel::memcg
