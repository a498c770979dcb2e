// cgroup v2: one hierarchy of control groups, mounted as the "cgroup2" file
// system (kernel/cgroup/cgroupfs.cpp). Every user thread belongs to one
// cgroup (sched::Thread::cgroup, null meaning the root). The threads of a
// process share a domain cgroup; inside a threaded subtree (cgroup.type
// "threaded") they may sit in different cgroups of the same domain.
//
// Locking: `tree_mutex()` (a sleeping lock, Linux's cgroup_mutex) guards
// the shape of the tree and every setting; membership and the counters that
// follow it (threads, populated, pids) are under a spinlock taken by fork
// and exit too. Moving processes takes the tree mutex, then the process-tree
// lock, then the spinlock.
//
// Controllers: cpuset and pids are enforced here (the scheduler applies
// cpuset masks, fork is refused beyond pids.max). cpu, memory and io keep
// their settings in Linux's formats; cpu.max is enforced by the scheduler
// (kernel/sched/bandwidth.h), memory by kernel/cgroup/memcg.h (charges,
// memory.max with an OOM killer, memory.high); weights are stored only.
#pragma once

#include "kernel/cgroup/memcg_counter.h"
#include "kernel/sched/bandwidth.h"
#include "kernel/sched/wait.h"
#include "kernel/spinlock.h"
#include "lib/intrusive_list.h"
#include "lib/result.h"
#include "lib/string_view.h"

namespace keel::proc {
struct Process;
}
namespace keel::sched {
struct FairGroup;
}
namespace keel::psi {
struct PsiGroup;
}

namespace keel::cgroup {

// Controllers in the order Linux lists them. hugetlb, rdma and misc have no
// resources to control in Keel (no huge page pools, RDMA devices or misc
// resources): their files show Linux's empty state.
enum Ctrl : u8 { CPUSET, CPU, IO, MEMORY, HUGETLB, PIDS, RDMA, MISC, NCTRL };
extern const char* const CTRL_NAMES[NCTRL];
// Controllers that may be enabled inside a thread subtree (cpuset, cpu, pids).
constexpr u32 THREADED_CTRLS = (1u << CPUSET) | (1u << CPU) | (1u << PIDS);
constexpr u32 ALL_CTRLS = (1u << NCTRL) - 1;

// The cpu controller's settings, as the scheduler will read them.
struct CpuSettings {
    // The group entity's weight in EEVDF units (nice 0 = 1024): cpu.weight
    // W is stored as round(W * 1024 / 100), cpu.weight.nice N as the weight
    // of nice N, and cpu.weight reads back round(shares * 100 / 1024), as
    // Linux keeps them.
    u64 shares = 1024;
    u64 quota_us = ~0ull;       // cpu.max: ~0 = "max"
    u64 period_us = 100000;
    u64 burst_us = 0;           // cpu.max.burst
    bool idle = false;          // cpu.idle
    u64 entity_weight() const { return shares; }
    u64 quota_ns() const { return quota_us == ~0ull ? ~0ull : quota_us * 1000; }
    u64 period_ns() const { return period_us * 1000; }
    u64 burst_ns() const { return burst_us * 1000; }
};

struct MemorySettings {
    u64 min = 0, low = 0, high = ~0ull, max = ~0ull;  // bytes, page-rounded
    u64 swap_high = ~0ull, swap_max = ~0ull;
    bool oom_group = false;
    u64 peak = 0;
};

struct Cgroup {
    // ---- Fixed at creation ----
    Cgroup* parent = nullptr;   // holds a reference
    u64 id = 0;                 // the directory's inode number; root 1
    // Who made it (mkdir's fsuid/fsgid): kernfs gives the directory and
    // its files to them, which is how a delegatee owns what it creates.
    u32 owner_uid = 0, owner_gid = 0;
    int level = 0;
    char name[256] = {};

    // ---- tree_mutex ----
    ListNode sibling;
    IntrusiveList<Cgroup, &Cgroup::sibling> children;
    u32 nr_children = 0;        // also read without the lock (a directory's nlink)
    bool removed = false;       // rmdir'd: a "dying" cgroup kept by references
    u32 subtree_control = 0;    // enabled for the children
    bool threaded = false;      // cgroup.type "threaded" (never undone)
    u32 nr_threaded_children = 0;
    bool control_written = false;  // cgroup.subtree_control was written (implicit perf_event, cgroup.stat)
    u64 max_descendants = ~0ull, max_depth = ~0ull;
    u32 nr_descendants = 0;     // live ones, the whole subtree
    CpuSettings cpu;
    sched::GroupBandwidth bw;   // cpu.max enforcement (kernel/sched/bandwidth.h)
    sched::FairGroup* fair = nullptr;  // its queues on each CPU (kernel/sched/fair_group.h)
    MemorySettings mem;
    u32 io_weight = 100;
    // Pressure (kernel/psi): the root's is the system group; others are made
    // at mkdir and destroyed at rmdir, when no task is left in them.
    psi::PsiGroup* psi = nullptr;
    psi::PsiGroup* psi_memory = nullptr;  // our reference on it, dropped when freed
    u64 hugetlb_max[2][2] = {{~0ull, ~0ull}, {~0ull, ~0ull}};  // [2MB, 1GB][limit, rsvd]: bytes
    u64 cpus = 0, mems = 0;     // cpuset.cpus / cpuset.mems as written; 0: empty (inherit)
    u64 cpus_effective = 0;     // the scheduler's mask for the members
    char partition[16] = "member";  // cpuset.cpus.partition as written
    bool frozen = false;        // cgroup.freeze as written (kernel/cgroup/freeze.cpp)
    bool pressure_off = false;  // cgroup.pressure 0

    // ---- membership lock ----
    u32 nr_threads = 0;         // live user threads in this cgroup itself
    u32 nr_populated_children = 0;
    u32 nr_populated_domain_children = 0;  // of those, the domain (not threaded) ones
    u32 nr_forking = 0;         // charged by a fork not attached yet: rmdir waits (EBUSY)
    u64 pids_max = ~0ull, pids_current = 0, pids_peak = 0;
    u64 pids_events_max = 0, pids_events_max_local = 0;
    // CPU time of the subtree (cpu.stat): these offsets plus the times of
    // the threads in it now. A thread joining subtracts its times so far, a
    // thread leaving (move or exit) adds them, in this cgroup and its
    // ancestors.
    i64 cpu_user_off_ns = 0, cpu_system_off_ns = 0;
    bool fork_rejected_logged = false;
    // Freezer (freeze.cpp). e_freeze: this cgroup or an ancestor has
    // cgroup.freeze 1 (also read without the lock by its threads);
    // frozen_state: cgroup.events "frozen", every thread of the subtree in
    // the freezer trap.
    bool e_freeze = false;
    bool frozen_state = false;
    u32 nr_frozen = 0;              // threads of this cgroup itself in the trap
    u32 nr_freeze_children = 0;     // live children, as the freezer counts them
    u32 nr_frozen_children = 0;     // of those, the ones in frozen_state

    // ---- File change notification (kernfs's event counters) ----
    u32 events_seq = 0;         // cgroup.events
    u32 pids_events_seq = 0;    // pids.events / pids.events.local
    sched::WaitQueue events_wq;

    // ---- Memory controller (kernel/cgroup/memcg.cpp): atomics ----
    memcg::PageCounter memory;  // linked to the parent's (not the root's) at creation
    u64 mem_events[memcg::NR_EVENTS] = {};        // memory.events (this subtree)
    u64 mem_events_local[memcg::NR_EVENTS] = {};  // memory.events.local
    u64 mem_pages[memcg::NR_KINDS] = {};          // charged to this cgroup itself, by kind
    u64 slab_bytes = 0;  // kernel objects charged to it itself; memory counts them in whole pages
    u32 mem_events_seq = 0, mem_events_local_seq = 0;  // their change counters (poll)

    u32 refs = 1;               // atomic
    bool is_root() const { return parent == nullptr; }
    bool populated() const { return nr_threads || nr_populated_children; }
    // What the parent's cgroup.subtree_control enables here (root: all);
    // only threaded controllers reach into a threaded cgroup.
    u32 controllers() const {
        if (!parent) return ALL_CTRLS;
        return threaded ? parent->subtree_control & THREADED_CTRLS : parent->subtree_control;
    }
    // The domain cgroup a threaded one belongs to (itself for a domain).
    const Cgroup& domain() const { return threaded && parent ? parent->domain() : *this; }
};

Cgroup& root();
psi::PsiGroup* psi_of(Cgroup& c);
sched::Mutex& tree_mutex();
void get(Cgroup& c);
void put(Cgroup* c);

// ---- Membership ----
// The thread's cgroup (never null). O(1): the scheduler's question.
Cgroup& of(const sched::Thread& t);

// fork/clone/clone3: picks the new thread's cgroup (the caller's, or the
// directory `cgroup_fd` names with CLONE_INTO_CGROUP; -1 for none) and
// charges it to pids. The result carries a reference and the charge, to be
// handed to attach_new() before the thread joins its process (undone by
// thread_exit(t, nullptr) if it never runs) or given back with
// cancel_fork(). Errors: EAGAIN beyond pids.max, EBADF/ENOENT/EBUSY/
// EOPNOTSUPP for CLONE_INTO_CGROUP.
Result<Cgroup*> charge_fork(int cgroup_fd, bool thread);
void cancel_fork(Cgroup* c);
void attach_new(sched::Thread& t, Cgroup* c);
// A new thread of an existing process, once in its thread list: follows
// its creator if that moved meanwhile.
void thread_joined(sched::Thread& t);
// A thread leaves (exit). The last thread of a process hands its charge to
// the process (proc::Process::cgroup): a zombie still counts in
// pids.current until it is reaped (process_released). From here on the
// thread names the root; sched::set_cgroup (used for every change of
// Thread::cgroup) carries its PSI states to the system group, where its
// final switch clears them.
void thread_exit(sched::Thread& t, proc::Process* last_of);
void process_released(proc::Process& p);

// cgroup.procs / cgroup.threads writes (tree mutex held): moves process
// `pid` (0: the caller's) or thread `tid` into `dst`.
Status move_process(Cgroup& dst, int pid);
Status move_thread(Cgroup& dst, int tid);

// ---- Tree (tree_mutex held) ----
Result<Cgroup*> create(Cgroup& parent, StringView name);
Status remove(Cgroup& c);
Cgroup* find_child(Cgroup& parent, StringView name);
// Linux's rules for domain and threaded cgroups: a thread root is a domain
// with threaded children (or with tasks and a threaded controller enabled);
// a domain below a thread root or a threaded cgroup is invalid.
bool is_thread_root(const Cgroup& c);
bool is_valid_domain(const Cgroup& c);
bool can_be_thread_root(const Cgroup& c);
// cgroup.type's "threaded".
Status make_threaded(Cgroup& c);
// cgroup.subtree_control's write, all or nothing.
Status change_subtree_control(Cgroup& c, u32 enable, u32 disable);
// cpuset: recomputes cpus_effective below `c` and tells the scheduler.
void update_cpusets(Cgroup& c);
// cgroup.kill: SIGKILL to every process in the subtree.
void kill_subtree(Cgroup& c);
// CPU time used in the subtree of `c` while in it (cpu.stat).
struct CpuUsage {
    u64 user_ns = 0, system_ns = 0;
};
CpuUsage cpu_usage(const Cgroup& c);
// Renders the path from the root ("/" for the root itself).
void path_of(const Cgroup& c, char* buf, usize size);

// Notifications of cgroup.events / pids.events (membership lock or not).
void notify_events(Cgroup& c);

// The processes (or threads) in `c` itself, by pid, for cgroup.procs and
// cgroup.threads: emit(ctx, id) for each.
void list_members(const Cgroup& c, bool threads, void (*emit)(void* ctx, int id), void* ctx);

}  // namespace keel::cgroup
