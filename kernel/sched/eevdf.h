// EEVDF fair-class arithmetic and run queue (Linux 6.6+, as of 6.12).
//
// Earliest Eligible Virtual Deadline First (Stoica & Abdel-Wahab, 1995):
// every entity has a weight w, a virtual runtime v (advanced by
// delta * 1024 / w while it runs), and a virtual deadline d = v + slice/w.
// The queue's virtual time V is the weight-average of all v. An entity is
// eligible when v <= V (it is owed service, lag = w(V - v) >= 0); the
// scheduler runs the eligible entity with the earliest deadline. Weights
// set the share of CPU, slices set the latency.
//
// This file is pure arithmetic: no locks, no clocks. The caller (the
// kernel's per-CPU scheduler, under its run-queue lock) passes elapsed
// times in and acts on the answers. Calling convention:
//   - charge the running entity with update_curr(delta) before any other
//     operation, and whenever a tick or slice timer fires; a true result
//     means "reschedule";
//   - enqueue(se, Enqueue::Initial) for a new task, Enqueue::Wakeup on wake,
//     then wakeup_preempt(se) to decide whether to preempt the running task;
//   - dequeue(se, Dequeue::Sleep) when a task blocks (see below); curr may
//     be dequeued directly, it then stops being curr;
//   - pick_next() in schedule(): it puts the previous entity back and makes
//     the returned one current;
//   - put_prev() when the CPU leaves the fair class (e.g. an RT task runs);
//   - around an attribute change of a queued task use
//     put_prev(); dequeue(Save); ...; enqueue(Restore); set_next() — or the
//     direct helpers reweight() and set_slice();
//   - detach()/attach() to migrate a queued, non-running entity.
//
// Delayed dequeue (DELAY_DEQUEUE + DELAY_ZERO) is ON by default, as in Linux
// 6.12. Without it, a task that blocks while ineligible keeps its negative
// lag through an arbitrarily long sleep and is punished for it on wakeup;
// with it, the entity stays queued (marked sched_delayed) and competes until
// its lag is paid off, then leaves with lag clipped to zero, so sleeping
// neither banks credit nor carries debt. Its cost is a contract the core
// scheduler must honour: dequeue(Sleep) returns false when it delayed, and
// the task is then blocked yet still se.on_rq. Such a task is woken with
// enqueue(se, Wakeup) on the same run queue (no CPU selection), and must be
// finished with dequeue(se, Dequeue::Delayed) before it migrates, exits or
// changes scheduling class. Use Dequeue::SleepSpecial for sleeps that must
// not be delayed (stopped, traced, frozen, dead). The core may turn the
// feature off with EevdfConfig::delay_dequeue if it cannot honour this.
#pragma once

#include "lib/rbtree.h"
#include "lib/types.h"

namespace keel::sched {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

constexpr u64 NICE_0_LOAD = 1024;
constexpr u64 WEIGHT_IDLEPRIO = 3;  // SCHED_IDLE
// The lag limit is in units of the scheduler tick. Keel is tickless but keeps
// Linux's HZ=1000 value there, so that limits match Linux's.
constexpr u64 TICK_NSEC = 1000000;
// Debian's 6.12 kernel reports a 1.4 ms slice on 2 CPUs (sched_getattr):
// the 0.70 ms base of later kernels, not 6.12.0's 0.75 ms.
constexpr u64 BASE_SLICE_UNIT_NS = 700000;
constexpr u64 MIN_CUSTOM_SLICE_NS = 100000;     // 100 us
constexpr u64 MAX_CUSTOM_SLICE_NS = 100000000;  // 100 ms

// nice -20..19 -> weight; each step is ~1.25x, i.e. ~10% CPU.
inline constexpr u32 kNiceToWeight[40] = {
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
    9548,  7620,  6100,  4904,  3906,  3121,  2501,  1991,  1586,  1277,
    1024,  820,   655,   526,   423,   335,   272,   215,   172,   137,
    110,   87,    70,    56,    45,    36,    29,    23,    18,    15,
};

// floor(2^32 / w): turns the division by w in calc_delta_fair into a
// multiplication. Weights of 2^32 and more get 1, the smallest non-zero.
// (Linux's literal table is one higher in 13 entries, e.g. nice 5; the
// difference is below one part in 10^7.)
constexpr u32 inverse_weight(u64 w) {
    if (w >= (u64(1) << 32)) return 1;
    return static_cast<u32>((u64(1) << 32) / w);
}

struct WmultTable {
    u32 v[40];
};
constexpr WmultTable make_wmult_table() {
    WmultTable t{};
    for (int i = 0; i < 40; ++i) t.v[i] = inverse_weight(kNiceToWeight[i]);
    return t;
}
inline constexpr WmultTable kNiceToWmult = make_wmult_table();
static_assert(kNiceToWmult.v[0] == 48388 && kNiceToWmult.v[20] == 4194304 &&
              kNiceToWmult.v[39] == 286331153);

constexpr u32 nice_to_weight(int nice) { return kNiceToWeight[clamp(nice, -20, 19) + 20]; }

// delta * NICE_0_LOAD / weight, computed as delta * (1024 * inv) >> 32 in 128
// bits, so it neither overflows nor loses precision for any u64 delta (the
// result saturates at 2^64 - 1, ~584 years). This is exactly Linux's result.
constexpr u64 calc_delta_fair(u64 delta, u64 weight, u32 inv_weight) {
    if (weight == NICE_0_LOAD) return delta;
    u128 scaled = (u128(delta) * (NICE_0_LOAD * inv_weight)) >> 32;
    return scaled > ~u64(0) ? ~u64(0) : static_cast<u64>(scaled);
}
constexpr u64 calc_delta_fair(u64 delta, u64 weight) {
    return calc_delta_fair(delta, weight, inverse_weight(weight));
}

// sysctl_sched_base_slice with the default logarithmic CPU scaling:
// 0.70 ms * (1 + ilog2(min(ncpus, 8))), i.e. 2.8 ms from 8 CPUs up.
constexpr u64 base_slice_for_cpus(unsigned ncpus) {
    return BASE_SLICE_UNIT_NS * (1 + ilog2(clamp(ncpus, 1u, 8u)));
}

// sched_setattr(sched_runtime) for fair tasks; 0 means "use the base slice".
constexpr u64 clamp_custom_slice(u64 ns) {
    return ns == 0 ? 0 : clamp(ns, MIN_CUSTOM_SLICE_NS, MAX_CUSTOM_SLICE_NS);
}

enum class SchedPolicy : u8 { Normal, Batch, Idle };

struct SchedEntity {
    u64 weight = NICE_0_LOAD;
    u32 inv_weight = inverse_weight(NICE_0_LOAD);
    SchedPolicy policy = SchedPolicy::Normal;

    bool on_rq = false;          // counted by a run queue (running, queued or delayed)
    bool sched_delayed = false;  // blocked, but left queued to pay off negative lag
    bool custom_slice = false;   // slice came from sched_setattr
    bool rel_deadline = false;   // deadline holds deadline - vruntime (off-queue)
    bool slice_protected = false;  // RUN_TO_PARITY: picked and still in its request

    u64 vruntime = 0;
    u64 deadline = 0;  // virtual
    i64 vlag = 0;      // V - vruntime, saved at dequeue; consumed at enqueue
    u64 slice = 0;     // request size in ns; set from the base slice on placement

    u64 sum_exec_runtime = 0;
    u64 prev_sum_exec_runtime = 0;  // sum_exec_runtime when last picked

    RbNode run_node;
    u64 min_vruntime = 0;  // of this entity's subtree, for the eligibility search

    // A group's entity: the group's own queue (kernel/sched/fair_group.h);
    // null for a task.
    void* group_q = nullptr;

    // Only for an entity on no run queue; use EevdfRunQueue::reweight else.
    void set_weight(u64 w) {
        KASSERT(!on_rq && w > 0);
        weight = w;
        inv_weight = inverse_weight(w);
    }
    void set_nice(int nice) { set_weight(nice_to_weight(nice)); }
};

struct EevdfConfig {
    u64 base_slice = base_slice_for_cpus(1);
    bool place_lag = true;      // PLACE_LAG
    bool run_to_parity = true;  // RUN_TO_PARITY
    bool preempt_short = true;  // PREEMPT_SHORT
    bool delay_dequeue = true;  // DELAY_DEQUEUE + DELAY_ZERO
};

enum class Enqueue : u8 {
    Wakeup,   // a waking task, or the wakeup of a delayed one
    Initial,  // a new task: starts with half a request (PLACE_DEADLINE_INITIAL)
    Restore,  // after Dequeue::Save: lag and relative deadline re-based
};

enum class Dequeue : u8 {
    Sleep,         // the task blocks; may be delayed
    SleepSpecial,  // blocks but must leave now (stopped, traced, frozen, dead)
    Save,          // not a sleep (migration, attribute change): keep the deadline relative
    Delayed,       // finish the dequeue of a delayed entity
};

struct EntityTreeTraits {
    static bool less(const SchedEntity& a, const SchedEntity& b) {
        return static_cast<i64>(a.deadline - b.deadline) < 0;
    }
    static bool recompute(SchedEntity& se);
};
using EntityTree = RbTree<SchedEntity, &SchedEntity::run_node, EntityTreeTraits>;

class EevdfRunQueue {
public:
    // Linux starts V just below the u64 wrap to flush out comparison bugs;
    // tests pass their own starting point.
    explicit EevdfRunQueue(const EevdfConfig& config = {}, u64 initial_vruntime = 0)
        : cfg_(config), zero_vruntime_(initial_vruntime) {}
    EevdfRunQueue(const EevdfRunQueue&) = delete;
    EevdfRunQueue& operator=(const EevdfRunQueue&) = delete;

    void enqueue(SchedEntity& se, Enqueue how);
    // Returns false if the sleep was delayed: se stays on_rq, sched_delayed.
    bool dequeue(SchedEntity& se, Dequeue how);

    bool update_curr(u64 delta_exec);
    SchedEntity* pick_next();
    void set_next(SchedEntity& se);
    void put_prev();
    bool wakeup_preempt(SchedEntity& woken);
    void yield();
    // Run time after which curr reaches its deadline: when to arm the slice
    // timer on a tickless CPU. 0 if nothing runs.
    u64 runtime_until_deadline() const;

    void reweight(SchedEntity& se, u64 weight);
    void set_slice(SchedEntity& se, u64 slice_ns);

    void detach(SchedEntity& se);
    void attach(SchedEntity& se);

    SchedEntity* curr() const { return curr_; }
    SchedEntity* first() const { return tree_.first(); }
    // Linux's pick_eevdf(): no side effects.
    SchedEntity* pick_eevdf() const;
    bool eligible(const SchedEntity& se) const { return vruntime_eligible(se.vruntime, load()); }
    u64 avg_vruntime() const { return average(load()); }
    i64 lag(const SchedEntity& se) const { return static_cast<i64>(avg_vruntime() - se.vruntime); }
    u32 nr_queued() const { return nr_queued_; }
    u32 nr_running() const { return nr_queued_ - nr_delayed_; }
    u32 nr_delayed() const { return nr_delayed_; }
    u64 total_weight() const { return load().weight; }
    u64 zero_vruntime() const { return zero_vruntime_; }
    u64 min_vruntime() const;
    bool check_invariants() const;

    const EevdfConfig& config() const { return cfg_; }
    EevdfConfig& config() { return cfg_; }

    template <typename F>
    void for_each_queued(F&& f) const {
        tree_.for_each(f);
    }

private:
    // Σ w_i (v_i - zero_vruntime) and Σ w_i over the queue including curr.
    struct Load {
        i128 sum;
        u64 weight;
    };

    i64 key(const SchedEntity& se) const { return static_cast<i64>(se.vruntime - zero_vruntime_); }
    Load load(const SchedEntity* exclude = nullptr) const;
    u64 average(const Load& l) const;
    bool vruntime_eligible(u64 vruntime, const Load& l) const;

    void tree_insert(SchedEntity& se);
    void tree_erase(SchedEntity& se);
    void rebase_zero();
    void place_entity(SchedEntity& se, bool initial);
    u64 update_entity_lag(SchedEntity& se);  // returns V
    bool update_deadline(SchedEntity& se);
    void requeue_delayed(SchedEntity& se);
    bool do_preempt_short(const SchedEntity& woken, const SchedEntity& curr) const;

    EevdfConfig cfg_;
    EntityTree tree_;
    SchedEntity* curr_ = nullptr;  // running, on_rq, and not in tree_
    u64 zero_vruntime_;
    i128 tree_sum_ = 0;  // Σ w_i (v_i - zero_vruntime) over tree_ only
    u64 tree_weight_ = 0;
    u32 nr_queued_ = 0;  // tree_ + curr, delayed included
    u32 nr_delayed_ = 0;
};

// Reweight of an entity on no run queue: its saved lag and, if relative,
// its deadline are kept in real terms.
void reweight_detached(SchedEntity& se, u64 weight);

}  // namespace keel::sched
