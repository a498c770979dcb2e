// The memory controller's charging, memory.high throttling and the OOM
// killer confined to a cgroup (see memcg.h).
#include "kernel/cgroup/memcg.h"

#include <linux/oom.h>
#include <linux/signal.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "fs/core/tmpfs.h"
#include "fs/proc/pid_mem.h"
#include "kernel/cgroup/cgroup.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/handlers.h"
#include "kernel/signal/signal.h"
#include "kernel/time.h"
#include "lib/alloc.h"
#include "mm/buddy.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "mm/vmalloc.h"

namespace keel::memcg {

using cgroup::Cgroup;

namespace {

constexpr u64 PAGE = 4096;
constexpr u64 MS = 1000000;
// How long a charger waits for an OOM victim to let go of its memory
// before it gives up (the charge fails): victims normally go in
// milliseconds; one stuck in the kernel must not hang the charger.
constexpr u64 VICTIM_WAIT_NS = 3000 * MS;
constexpr u64 POLL_NS = 2 * MS;
// memory.high: Linux's bounds on one throttling sleep.
constexpr u64 HIGH_DELAY_MIN_NS = 10 * MS;
constexpr u64 HIGH_DELAY_MAX_NS = 2000 * MS;
// Linux's MEMCG_CHARGE_BATCH: the pages over memory.high a sleepable
// charge lets pass before it throttles on the spot.
constexpr u32 CHARGE_BATCH = 64;

// One OOM kill at a time (Linux's oom_lock): threads of one process that
// hit the limit together must not each pick a victim.
sched::Mutex g_oom_lock;

bool memory_on(const Cgroup& c) { return c.controllers() & (1u << cgroup::MEMORY); }

Cgroup* target_of(const Cgroup& start) {
    auto* c = const_cast<Cgroup*>(&start.domain());
    while (!c->is_root() && !memory_on(*c)) c = c->parent;
    return c->is_root() ? nullptr : c;
}

Cgroup* owner_of(Cgroup* from, PageCounter* counter) {
    for (Cgroup* a = from; a; a = a->parent)
        if (&a->memory == counter) return a;
    return from;
}

bool inside(const Cgroup& c, const Cgroup& top) {
    for (const Cgroup* a = &c; a; a = a->parent)
        if (a == &top) return true;
    return false;
}

bool fatal_pending(const proc::Process& p) {
    if (__atomic_load_n(&p.group_exit, __ATOMIC_RELAXED)) return true;
    return p.sighand && (__atomic_load_n(&p.sighand->shared.set, __ATOMIC_RELAXED) & sig::bit(SIGKILL));
}

bool current_dying() {
    proc::Process* p = proc::current_process();
    return p && fatal_pending(*p);
}

// The first level from `c` up whose limit one more page would exceed.
Cgroup* over_limit(Cgroup* c) {
    for (Cgroup* a = c; a && !a->is_root(); a = a->parent)
        if (a->memory.read() + 1 > a->memory.limit()) return a;
    return nullptr;
}

// ---- The OOM killer ---------------------------------------------------------

enum class Oom { Killed, KilledSelf, InProgress, NoVictim };

struct Candidate {
    int pid;
    i64 points;  // badness()
};

// Linux's log line for each process it kills.
void log_kill(const char* why, int pid, const char* comm, u32 uid, int adj, const fs::procfs::MemUsage& u) {
    pr_err("%s: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, file-rss:%llukB, shmem-rss:%llukB, "
           "UID:%u pgtables:%llukB oom_score_adj:%d",
           why, pid, comm, static_cast<unsigned long long>(u.vm_size / 1024),
           static_cast<unsigned long long>(u.rss_anon / 1024), static_cast<unsigned long long>(u.rss_file / 1024),
           static_cast<unsigned long long>(u.rss_shmem / 1024), uid,
           static_cast<unsigned long long>(u.vm_pte / 1024), adj);
}

// SIGKILL to process `pid` if it is still in `top`'s subtree; counts
// oom_kill where it is charged. True when it was killed. `spare_unkillable`
// (memory.oom.group's sweep): one with oom_score_adj -1000 is left alone.
bool kill_one(int pid, Cgroup& top, const char* why, bool spare_unkillable = false) {
    fs::procfs::MemUsage u;
    (void)fs::procfs::mem_usage(pid, u);
    bool killed = false;
    char comm[16] = {};
    u32 uid = 0;
    int adj = 0;
    Cgroup* charged = nullptr;
    proc::lock_tree();
    proc::Process* p = proc::process_slot(pid);
    if (p && p->state == proc::ProcessState::Running && p->thread && inside(cgroup::of(*p->thread), top) &&
        !(spare_unkillable && p->oom_score_adj == OOM_SCORE_ADJ_MIN)) {
        charged = target_of(cgroup::of(*p->thread));
        if (charged) cgroup::get(*charged);  // the victim may be reaped and its cgroup removed at once
        __builtin_memcpy(comm, p->comm, sizeof(comm) - 1);
        uid = p->cred.ruid;
        adj = p->oom_score_adj;
        // Counted before the signal: whoever waits for the victim sees it.
        if (charged) count_event(*charged, EV_OOM_KILL);
        sig::send_from_kernel(*p, SIGKILL);
        killed = true;
    }
    proc::unlock_tree();
    if (!killed) return false;
    // Linux's summary line, which log watchers look for.
    char top_path[128], task_path[128];
    cgroup::path_of(top, top_path, sizeof(top_path));
    if (charged) cgroup::path_of(*charged, task_path, sizeof(task_path));
    else task_path[0] = '/', task_path[1] = 0;
    pr_info("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=%s,"
            "task_memcg=%s,task=%s,pid=%d,uid=%u",
            top_path, task_path, comm, pid, uid);
    log_kill(why, pid, comm, uid, adj, u);
    cgroup::put(charged);
    return true;
}

// The processes charged inside `top`, at most `cap` of them (pid 1 never:
// Linux spares init). Sets *dying when one of them is exiting already: its
// memory is about to go, so nothing is killed meanwhile (as Linux waits
// for an earlier victim).
enum class Member { No, Alive, Dying };

// Whether `p` (tree lock held) is charged inside `top`, and dying there:
// killed, or past its last thread's exit and still letting go of its
// memory until it is a zombie. Its cgroup then moves to p.cgroup; in
// between, it counts as dying anywhere (a short wait at worst). Without
// this, a victim whose memory was not gone yet looked like no victim at
// all, and the charger gave up (tests/user/oom_victim, 1 run in 5).
Member membership(const proc::Process& p, Cgroup& top) {
    if (p.pid == 1) return Member::No;
    if (!p.thread) {
        Cgroup* c = __atomic_load_n(&p.cgroup, __ATOMIC_ACQUIRE);
        return !c || inside(*c, top) ? Member::Dying : Member::No;
    }
    if (!inside(cgroup::of(*p.thread), top)) return Member::No;
    return fatal_pending(p) ? Member::Dying : Member::Alive;
}

usize members(Cgroup& top, int* pids, usize cap, bool* dying) {
    usize n = 0;
    *dying = false;
    proc::for_each_process([&](proc::Process& p) {
        Member m = membership(p, top);
        if (m == Member::Dying) *dying = true;
        else if (m == Member::Alive && p.mm && n < cap) pids[n++] = p.pid;
    });
    return n;
}

// The OOM killer in `over`, whose limit was hit: the process charged
// inside it with the most memory is killed, or with memory.oom.group set
// every process of the group (the highest one with it set, up to `over`).
Oom out_of_memory(Cgroup& over) {
    count_event(over, EV_OOM);
    constexpr usize CAP = 512;
    int* pids = static_cast<int*>(heap_alloc(CAP * sizeof(int)));
    if (!pids) return Oom::NoVictim;
    bool dying = false;
    usize n = members(over, pids, CAP, &dying);
    if (dying) {
        heap_free(pids);
        return Oom::InProgress;
    }
    // What the group may use is the measure (Linux: memory.max, plus the
    // swap it may use, none here).
    u64 total = over.memory.limit();
    if (!total) total = 1;
    Candidate best{0, 0};
    for (usize i = 0; i < n; ++i) {
        i64 points;
        if (!badness(pids[i], total, &points)) continue;
        // Equal scores: the later one, as Linux's scan ends up choosing.
        if (!best.pid || points >= best.points) best = {pids[i], points};
    }
    if (!best.pid) {
        heap_free(pids);
        char path[128];
        cgroup::path_of(over, path, sizeof(path));
        pr_warn("Memory cgroup out of memory: no process to kill in %s", path);
        return Oom::NoVictim;
    }
    char path[128];
    cgroup::path_of(over, path, sizeof(path));
    proc::Process* self = proc::current_process();
    pr_warn("%s invoked oom-killer: oom_memcg=%s, usage %llukB, limit %llukB, failcnt %llu",
            self ? self->comm : "kernel", path, static_cast<unsigned long long>(over.memory.read() * PAGE / 1024),
            static_cast<unsigned long long>(over.memory.limit() * PAGE / 1024),
            static_cast<unsigned long long>(__atomic_load_n(&over.memory.failcnt, __ATOMIC_RELAXED)));

    // memory.oom.group: the highest group with it set, from the victim's
    // cgroup up to `over`.
    Cgroup* group = nullptr;
    proc::lock_tree();
    proc::Process* v = proc::process_slot(best.pid);
    if (v && v->state == proc::ProcessState::Running && v->thread) {
        for (Cgroup* a = target_of(cgroup::of(*v->thread)); a; a = a->parent) {
            if (a->mem.oom_group) group = a;
            if (a == &over) break;
        }
        if (group) cgroup::get(*group);
    }
    proc::unlock_tree();

    bool self_killed = self && best.pid == self->pid;
    bool any = kill_one(best.pid, over, "Memory cgroup out of memory");
    if (group) {
        char gpath[128];
        cgroup::path_of(*group, gpath, sizeof(gpath));
        pr_info("Tasks in %s are going to be killed due to memory.oom.group set", gpath);
        usize m = members(*group, pids, CAP, &dying);
        for (usize i = 0; i < m; ++i) {
            if (pids[i] == best.pid) continue;
            if (kill_one(pids[i], *group, "OOM killer (memory.oom.group)", true)) {
                any = true;
                self_killed |= self && pids[i] == self->pid;
            }
        }
        count_event(*group, EV_OOM_GROUP_KILL);
        cgroup::put(group);
    }
    heap_free(pids);
    if (!any) return Oom::InProgress;  // it went by itself meanwhile
    return self_killed ? Oom::KilledSelf : Oom::Killed;
}

bool anyone_dying(Cgroup& top) {
    bool dying = false;
    proc::for_each_process([&](proc::Process& p) {
        if (!dying) dying = membership(p, top) == Member::Dying;
    });
    return dying;
}

// After an OOM kill in `over`: waits until `room` more pages fit, or the
// victims are gone (the caller tries again, and may kill again). False
// when the caller was killed or the victims take too long.
bool wait_for_room(Cgroup& over, u64 room) {
    for (u64 waited = 0; waited < VICTIM_WAIT_NS; waited += POLL_NS) {
        if (current_dying()) return false;
        if (over.memory.read() + room <= over.memory.limit()) return true;
        if (waited % (10 * POLL_NS) == 0 && !anyone_dying(over)) return true;
        sched::sleep_ns(POLL_NS);
    }
    return false;
}

// ---- tmpfs ------------------------------------------------------------------

Result<void*> charge_shmem() {
    Cgroup* c = TRY(charge(SHMEM));
    return static_cast<void*>(c);
}
void uncharge_shmem(void* owner) { uncharge(static_cast<Cgroup*>(owner), SHMEM); }

const fs::TmpfsCharge tmpfs_hooks{charge_shmem, uncharge_shmem};

// ---- Kernel objects (mm::kzalloc_account) -----------------------------------

// Interrupts on and no spinlock held: the OOM killer may run and wait.
bool may_sleep() { return arch::irqs_enabled() && current_cpu_raw()->preempt_count == 0; }

Status try_charge_bytes(Cgroup& c, usize bytes) {
    u64 before = c.memory.read();
    if (PageCounter* over = counter_try_charge_bytes(&c.memory, &c.slab_bytes, bytes)) {
        count_event(*owner_of(&c, over), EV_MAX);
        return Error(ENOMEM);
    }
    // Over memory.high, paid for on the way back to user space.
    if (c.memory.read() > before && above_high(&c.memory)) ++sched::current()->memcg_pages_over_high;
    return {};
}

// Over memory.max, where it may sleep, the OOM killer in the cgroup and
// again, as a page charge does (Linux's charges from system calls do the
// same); under a spinlock the allocation fails instead.
Result<void*> charge_object(usize bytes) {
    for (int tries = 0;; ++tries) {
        Cgroup* c = charge_target();
        if (!c) return static_cast<void*>(nullptr);
        Status st = try_charge_bytes(*c, bytes);
        if (st.is_ok()) {
            cgroup::get(*c);  // each object holds its cgroup, as a page does
            return static_cast<void*>(c);
        }
        if (tries >= 16 || !may_sleep() || !handle_oom()) return st.error();
    }
}

void uncharge_object(void* owner, usize bytes) {
    auto* c = static_cast<Cgroup*>(owner);
    counter_uncharge_bytes(&c->memory, &c->slab_bytes, bytes);
    cgroup::put(c);
}

constexpr mm::ObjAccounting object_hooks{charge_object, uncharge_object};

}  // namespace

void init() {
    fs::set_tmpfs_charge(&tmpfs_hooks);
    mm::kmalloc_heap().set_accounting(object_hooks);
}

bool badness(int pid, u64 total_pages, i64* points) {
    int adj = 0;
    bool eligible = false;
    proc::lock_tree();
    proc::Process* p = proc::process_slot(pid);
    if (p && p->pid != 1 && p->state == proc::ProcessState::Running && p->mm && !p->vfork_done) {
        adj = p->oom_score_adj;
        eligible = adj != OOM_SCORE_ADJ_MIN;
    }
    proc::unlock_tree();
    if (!eligible) return false;
    fs::procfs::MemUsage u;
    if (fs::procfs::mem_usage(pid, u).is_error() || !u.has_mm) return false;
    *points = static_cast<i64>((u.rss() + u.vm_pte) / PAGE) + adj * static_cast<i64>(total_pages / 1000);
    return true;
}

bool current_killed() { return current_dying(); }

void count_event(Cgroup& c, Event e) {
    __atomic_add_fetch(&c.mem_events_local[e], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&c.mem_events_local_seq, 1, __ATOMIC_RELAXED);
    for (Cgroup* a = &c; a && !a->is_root(); a = a->parent) {
        __atomic_add_fetch(&a->mem_events[e], 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&a->mem_events_seq, 1, __ATOMIC_RELAXED);
        a->events_wq.wake_all();  // pollers of memory.events(.local)
    }
}

Cgroup* charge_target() {
    sched::Thread* t = sched::current();
    if (!t || !t->process) return nullptr;  // kernel threads are not charged
    return target_of(cgroup::of(*t));
}

Result<Cgroup*> try_charge(Kind kind) {
    Cgroup* c = charge_target();
    if (!c) return static_cast<Cgroup*>(nullptr);
    if (PageCounter* over = counter_try_charge(&c->memory, 1)) {
        count_event(*owner_of(c, over), EV_MAX);
        return Error(ENOMEM);
    }
    cgroup::get(*c);
    __atomic_add_fetch(&c->mem_pages[kind], 1, __ATOMIC_RELAXED);
    // Over memory.high the charge stands, and the thread pays for it on
    // its way back to user space, whatever made it (a fault, a tmpfs write).
    if (above_high(&c->memory)) ++sched::current()->memcg_pages_over_high;
    return c;
}

Result<Cgroup*> charge(Kind kind) {
    for (int tries = 0;; ++tries) {
        auto r = try_charge(kind);
        if (r.is_ok()) {
            // A long system call (a write filling tmpfs) pays as it goes,
            // a charge batch at a time, as Linux's try_charge does, instead
            // of overrunning memory.high by all it writes.
            if (sched::current()->memcg_pages_over_high > CHARGE_BATCH) throttle_over_high();
            return r;
        }
        if (tries >= 16 || !handle_oom()) return r;
    }
}

void uncharge(Cgroup* c, Kind kind) {
    if (!c) return;
    counter_uncharge(&c->memory, 1);
    __atomic_sub_fetch(&c->mem_pages[kind], 1, __ATOMIC_RELAXED);
    cgroup::put(c);
}

Status try_charge_frame(mm::PageFrame& f, Kind kind) {
    f.memcg = nullptr;
    f.memcg = TRY(try_charge(kind));
    return {};
}

void uncharge_frame(mm::PageFrame& f, Kind kind) {
    auto* c = static_cast<Cgroup*>(f.memcg);
    f.memcg = nullptr;
    uncharge(c, kind);
}

namespace {
constexpr u64 STACK_PAGES = mm::KERNEL_STACK_SIZE / PAGE;

mm::PageFrame& stack_frame(uptr bottom) { return mm::page_frame(arch::translate(arch::kernel_pml4(), bottom)); }
}  // namespace

void charge_kernel_stack(uptr bottom) {
    Cgroup* c = charge_target();
    if (c) {
        cgroup::get(*c);
        counter_charge(&c->memory, STACK_PAGES);
        __atomic_add_fetch(&c->mem_pages[KERNEL_STACK], STACK_PAGES, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&stack_frame(bottom).memcg, static_cast<void*>(c), __ATOMIC_RELEASE);
}

void uncharge_kernel_stack(uptr bottom) {
    // Exchanged: the exit and, for a stack never got that far, its free
    // (mm::free_kernel_stack) may both try.
    auto* c = static_cast<Cgroup*>(__atomic_exchange_n(&stack_frame(bottom).memcg, nullptr, __ATOMIC_ACQ_REL));
    if (!c) return;
    counter_uncharge(&c->memory, STACK_PAGES);
    __atomic_sub_fetch(&c->mem_pages[KERNEL_STACK], STACK_PAGES, __ATOMIC_RELAXED);
    cgroup::put(c);
}

bool handle_oom() {
    Cgroup* c = charge_target();
    if (!c || current_dying()) return false;
    Cgroup* over = over_limit(c);
    if (!over) return true;  // room was made meanwhile
    cgroup::get(*over);
    Oom r = Oom::InProgress;
    {
        sched::MutexGuard g(g_oom_lock);
        // Another thread's kill may have made room meanwhile.
        if (!current_dying() && over->memory.read() + 1 > over->memory.limit()) r = out_of_memory(*over);
    }
    bool retry = false;
    switch (r) {
    case Oom::Killed:
    case Oom::InProgress: retry = wait_for_room(*over, 1); break;
    case Oom::KilledSelf:
    case Oom::NoVictim: break;
    }
    cgroup::put(over);
    return retry;
}

void throttle_over_high() {
    sched::Thread* self = sched::current();
    u64 pages = self->memcg_pages_over_high;
    self->memcg_pages_over_high = 0;
    Cgroup* c = charge_target();
    if (!c || !pages) return;
    u64 overage = high_overage(&c->memory);
    if (!overage) return;  // back under memory.high meanwhile
    for (Cgroup* a = c; a && !a->is_root(); a = a->parent)
        if (a->memory.read() > a->memory.high_limit()) count_event(*a, EV_HIGH);
    // Linux's penalty: per page charged over the limit, the square of the
    // overage in seconds (overage in 1/2^20 units, page count in units of
    // its 64-page charge batch: 2^(20+20) for one page); at most 2 s, and
    // none when under 10 ms.
    if (overage > (1ull << 22)) overage = 1ull << 22;
    u64 per_page = ((overage * overage) >> 20) * 1000000000ull >> 20;
    u64 delay = pages >= HIGH_DELAY_MAX_NS / (per_page + 1) ? HIGH_DELAY_MAX_NS : per_page * pages;
    if (delay <= HIGH_DELAY_MIN_NS) return;
    if (delay > HIGH_DELAY_MAX_NS) delay = HIGH_DELAY_MAX_NS;
    // A memory stall, as Linux counts it: memory.pressure shows it.
    sched::psi_memstall(true);
    u64 left = 0;
    (void)sched::sleep_ns_interruptible(delay, &left);
    sched::psi_memstall(false);
}

void shrink_to_max(Cgroup& c) {
    // The writer holds the tree mutex: bounded, whatever the victims do.
    u64 start = time::monotonic_ns();
    while (c.memory.read() > c.memory.limit()) {
        if (sig::interrupt_pending() || time::monotonic_ns() - start > VICTIM_WAIT_NS) return;
        Oom r;
        {
            sched::MutexGuard g(g_oom_lock);
            r = c.memory.read() > c.memory.limit() ? out_of_memory(c) : Oom::InProgress;
        }
        if (r == Oom::NoVictim || r == Oom::KilledSelf || !wait_for_room(c, 0)) return;
    }
}

}  // namespace keel::memcg
