// The cgroup v2 freezer: cgroup.freeze, the trap frozen threads wait in,
// and cgroup.events "frozen".
//
// State: Cgroup::frozen (what cgroup.freeze says) is under the tree mutex;
// e_freeze, the counts and frozen_state are under the membership lock,
// as are the thread counts they are compared with. A thread is counted in
// its cgroup's nr_frozen while ThreadSignals::frozen is set, which only
// the trap sets (for the thread itself) and which a move carries along or
// clears.
#include "kernel/cgroup/freeze.h"

#include "kernel/cgroup/internal.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"

namespace keel::cgroup {

namespace {

// Calls f on `top` and every live descendant, parents before children,
// without recursion (the tree may be deep). Tree mutex held.
template <typename F>
void for_subtree(Cgroup& top, F&& f) {
    Cgroup* c = &top;
    for (;;) {
        f(*c);
        if (Cgroup* first = c->children.front()) {
            c = first;
            continue;
        }
        while (c != &top) {
            Cgroup* next = c->parent->children.next(*c);
            if (next) {
                c = next;
                break;
            }
            c = c->parent;
        }
        if (c == &top) return;
    }
}

bool inside(const Cgroup& c, const Cgroup& top) {
    for (const Cgroup* a = &c; a; a = a->parent)
        if (a == &top) return true;
    return false;
}

// Wakes every thread of the subtree so that it looks at its cgroup again:
// into the trap (from user mode through an interrupt, from a sleep
// through interrupt_pending) or out of it.
void kick_subtree(const Cgroup& top) {
    proc::for_each_process([&](proc::Process& p) {
        p.threads.for_each([&](sched::Thread& t) {
            if (inside(of(t), top)) sig::kick_thread(t);
        });
    });
}

// The calling thread enters (want) or leaves the trap's count; returns
// whether it is to stay parked.
bool settle(sched::Thread& t, bool want) {
    SpinlockGuard g(members_lock());
    Cgroup& c = of(t);
    bool stay = want && c.e_freeze;
    if (stay != t.signals.frozen) {
        t.signals.frozen = stay;
        c.nr_frozen += stay ? 1 : static_cast<u32>(-1);
        update_frozen(&c);
    }
    return stay;
}

}  // namespace

void update_frozen(Cgroup* c) {
    for (; c && !c->is_root(); c = c->parent) {
        bool now = c->e_freeze && c->nr_frozen == c->nr_threads && c->nr_frozen_children == c->nr_freeze_children;
        if (now == c->frozen_state) return;
        __atomic_store_n(&c->frozen_state, now, __ATOMIC_RELAXED);
        notify_events(*c);
        if (!c->parent->is_root()) c->parent->nr_frozen_children += now ? 1 : static_cast<u32>(-1);
    }
}

void freezer_trap() {
    sched::Thread& t = *sched::current();
    proc::Process& p = *t.process;
    for (;;) {
        // Asleep before looking, as do_stop: a thaw or a signal after the
        // look finds us interruptible and wakes us.
        __atomic_store_n(&t.interruptible, true, __ATOMIC_SEQ_CST);
        sched::set_current_blocked();
        int fatal = sig::fatal_signal_pending();
        bool dying = fatal || __atomic_load_n(&p.group_exit, __ATOMIC_ACQUIRE);
        if (!settle(t, !dying)) {
            sched::wake(&t);
            __atomic_store_n(&t.interruptible, false, __ATOMIC_SEQ_CST);
            // Linux makes such a signal fatal to the whole group when it is
            // sent, frozen or not; here it is acted on at once.
            if (fatal) proc::exit_killed(fatal);
            return;
        }
        sched::schedule();
        __atomic_store_n(&t.interruptible, false, __ATOMIC_SEQ_CST);
    }
}

void freeze_stopped(sched::Thread& t, bool stopped) { (void)settle(t, stopped); }

void freeze_vfork_wait(sched::Thread& t, bool waiting) {
    SpinlockGuard g(members_lock());
    if (waiting == t.signals.frozen) return;  // a move may have let it go already
    t.signals.frozen = waiting;
    Cgroup& c = of(t);
    c.nr_frozen += waiting ? 1 : static_cast<u32>(-1);
    update_frozen(&c);
}

void set_freeze(Cgroup& c, bool on) {
    if (c.frozen == on) return;
    c.frozen = on;
    bool applied = false;
    {
        SpinlockGuard g(members_lock());
        for_subtree(c, [&](Cgroup& d) {
            bool e = d.frozen || (d.parent && d.parent->e_freeze);
            if (e == d.e_freeze) return;
            __atomic_store_n(&d.e_freeze, e, __ATOMIC_RELEASE);
            applied = true;
            update_frozen(&d);
        });
    }
    // An ancestor decides: tell the writer there is nothing to wait for,
    // as Linux does.
    if (!applied) notify_events(c);
    kick_subtree(c);
}

void freeze_child_created(Cgroup& c) {
    SpinlockGuard g(members_lock());
    ++c.parent->nr_freeze_children;
    __atomic_store_n(&c.e_freeze, c.parent->e_freeze, __ATOMIC_RELEASE);
    update_frozen(&c);
}

void freeze_child_removed(Cgroup& c) {
    SpinlockGuard g(members_lock());
    Cgroup& p = *c.parent;
    --p.nr_freeze_children;
    if (c.frozen_state && !p.is_root()) --p.nr_frozen_children;
    c.frozen_state = false;
    update_frozen(&p);
}

void freeze_moved(sched::Thread& t, Cgroup& src, Cgroup& dst) {
    if (t.signals.frozen) {
        --src.nr_frozen;
        if (dst.e_freeze) ++dst.nr_frozen;
        else t.signals.frozen = false;  // kicked by the mover, it leaves the trap
    }
    update_frozen(&src);
    update_frozen(&dst);
}

void kick_if_freezing(sched::Thread& t, const Cgroup& src, const Cgroup& dst) {
    if (__atomic_load_n(&src.e_freeze, __ATOMIC_ACQUIRE) || __atomic_load_n(&dst.e_freeze, __ATOMIC_ACQUIRE))
        sig::kick_thread(t);
}

}  // namespace keel::cgroup
