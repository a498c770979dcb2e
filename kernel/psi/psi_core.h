// The portable heart of pressure stall information (PSI), compiled into the
// kernel and for the host tests: per-CPU task counts and state times, the
// multi-CPU aggregation into totals, the 2 s running averages, the text of
// a pressure file, and trigger parsing and growth tracking.
//
// Nothing here locks or allocates. A CpuState is written only by its CPU's
// scheduler (run-queue lock held), under a sequence count that lets other
// CPUs take consistent snapshots; everything else in a GroupCore belongs to
// whoever aggregates the group (kernel/psi/psi.cpp: one lock for all groups).
// Times are nanoseconds of one clock shared by all CPUs.
#pragma once

#include "fs/proc/seq.h"
#include "kernel/time.h"
#include "lib/intrusive_list.h"
#include "lib/result.h"

namespace keel::psi {

// What a task is counted as (Thread::psi_flags).
enum : u8 { TSK_IOWAIT = 1, TSK_MEMSTALL = 2, TSK_RUNNING = 4, TSK_ONCPU = 8, TSK_MEMSTALL_RUNNING = 16 };
// The task counts kept per CPU (TSK_ONCPU is a flag of the CPU instead).
enum : u8 { NR_IOWAIT, NR_MEMSTALL, NR_RUNNING, NR_MEMSTALL_RUNNING, NR_COUNTS };

enum Resource : u8 { RES_IO, RES_MEM, RES_CPU, NR_RES };
// Linux's order: a resource's SOME is 2*res, its FULL 2*res + 1.
enum : u8 { IO_SOME, IO_FULL, MEM_SOME, MEM_FULL, CPU_SOME, CPU_FULL, NONIDLE, NR_STATES };
constexpr u32 STATE_ONCPU = 1u << 8;  // in CpuState::state_mask: a counted task is on the CPU

// Triggers of privileged openers are evaluated on their own schedule
// (POLL), the others with the averages (AVGS); each keeps its own view.
enum Aggregator : u8 { AGG_AVGS, AGG_POLL, NR_AGG };

// Linux's clock granularity (HZ=250 on Debian's kernels) shows in PSI: the
// averaging period is 2 s plus one tick, and per-CPU weights are whole ticks.
constexpr u64 NSEC_PER_TICK = time::JIFFY_NS;
constexpr u64 PERIOD_NS = 501 * NSEC_PER_TICK;
constexpr u32 FSHIFT = 11;
constexpr u64 FIXED_1 = 1u << FSHIFT;
constexpr u64 EXP_10S = 1677;   // 2048 / e^(2/10)
constexpr u64 EXP_60S = 1981;   // 2048 / e^(2/60)
constexpr u64 EXP_300S = 2034;  // 2048 / e^(2/300)
constexpr u64 WINDOW_MAX_US = 10'000'000;
constexpr u64 UPDATES_PER_WINDOW = 10;
constexpr u64 UNPRIVILEGED_WINDOW_US = 2'000'000;  // multiples only

struct CpuState {
    u32 seq = 0;  // odd while the writer is inside
    u32 tasks[NR_COUNTS] = {};
    u32 state_mask = 0;  // bits by state index, plus STATE_ONCPU
    u64 state_start = 0;
    u64 times[NR_STATES] = {};
    // What each aggregator had seen of `times` (aggregator's lock).
    u64 times_prev[NR_AGG][NR_STATES] = {};
};

// The states a CPU is in, given its task counts and whether a counted task
// is on it (Linux's definitions of SOME and FULL per resource).
[[gnu::always_inline]] inline u32 test_states(const u32 tasks[NR_COUNTS], bool oncpu) {
    u32 m = oncpu ? STATE_ONCPU : 0;
    u32 running = tasks[NR_RUNNING];
    if (tasks[NR_IOWAIT]) m |= running ? 1u << IO_SOME : (1u << IO_SOME) | (1u << IO_FULL);
    if (tasks[NR_MEMSTALL]) {
        m |= 1u << MEM_SOME;
        // Full: nothing runs but tasks that are themselves reclaiming.
        if (running == tasks[NR_MEMSTALL_RUNNING]) m |= 1u << MEM_FULL;
    }
    if (running > (oncpu ? 1u : 0u)) m |= 1u << CPU_SOME;
    if (running && !oncpu) m |= 1u << CPU_FULL;
    if (tasks[NR_IOWAIT] | tasks[NR_MEMSTALL] | running) m |= 1u << NONIDLE;
    return m;
}

// Applies a task's state change on one CPU at `now`: closes the time spent
// in the previous states, then moves the counts. curr_in_memstall: the task
// on the CPU is itself stalled on memory (reclaiming), which makes memory
// FULL there. Returns the new state mask; *underflow (if given) is set when
// a count would have gone below zero (a caller's bug: it stays 0).
// !enabled (cgroup.pressure 0): only the counts move; the time so far is
// closed and no state is held until a change while enabled.
// Inline with its helpers below: it runs for every wake-up and switch.
[[gnu::always_inline]] inline u32 cpu_change(CpuState& c, u8 clear, u8 set, u64 now, bool curr_in_memstall, bool* underflow = nullptr,
                      bool enabled = true);

// A parsed "some|full <threshold_us> <window_us>".
struct TriggerSpec {
    u8 state;
    u64 threshold_ns;
    u64 window_ns;
};
// Parses a trigger as Linux's sscanf does (literal "some"/"full", spaces
// optional between fields, decimal digits only, trailing text ignored) and
// validates it: EINVAL for a bad string, a window of 0 or above 10 s, a
// threshold of 0 or above the window, or (without CAP_SYS_RESOURCE) a
// window that is not a multiple of 2 s. `text` is NUL-terminated.
Result<TriggerSpec> parse_trigger(const char* text, Resource res, bool privileged);

struct Trigger {
    ListNode node;  // in its group's list for its aggregator
    u8 state = 0;
    Aggregator agg = AGG_AVGS;
    u64 threshold = 0;  // ns
    u64 win_size = 0;   // ns
    // The growth window: where it started, and the growth of the last
    // complete one (to interpolate a sliding window).
    u64 win_start_time = 0;
    u64 win_start_value = 0;
    u64 win_prev_growth = 0;
    u64 last_event_time = 0;
    bool pending_event = false;  // breached while events were rate-limited
    u32 event = 0;               // 1: an event poll() has not reported yet (atomic)
    // Called (aggregator's lock held) when `event` goes 0 -> 1.
    void (*notify)(Trigger&) = nullptr;
    void* owner = nullptr;
};
using TriggerList = IntrusiveList<Trigger, &Trigger::node>;

// A group's aggregate: totals, averages and triggers over its CPU states.
struct GroupCore {
    CpuState* cpus = nullptr;
    u32 ncpus = 0;
    u64 total[NR_AGG][NR_STATES - 1] = {};  // ns, per aggregator
    // Averages.
    u64 avg_total[NR_STATES - 1] = {};
    u64 avg_last_update = 0;
    u64 avg_next_update = 0;
    u64 avg[NR_STATES - 1][3] = {};  // fixed point, 11 bits
    TriggerList avg_triggers;
    // Privileged triggers.
    TriggerList poll_triggers;
    u64 poll_total[NR_STATES - 1] = {};
    u64 poll_until = 0;
    u64 poll_next_update = ~0ull;
    u64 poll_min_period = ~0ull;
    u32 poll_states = 0;  // states some poll trigger watches
    u32 poll_nr[NR_STATES - 1] = {};

    void init(CpuState* cpu_states, u32 n, u64 now);
};

// Folds every CPU's state times since the aggregator's last look into the
// group's totals (per-CPU SOME/FULL weighted by that CPU's non-idle ticks).
// Returns the states whose time grew on some CPU (bit NONIDLE: some CPU was
// busy, so the averaging clock has to keep running).
u32 collect(GroupCore& g, Aggregator agg, u64 now);

// The running averages at `now` (>= avg_next_update): one sample for the
// periods since the last, idle periods folded in. Returns the next due time.
u64 update_averages(GroupCore& g, u64 now);
// Checks the triggers of one aggregator for growth past their threshold
// within their window; fires at most one event per window.
void update_triggers(GroupCore& g, u64 now, Aggregator agg);

// The periodic averaging work: collects, and at or after avg_next_update
// evaluates unprivileged triggers and updates the averages. Returns when it
// should run next, or 0 when the group went idle (the clock stops).
u64 avgs_work(GroupCore& g, u64 now);
// The privileged triggers' work at `now`. Returns when it should run next,
// or 0 when the monitored states stayed quiet for a whole window.
u64 poll_work(GroupCore& g, u64 now);

// Adds a trigger (its notify/owner already set) to the group; removes one.
void trigger_add(GroupCore& g, Trigger& t, const TriggerSpec& spec, bool privileged, u64 now);
void trigger_remove(GroupCore& g, Trigger& t);
// Whether the trigger fired since the last call (and forgets it).
bool trigger_take_event(Trigger& t);

// Linux's load-average arithmetic: one decay step of `load` towards
// `active` (fixed point), and the same over n steps.
u64 calc_load(u64 load, u64 exp, u64 active);
u64 fixed_power(u64 x, u32 frac_bits, u32 n);
u64 calc_load_n(u64 load, u64 exp, u64 active, u32 n);

// One resource's numbers as a pressure file shows them.
struct Snapshot {
    u64 avg[2][3];  // SOME, FULL: avg10, avg60, avg300 (fixed point)
    u64 total_us[2];
};
// `system`: the system-wide group, whose CPU FULL Linux leaves undefined
// and prints as zeros.
Snapshot snapshot(const GroupCore& g, Resource res, bool system);
// "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull ...\n".
void format(const Snapshot& s, fs::SeqBuf& out);

// ---- the per-CPU update (cpu_change) ----

namespace detail {

constexpr u32 SOME_BITS = (1u << IO_SOME) | (1u << MEM_SOME) | (1u << CPU_SOME);
constexpr u32 FULL_BITS = (1u << IO_FULL) | (1u << MEM_FULL) | (1u << CPU_FULL);

[[gnu::always_inline]] inline void seq_write_begin(CpuState& c) {
    __atomic_store_n(&c.seq, c.seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}
[[gnu::always_inline]] inline void seq_write_end(CpuState& c) { __atomic_store_n(&c.seq, c.seq + 1, __ATOMIC_RELEASE); }

// Adds the time since state_start to every state the CPU was in (a FULL
// state only with its SOME state), one step per state held.
[[gnu::always_inline]] inline void record_times(CpuState& c, u64 now) {
    u32 m = c.state_mask;
    m = (m & (SOME_BITS | (1u << NONIDLE))) | (m & (m << 1) & FULL_BITS);
    if (m) {
        u64 delta = now > c.state_start ? now - c.state_start : 0;
        for (; m; m &= m - 1) c.times[__builtin_ctz(m)] += delta;
    }
    c.state_start = now;
}

[[gnu::always_inline]] inline void move_count(u32& n, u8 clear, u8 set, u8 flag, bool* underflow) {
    if (clear & flag) {
        if (n) --n;
        else if (underflow) *underflow = true;
    }
    if (set & flag) ++n;
}

}  // namespace detail

[[gnu::always_inline]] inline u32 cpu_change(CpuState& c, u8 clear, u8 set, u64 now, bool curr_in_memstall, bool* underflow,
                                              bool enabled) {
    detail::seq_write_begin(c);
    bool oncpu = (clear & TSK_ONCPU) ? false : (set & TSK_ONCPU) ? true : (c.state_mask & STATE_ONCPU);
    detail::move_count(c.tasks[NR_RUNNING], clear, set, TSK_RUNNING, underflow);
    if ((clear | set) & (TSK_IOWAIT | TSK_MEMSTALL | TSK_MEMSTALL_RUNNING)) {
        detail::move_count(c.tasks[NR_IOWAIT], clear, set, TSK_IOWAIT, underflow);
        detail::move_count(c.tasks[NR_MEMSTALL], clear, set, TSK_MEMSTALL, underflow);
        detail::move_count(c.tasks[NR_MEMSTALL_RUNNING], clear, set, TSK_MEMSTALL_RUNNING, underflow);
    }
    if (!enabled) {
        // Close what was running so that a later re-enable starts clean.
        if (c.state_mask & (1u << NONIDLE)) detail::record_times(c, now);
        c.state_mask = oncpu ? STATE_ONCPU : 0;
        detail::seq_write_end(c);
        return c.state_mask;
    }
    u32 mask = test_states(c.tasks, oncpu);
    if (oncpu && curr_in_memstall) mask |= 1u << MEM_FULL;
    detail::record_times(c, now);
    c.state_mask = mask;
    detail::seq_write_end(c);
    return mask;
}

}  // namespace keel::psi
