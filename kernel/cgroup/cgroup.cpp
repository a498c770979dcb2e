// The cgroup tree, membership and the rules Linux applies to both:
// pids charges, populated counts, moves, the domain/threaded rules,
// cgroup.subtree_control, cpuset masks and cgroup.kill.
#include "kernel/cgroup/cgroup.h"

#include <linux/sched.h>
#include <linux/signal.h>

#include "kernel/cgroup/cgroupfs.h"
#include "kernel/cgroup/parse.h"
#include "kernel/printk.h"
#include "kernel/process/cputime.h"
#include "kernel/process/process.h"
#include "kernel/psi/psi.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"
#include "lib/format.h"
#include "lib/string.h"

namespace keel::cgroup {

const char* const CTRL_NAMES[NCTRL] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};

namespace {

sched::Mutex g_tree;
Spinlock g_members{LockRank::Cgroup};
Cgroup g_root;
u64 g_next_id = 1;

u64 online_mask() {
    u32 n = sched::online_cpus();
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

// Membership lock held. Keeps populated and the parents' counts right and
// notifies cgroup.events on every change of "populated".
void populated_changed(Cgroup* c, bool was) {
    while (c && !c->is_root()) {
        bool now = c->populated();
        if (now == was) return;
        notify_events(*c);
        Cgroup* p = c->parent;
        if (!p || p->is_root()) return;
        was = p->populated();
        p->nr_populated_children += now ? 1 : static_cast<u32>(-1);
        if (!c->threaded) p->nr_populated_domain_children += now ? 1 : static_cast<u32>(-1);
        c = p;
    }
}

void add_threads(Cgroup& c, int delta) {
    if (c.is_root()) return;
    bool was = c.populated();
    c.nr_threads += static_cast<u32>(delta);
    populated_changed(&c, was);
}

void pids_uncharge(Cgroup& c) {
    for (Cgroup* a = &c; a && !a->is_root(); a = a->parent) --a->pids_current;
}

void pids_charge_forced(Cgroup& c) {
    for (Cgroup* a = &c; a && !a->is_root(); a = a->parent)
        if (++a->pids_current > a->pids_peak) a->pids_peak = a->pids_current;
}

// EAGAIN when `c` or an ancestor is at pids.max, counting the event as
// Linux 6.12 does: locally where the limit is, hierarchically from there up.
Status pids_try_charge(Cgroup& c) {
    for (Cgroup* a = &c; a && !a->is_root(); a = a->parent) {
        if (a->pids_max != UNLIMITED && a->pids_current + 1 > a->pids_max) {
            ++a->pids_events_max_local;
            for (Cgroup* up = a; up && !up->is_root(); up = up->parent) {
                ++up->pids_events_max;
                ++up->pids_events_seq;
                up->events_wq.wake_all();
            }
            if (!c.fork_rejected_logged) {
                c.fork_rejected_logged = true;
                char path[256];
                path_of(c, path, sizeof(path));
                pr_info("cgroup: fork rejected by pids controller in %s", path);
            }
            return Error(EAGAIN);
        }
    }
    pids_charge_forced(c);
    return {};
}

// A thread's CPU time so far leaves (sign +1) or joins (-1) the subtree
// totals of `c` and its ancestors (membership lock held).
void account_cpu(Cgroup& c, const cputime::Times& t, int sign) {
    for (Cgroup* a = &c; a; a = a->parent) {
        a->cpu_user_off_ns += sign * static_cast<i64>(t.user_ns);
        a->cpu_system_off_ns += sign * static_cast<i64>(t.system_ns);
    }
}

// Moves one thread's membership and charge (membership lock held).
void move_locked(sched::Thread& t, Cgroup& dst) {
    Cgroup& src = of(t);
    if (&src == &dst) return;
    cputime::Times times = cputime::thread_times(t);
    account_cpu(src, times, 1);
    account_cpu(dst, times, -1);
    pids_uncharge(src);
    add_threads(src, -1);
    pids_charge_forced(dst);
    add_threads(dst, 1);
    get(dst);
    __atomic_store_n(&t.cgroup, &dst, __ATOMIC_RELEASE);
    // Moves hold the tree mutex, so `src` is still in the tree and this is
    // not its last reference; a new thread following its creator
    // (thread_joined) may drop the last one of a cgroup removed meanwhile,
    // which frees it here, without sleeping.
    put(&src);
}

// Linux's checks on a destination of a migration (cgroup_migrate_vet_dst).
Status vet_destination(const Cgroup& dst) {
    if (!is_valid_domain(dst.domain())) return Error(EOPNOTSUPP);
    if (dst.is_root() || can_be_thread_root(dst) || dst.threaded) return {};
    if (dst.subtree_control) return Error(EBUSY);
    return {};
}

bool has_tasks(const Cgroup& c) {
    bool irq = g_members.lock();
    bool r = c.nr_threads != 0;
    g_members.unlock(irq);
    return r;
}

}  // namespace

Cgroup& root() {
    if (!g_root.id) {
        g_root.id = 1;
        g_root.name[0] = 0;
        g_root.cpus_effective = ~0ull;
        g_root.refs = 1;
    }
    return g_root;
}

sched::Mutex& tree_mutex() { return g_tree; }

void get(Cgroup& c) { __atomic_add_fetch(&c.refs, 1, __ATOMIC_RELAXED); }

void put(Cgroup* c) {
    while (c && !c->is_root()) {
        if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL)) return;
        Cgroup* parent = c->parent;
        if (c->psi_memory) psi::group_put(c->psi_memory);
        destroy(c);
        c = parent;  // the child's reference on its parent
    }
}

psi::PsiGroup* psi_of(Cgroup& c) { return c.is_root() ? psi::system_group() : c.psi; }

namespace {

// psi::group_of: lock-free, under run-queue locks. A thread's cgroup keeps
// its group while the thread is in it (rmdir needs it empty).
// The scheduler owns the PSI state of a thread that moves: a move between
// cgroups must be followed by psi::task_move under the thread's run-queue
// lock once the scheduler counts PSI states (it does not yet, so no state
// is carried).
psi::PsiGroup* thread_psi_group(const sched::Thread& t) {
    Cgroup* c = __atomic_load_n(&t.cgroup, __ATOMIC_ACQUIRE);
    return c && !c->is_root() ? c->psi : nullptr;
}

}  // namespace

Cgroup& of(const sched::Thread& t) {
    Cgroup* c = __atomic_load_n(&t.cgroup, __ATOMIC_ACQUIRE);
    return c ? *c : root();
}

void notify_events(Cgroup& c) {
    __atomic_add_fetch(&c.events_seq, 1, __ATOMIC_RELAXED);
    c.events_wq.wake_all();
}

// ---- fork and exit ----------------------------------------------------------

Result<Cgroup*> charge_fork(int cgroup_fd, bool thread) {
    Cgroup* target = nullptr;
    if (cgroup_fd >= 0) {
        target = TRY(cgroup_from_fd(cgroup_fd));
        sched::MutexGuard g(g_tree);
        Status st = {};
        if (target->removed) st = Error(ENOENT);
        else if (thread && target != &of(*sched::current())) st = Error(EOPNOTSUPP);
        else st = vet_destination(*target);
        if (st.is_error()) {
            put(target);
            return st.error();
        }
    }
    bool irq = g_members.lock();
    if (!target) {
        target = &of(*sched::current());
        get(*target);
    }
    Status st = pids_try_charge(*target);
    if (st.is_ok()) ++target->nr_forking;
    g_members.unlock(irq);
    if (st.is_error()) {
        put(target);
        return st.error();
    }
    return target;
}

void cancel_fork(Cgroup* c) {
    bool irq = g_members.lock();
    --c->nr_forking;
    pids_uncharge(*c);
    g_members.unlock(irq);
    put(c);
}

void attach_new(sched::Thread& t, Cgroup* c) {
    bool irq = g_members.lock();
    --c->nr_forking;
    add_threads(*c, 1);
    __atomic_store_n(&t.cgroup, c, __ATOMIC_RELEASE);
    g_members.unlock(irq);
    if (!c->is_root()) sched::set_cpuset_mask(&t, c->cpus_effective);
}

void thread_joined(sched::Thread& t) {
    sched::Thread* creator = sched::current();
    // The common case, without locks: t is in its process's list now, so a
    // move of the process from here on takes it along.
    if (&of(*creator) == &of(t)) return;
    proc::lock_tree();
    bool moved = false;
    {
        bool irq = g_members.lock();
        // The old cgroup keeps a reference of `t` until move_locked drops
        // it, so it cannot go away under us.
        if (&of(*creator) != &of(t)) {
            move_locked(t, of(*creator));
            moved = true;
        }
        g_members.unlock(irq);
    }
    if (moved) {
        Cgroup& c = of(t);
        sched::set_cpuset_mask(&t, c.is_root() ? ~0ull : c.cpus_effective);
    }
    proc::unlock_tree();
}

void thread_exit(sched::Thread& t, proc::Process* last_of) {
    cputime::Times times = cputime::thread_times(t);
    bool irq = g_members.lock();
    Cgroup* c = t.cgroup;
    account_cpu(c ? *c : root(), times, 1);
    t.cgroup = nullptr;
    if (c) add_threads(*c, -1);
    if (c && last_of) {
        last_of->cgroup = c;  // the charge and the reference go to the zombie
        c = nullptr;
    } else if (c) {
        pids_uncharge(*c);
    }
    g_members.unlock(irq);
    put(c);
}

void process_released(proc::Process& p) {
    Cgroup* c = p.cgroup;
    if (!c) return;
    p.cgroup = nullptr;
    bool irq = g_members.lock();
    pids_uncharge(*c);
    g_members.unlock(irq);
    put(c);
}

// ---- Moves ------------------------------------------------------------------

Status move_process(Cgroup& dst, int pid) {
    if (dst.removed) return Error(ENODEV);
    proc::lock_tree();
    proc::Process* p = pid ? nullptr : proc::current_process();
    if (pid) {
        sched::Thread* t = proc::find_thread(pid);
        p = t ? t->process : nullptr;
    }
    if (!p || p->state != proc::ProcessState::Running || !p->thread) {
        proc::unlock_tree();
        return Error(ESRCH);
    }
    Cgroup& src = of(*p->thread);
    if (&src != &dst) {
        Status st = vet_destination(dst);
        if (st.is_error()) {
            proc::unlock_tree();
            return st;
        }
    }
    u64 mask = dst.is_root() ? ~0ull : dst.cpus_effective;
    // The thread list is stable under the process-tree lock.
    bool irq = g_members.lock();
    p->threads.for_each([&](sched::Thread& t) { move_locked(t, dst); });
    g_members.unlock(irq);
    p->threads.for_each([&](sched::Thread& t) { sched::set_cpuset_mask(&t, mask); });
    proc::unlock_tree();
    return {};
}

Status move_thread(Cgroup& dst, int tid) {
    if (dst.removed) return Error(ENODEV);
    proc::lock_tree();
    sched::Thread* t = tid ? proc::find_thread(tid) : sched::current();
    Status st = {};
    if (!t || !t->process) st = Error(ESRCH);
    // Single threads move only within one domain (a threaded subtree).
    else if (&of(*t).domain() != &dst.domain()) st = Error(EOPNOTSUPP);
    else if (&of(*t) != &dst) st = vet_destination(dst);
    if (st.is_ok() && &of(*t) != &dst) {
        bool irq = g_members.lock();
        move_locked(*t, dst);
        g_members.unlock(irq);
        sched::set_cpuset_mask(t, dst.is_root() ? ~0ull : dst.cpus_effective);
    }
    proc::unlock_tree();
    return st;
}

void list_members(const Cgroup& c, bool threads, void (*emit)(void*, int), void* ctx) {
    proc::for_each_process([&](proc::Process& p) {
        if (!threads) {
            if (p.thread && &of(*p.thread).domain() == &c) emit(ctx, p.pid);
            return;
        }
        p.threads.for_each([&](sched::Thread& t) {
            if (&of(t) == &c) emit(ctx, t.user_tid);
        });
    });
}

// ---- The tree ---------------------------------------------------------------

Cgroup* find_child(Cgroup& parent, StringView name) {
    Cgroup* found = nullptr;
    parent.children.for_each([&](Cgroup& c) {
        if (!found && StringView(c.name) == name) found = &c;
    });
    return found;
}

Result<Cgroup*> create(Cgroup& parent, StringView name) {
    if (parent.removed) return Error(ENOENT);
    if (name.size() > 255) return Error(ENAMETOOLONG);
    if (name.contains('\n')) return Error(EINVAL);  // it would break /proc/<pid>/cgroup's lines
    int level = parent.level + 1;
    for (Cgroup* a = &parent; a; a = a->parent) {
        if (a->max_depth != UNLIMITED && static_cast<u64>(level - a->level) > a->max_depth) return Error(EAGAIN);
        if (a->max_descendants != UNLIMITED && a->nr_descendants >= a->max_descendants) return Error(EAGAIN);
    }
    psi::PsiGroup* pg = TRY(psi::group_create(psi_of(parent)));
    auto made = make<Cgroup>();
    if (made.is_error()) {
        psi::group_destroy(pg);
        return made.error();
    }
    Cgroup* c = made.value();
    c->psi = pg;
    // Kept until the cgroup is freed: psi::group_of may still hand the
    // group out on another CPU while rmdir destroys it.
    psi::group_get(pg);
    c->psi_memory = pg;
    psi::set_group_of(thread_psi_group);
    c->parent = &parent;
    get(parent);
    c->level = level;
    c->id = ++g_next_id;
    mem_copy(c->name, name.data(), name.size());
    c->name[name.size()] = 0;
    c->cpus_effective = parent.is_root() ? online_mask() : parent.cpus_effective;
    parent.children.push_back(*c);
    __atomic_add_fetch(&parent.nr_children, 1, __ATOMIC_RELAXED);
    for (Cgroup* a = &parent; a; a = a->parent) ++a->nr_descendants;
    return c;
}

Status remove(Cgroup& c) {
    if (c.is_root()) return Error(EBUSY);
    if (!c.children.empty()) return Error(EBUSY);
    bool irq = g_members.lock();
    bool busy = c.populated() || c.nr_forking;
    g_members.unlock(irq);
    if (busy) return Error(EBUSY);
    c.removed = true;
    c.parent->children.remove(c);
    __atomic_sub_fetch(&c.parent->nr_children, 1, __ATOMIC_RELAXED);
    if (c.threaded) --c.parent->nr_threaded_children;
    for (Cgroup* a = c.parent; a; a = a->parent) --a->nr_descendants;
    // Pollers of a removed cgroup's files are told (kernfs's deactivation).
    notify_events(c);
    psi::group_destroy(c.psi);
    c.psi = nullptr;
    put(&c);  // the tree's reference
    return {};
}

bool is_thread_root(const Cgroup& c) {
    if (c.threaded) return false;
    if (c.nr_threaded_children) return true;
    return !c.is_root() && (c.subtree_control & THREADED_CTRLS) && has_tasks(c);
}

bool is_valid_domain(const Cgroup& c) {
    if (c.threaded) return false;
    for (const Cgroup* a = c.parent; a; a = a->parent) {
        if (!a->is_root() && is_thread_root(*a)) return false;
        if (a->threaded) return false;
    }
    return true;
}

bool can_be_thread_root(const Cgroup& c) {
    if (c.is_root()) return true;
    if (c.threaded) return false;
    bool irq = g_members.lock();
    bool populated_children = c.nr_populated_domain_children != 0;
    g_members.unlock(irq);
    if (populated_children) return false;
    return !(c.subtree_control & ~THREADED_CTRLS);
}

Status make_threaded(Cgroup& c) {
    if (c.threaded) return {};
    bool irq = g_members.lock();
    bool populated = c.populated();
    g_members.unlock(irq);
    if (populated || (c.subtree_control & ~THREADED_CTRLS)) return Error(EOPNOTSUPP);
    const Cgroup& dom = c.parent->domain();
    if (!is_valid_domain(dom) || !can_be_thread_root(dom)) return Error(EOPNOTSUPP);
    c.threaded = true;
    ++c.parent->nr_threaded_children;
    // Domain controllers no longer reach it: its files change.
    notify_events(c);
    return {};
}

Status change_subtree_control(Cgroup& c, u32 enable, u32 disable) {
    u32 available = c.controllers();
    enable &= ~c.subtree_control;
    disable &= c.subtree_control;
    if ((enable | disable) & ~available) return Error(ENOENT);
    // A controller a child has in its own subtree_control cannot go.
    bool used = false;
    c.children.for_each([&](Cgroup& ch) { used |= (ch.subtree_control & disable) != 0; });
    if (used) return Error(EBUSY);
    if (enable && !c.is_root()) {
        if (!is_valid_domain(c.domain())) return Error(EOPNOTSUPP);
        u32 domain = enable & ~THREADED_CTRLS;
        if (domain && (is_thread_root(c) || c.threaded)) return Error(EOPNOTSUPP);
        // Threaded controllers are always allowed in a (future) thread root
        // and inside a threaded subtree; anything else needs no tasks here.
        bool threaded_ok = !domain && (can_be_thread_root(c) || c.threaded);
        if (!threaded_ok && has_tasks(c)) return Error(EBUSY);
    }
    c.subtree_control = (c.subtree_control | enable) & ~disable;
    c.control_written = true;
    // Controller files appear or go in the children: their directories
    // are regenerated on the next lookup.
    c.children.for_each([&](Cgroup& ch) { notify_events(ch); });
    if ((enable | disable) & (1u << CPUSET)) update_cpusets(c);
    return {};
}

void update_cpusets(Cgroup& c) {
    // Effective: what was written, within the parent's effective set; empty
    // (or disjoint) inherits the parent's.
    auto recompute = [](Cgroup& g, auto& self) -> void {
        if (!g.is_root()) {
            u64 parent_eff = g.parent->is_root() ? online_mask() : g.parent->cpus_effective;
            bool on = g.controllers() & (1u << CPUSET);
            u64 eff = on && g.cpus ? (g.cpus & parent_eff) : 0;
            g.cpus_effective = eff ? eff : parent_eff;
        }
        g.children.for_each([&](Cgroup& ch) { self(ch, self); });
    };
    recompute(c, recompute);
    proc::for_each_process([&](proc::Process& p) {
        p.threads.for_each([&](sched::Thread& t) {
            Cgroup& g = of(t);
            if (!g.is_root()) sched::set_cpuset_mask(&t, g.cpus_effective);
        });
    });
}

void kill_subtree(Cgroup& c) {
    proc::for_each_process([&](proc::Process& p) {
        bool inside = false;
        p.threads.for_each([&](sched::Thread& t) {
            for (const Cgroup* a = &of(t); a && !inside; a = a->parent) inside = a == &c;
        });
        if (inside) sig::send_from_kernel(p, SIGKILL);
    });
}

CpuUsage cpu_usage(const Cgroup& c) {
    i64 user = 0, system = 0;
    proc::for_each_process([&](proc::Process& p) {
        p.threads.for_each([&](sched::Thread& t) {
            bool inside = false;
            for (const Cgroup* a = &of(t); a && !inside; a = a->parent) inside = a == &c;
            if (!inside) return;
            cputime::Times tt = cputime::thread_times(t);
            user += static_cast<i64>(tt.user_ns);
            system += static_cast<i64>(tt.system_ns);
        });
    });
    // A thread that left its process's list but has not reached
    // thread_exit yet is in neither sum: a read in that window comes out a
    // little low, never high.
    bool irq = g_members.lock();
    user += c.cpu_user_off_ns;
    system += c.cpu_system_off_ns;
    g_members.unlock(irq);
    return {user > 0 ? static_cast<u64>(user) : 0, system > 0 ? static_cast<u64>(system) : 0};
}

void path_of(const Cgroup& c, char* buf, usize size) {
    if (!size) return;
    // The length first, then the names from the end backwards.
    usize len = 0;
    for (const Cgroup* a = &c; a && !a->is_root(); a = a->parent) len += 1 + str_len(a->name);
    if (!len) len = 1;
    usize end = min(len, size - 1);
    buf[end] = 0;
    buf[0] = '/';
    usize pos = len;
    for (const Cgroup* a = &c; a && !a->is_root(); a = a->parent) {
        usize n = str_len(a->name);
        pos -= n;
        for (usize i = 0; i < n; ++i)
            if (pos + i < end) buf[pos + i] = a->name[i];
        if (--pos < end) buf[pos] = '/';
    }
}

}  // namespace keel::cgroup
