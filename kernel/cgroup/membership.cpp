// Membership: which cgroup each thread is in, and the counts that follow
// it (populated, pids, CPU time); fork, exit and moves.
#include <linux/sched.h>

#include "kernel/cgroup/cgroupfs.h"
#include "kernel/cgroup/freeze.h"
#include "kernel/cgroup/internal.h"
#include "kernel/cgroup/parse.h"
#include "fs/vfs_file.h"
#include "kernel/printk.h"
#include "kernel/process/cputime.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "lib/alloc.h"

namespace keel::cgroup {

namespace {

Spinlock g_members{LockRank::Cgroup};

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
    sched::set_cgroup(&t, &dst);  // with its PSI states, under its run-queue lock
    freeze_moved(t, src, dst);
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

}  // namespace

bool has_tasks(const Cgroup& c) {
    bool irq = g_members.lock();
    bool r = c.nr_threads != 0;
    g_members.unlock(irq);
    return r;
}

Spinlock& members_lock() { return g_members; }

// ---- fork and exit ----------------------------------------------------------

Result<Cgroup*> charge_fork(int cgroup_fd, bool thread) {
    Cgroup* target = nullptr;
    if (cgroup_fd >= 0) {
        target = TRY(cgroup_from_fd(cgroup_fd));
        sched::MutexGuard g(tree_mutex());
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
    sched::set_cgroup(&t, c);
    // Not frozen until it reaches the trap (on its way to user mode).
    update_frozen(c);
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
    sched::set_cgroup(&t, nullptr);  // its last PSI states go with it to the system group
    if (c) {
        add_threads(*c, -1);
        if (t.signals.frozen) {
            t.signals.frozen = false;
            --c->nr_frozen;
        }
        update_frozen(c);  // the last unfrozen thread of a freezing cgroup may be leaving
    }
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

Status migration_permission(Cgroup& dst, StringView text, bool thread, const fs::Cred& cred) {
    auto id = parse_u64(strip(text));
    if (id.is_error() || id.value() > 0x7fffffff || __atomic_load_n(&dst.removed, __ATOMIC_RELAXED)) return {};
    int pid = static_cast<int>(id.value());
    proc::lock_tree();
    sched::Thread* t = pid ? proc::find_thread(pid) : sched::current();
    if (t && t->process && !thread) t = t->process->thread;
    if (!t || !t->process) {
        proc::unlock_tree();
        return {};
    }
    Cgroup* src = &of(*t);
    get(*src);
    proc::unlock_tree();
    // Our reference on `src` keeps its ancestors (each holds its parent).
    Cgroup* common = src;
    for (;;) {
        bool below = false;
        for (Cgroup* a = &dst; a && !below; a = a->parent) below = a == common;
        if (below || !common->parent) break;
        common = common->parent;
    }
    Status st = may_write_procs(*common, cred);
    put(src);
    return st;
}

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
    // The thread list is stable under the process-tree lock. Threads of a
    // process may sit in different cgroups of a threaded subtree: look at
    // each one's freezing before it moves.
    bool irq = g_members.lock();
    bool src_freezing = false;
    p->threads.for_each([&](sched::Thread& t) {
        src_freezing |= of(t).e_freeze;
        move_locked(t, dst);
    });
    g_members.unlock(irq);
    p->threads.for_each([&](sched::Thread& t) {
        sched::set_cpuset_mask(&t, mask);
        if (src_freezing || __atomic_load_n(&dst.e_freeze, __ATOMIC_ACQUIRE)) sig::kick_thread(t);
    });
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
        Cgroup& src = of(*t);
        bool irq = g_members.lock();
        move_locked(*t, dst);
        g_members.unlock(irq);
        sched::set_cpuset_mask(t, dst.is_root() ? ~0ull : dst.cpus_effective);
        // `src` lives on: moves hold the tree mutex.
        kick_if_freezing(*t, src, dst);
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

}  // namespace keel::cgroup
