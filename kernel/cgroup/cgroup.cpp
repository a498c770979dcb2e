// The cgroup tree and the rules Linux applies to it: mkdir/rmdir limits,
// the domain/threaded rules, cgroup.subtree_control, cpuset masks and
// cgroup.kill (membership is in membership.cpp).
#include "kernel/cgroup/cgroup.h"

#include <linux/sched.h>
#include <linux/signal.h>

#include "kernel/cgroup/cgroupfs.h"
#include "kernel/cgroup/freeze.h"
#include "kernel/cgroup/internal.h"
#include "kernel/cgroup/parse.h"
#include "kernel/printk.h"
#include "kernel/process/process.h"
#include "kernel/psi/psi.h"
#include "kernel/sched/fair_group.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"
#include "lib/format.h"
#include "lib/string.h"

namespace keel::cgroup {

const char* const CTRL_NAMES[NCTRL] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};

namespace {

sched::Mutex g_tree;
Cgroup g_root;
u64 g_next_id = 1;

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
        sched::bandwidth::release(c->bw);
        sched::fair_group_destroy(c->fair);
        destroy(c);
        c = parent;  // the child's reference on its parent
    }
}

psi::PsiGroup* psi_of(Cgroup& c) { return c.is_root() ? psi::system_group() : c.psi; }

namespace {

// psi::group_of: lock-free, under run-queue locks. A thread's cgroup keeps
// its group while the thread is in it (rmdir needs it empty); every change
// of Thread::cgroup goes through sched::set_cgroup, which moves the
// thread's PSI states along.
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
    auto fair = sched::fair_group_create(c);
    if (fair.is_error()) {
        destroy(c);
        psi::group_destroy(pg);
        return fair.error();
    }
    c->fair = fair.value();
    c->psi = pg;
    // Kept until the cgroup is freed: psi::group_of may still hand the
    // group out on another CPU while rmdir destroys it.
    psi::group_get(pg);
    c->psi_memory = pg;
    psi::set_group_of(thread_psi_group);
    c->parent = &parent;
    get(parent);
    c->memory.parent = parent.is_root() ? nullptr : &parent.memory;  // the root is not charged
    c->level = level;
    c->id = ++g_next_id;
    mem_copy(c->name, name.data(), name.size());
    c->name[name.size()] = 0;
    c->cpus_effective = parent.is_root() ? sched::online_mask() : parent.cpus_effective;
    parent.children.push_back(*c);
    __atomic_add_fetch(&parent.nr_children, 1, __ATOMIC_RELAXED);
    for (Cgroup* a = &parent; a; a = a->parent) ++a->nr_descendants;
    freeze_child_created(*c);
    return c;
}

Status remove(Cgroup& c) {
    if (c.is_root()) return Error(EBUSY);
    if (!c.children.empty()) return Error(EBUSY);
    bool irq = members_lock().lock();
    bool busy = c.populated() || c.nr_forking;
    members_lock().unlock(irq);
    if (busy) return Error(EBUSY);
    c.removed = true;
    freeze_child_removed(c);
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
    bool irq = members_lock().lock();
    bool populated_children = c.nr_populated_domain_children != 0;
    members_lock().unlock(irq);
    if (populated_children) return false;
    return !(c.subtree_control & ~THREADED_CTRLS);
}

Status make_threaded(Cgroup& c) {
    if (c.threaded) return {};
    bool irq = members_lock().lock();
    bool populated = c.populated();
    members_lock().unlock(irq);
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
            u64 parent_eff = g.parent->is_root() ? sched::online_mask() : g.parent->cpus_effective;
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
