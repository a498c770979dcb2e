// The real-time classes' run queue and their CPU-time limit (portable: the
// host tests drive both).
//
// SCHED_FIFO and SCHED_RR threads have a fixed priority 1..99 (99 runs
// first) and always run before every fair thread. Each priority has a FIFO
// list; a running RT thread stays in its list (at the head), so a thread
// preempted by a higher priority resumes first among its peers, as POSIX
// requires. A bitmap finds the highest non-empty list in two instructions.
#pragma once

#include "lib/intrusive_list.h"
#include "lib/types.h"

namespace keel::sched {

constexpr u32 RT_PRIO_LEVELS = 100;  // 1..99 in use; 0 is the fair classes
constexpr u64 RR_TIMESLICE_NS = 100000000;  // sched_rr_timeslice_ms = 100

template <typename T, ListNode T::*Link>
class RtPrioQueue {
public:
    bool empty() const { return nr_ == 0; }
    u32 size() const { return nr_; }
    usize count_at(u32 prio) const { return lists_[prio].size(); }

    void push_back(T& t, u32 prio) {
        lists_[prio].push_back(t);
        mark(prio);
    }
    void push_front(T& t, u32 prio) {
        lists_[prio].push_front(t);
        mark(prio);
    }
    void remove(T& t, u32 prio) {
        lists_[prio].remove(t);
        --nr_;
        if (lists_[prio].empty()) bits_[prio / 64] &= ~(u64(1) << (prio % 64));
    }
    // Moves t behind its peers (sched_yield, an RR slice used up).
    void requeue_tail(T& t, u32 prio) {
        lists_[prio].remove(t);
        lists_[prio].push_back(t);
    }

    // The highest priority with a queued thread; 0 when empty.
    u32 top_prio() const {
        if (bits_[1]) return 64 + 63 - static_cast<u32>(__builtin_clzll(bits_[1]));
        if (bits_[0]) return 63 - static_cast<u32>(__builtin_clzll(bits_[0]));
        return 0;
    }
    T* top() { return empty() ? nullptr : lists_[top_prio()].front(); }

    template <typename F>
    void for_each(F&& f) {
        for (u32 p = 1; p < RT_PRIO_LEVELS; ++p) lists_[p].for_each(f);
    }

private:
    void mark(u32 prio) {
        ++nr_;
        bits_[prio / 64] |= u64(1) << (prio % 64);
    }

    IntrusiveList<T, Link> lists_[RT_PRIO_LEVELS];
    u64 bits_[2] = {0, 0};
    u32 nr_ = 0;
};

// RT throttling: real-time threads may use `runtime` of every `period` of a
// CPU's time (/proc/sys/kernel/sched_rt_runtime_us 950000 of
// sched_rt_period_us 1000000), so a runaway FIFO loop cannot starve the
// fair threads for good. Periods are aligned to multiples of `period` since
// boot. Unlike Linux, Keel throttles only while fair threads are waiting: a
// CPU with nothing else to do keeps running its RT threads rather than idle.
struct RtBandwidth {
    u64 period_ns = 1000000000;
    u64 runtime_ns = 950000000;  // ~0: no limit (sched_rt_runtime_us = -1)
    u64 period_start = 0;
    u64 used = 0;

    void roll(u64 now) {
        if (now - period_start < period_ns) return;
        period_start = now - (now % period_ns);
        used = 0;
    }
    // Charges RT run time up to now. Time that ran before the current
    // period began belongs to the old one and is dropped with it.
    void charge(u64 delta, u64 now) {
        if (now - period_start >= period_ns) {
            roll(now);
            delta = min(delta, now - period_start);
        }
        used += delta;
    }
    bool exhausted(u64 now) {
        roll(now);
        return runtime_ns != ~u64(0) && used >= runtime_ns;
    }
    // RT run time left in this period (~0 if unlimited).
    u64 left(u64 now) {
        roll(now);
        if (runtime_ns == ~u64(0)) return ~u64(0);
        return used >= runtime_ns ? 0 : runtime_ns - used;
    }
    u64 period_end() const { return period_start + period_ns; }
    // Run time until the RT threads must yield to waiting fair ones, or
    // until the period ends (the budget is renewed then): when to look again.
    u64 next_check(u64 now) {
        u64 l = left(now);
        u64 to_end = period_end() > now ? period_end() - now : 0;
        return min(l, to_end);
    }
};

}  // namespace keel::sched
