#include "kernel/psi/psi_core.h"

namespace keel::psi {

namespace {

constexpr u32 bit(u32 s) { return 1u << s; }

struct CpuSample {
    u64 times[NR_STATES];
    u32 state_mask;
    u64 state_start;
};

CpuSample read_cpu(const CpuState& c) {
    CpuSample s;
    for (;;) {
        u32 seq = __atomic_load_n(&c.seq, __ATOMIC_ACQUIRE);
        if (seq & 1) continue;
        for (u32 i = 0; i < NR_STATES; ++i) s.times[i] = c.times[i];
        s.state_mask = c.state_mask;
        s.state_start = c.state_start;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&c.seq, __ATOMIC_RELAXED) == seq) return s;
    }
}

void window_reset(Trigger& t, u64 now, u64 value, u64 prev_growth) {
    t.win_start_time = now;
    t.win_start_value = value;
    t.win_prev_growth = prev_growth;
}

// Growth over the last window, the part before this window's start
// interpolated from the previous window's growth (stall only grows, and
// nearly linearly over a window). The narrow `remaining` and the 64-bit
// product are Linux's arithmetic, kept so that long windows behave alike.
u64 window_update(Trigger& t, u64 now, u64 value) {
    u64 elapsed = now - t.win_start_time;
    u64 growth = value - t.win_start_value;
    if (elapsed > t.win_size) {
        window_reset(t, now, value, growth);
    } else {
        u32 remaining = static_cast<u32>(t.win_size - elapsed);
        growth += (t.win_prev_growth * remaining) / t.win_size;
    }
    return growth;
}

// The next run of a work item due at `due`, on the tick grid Linux's
// delayed work uses (whole ticks, plus one).
u64 tick_after(u64 now, u64 due) {
    u64 ticks = due > now ? (due - now) / NSEC_PER_TICK : 0;
    return now + (ticks + 1) * NSEC_PER_TICK;
}

// Linux's sscanf for "%u": optional leading spaces, then decimal digits
// (no sign); the value wraps as Linux's does.
bool scan_u32(const char*& p, u32& out) {
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
    if (*p < '0' || *p > '9') return false;
    u64 v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + static_cast<u64>(*p++ - '0');
    out = static_cast<u32>(v);
    return true;
}

bool scan_trigger(const char* p, const char* word, u32& threshold, u32& window) {
    for (; *word; ++word, ++p)
        if (*p != *word) return false;
    // A space in the format matches any run of white space, even none.
    return scan_u32(p, threshold) && scan_u32(p, window);
}

}  // namespace

Result<TriggerSpec> parse_trigger(const char* text, Resource res, bool privileged) {
    u32 threshold_us = 0, window_us = 0;
    TriggerSpec spec{};
    if (scan_trigger(text, "some", threshold_us, window_us)) spec.state = static_cast<u8>(2 * res);
    else if (scan_trigger(text, "full", threshold_us, window_us)) spec.state = static_cast<u8>(2 * res + 1);
    else return Error(EINVAL);
    if (window_us == 0 || window_us > WINDOW_MAX_US) return Error(EINVAL);
    // Unprivileged triggers ride on the 2 s averaging work.
    if (!privileged && window_us % UNPRIVILEGED_WINDOW_US) return Error(EINVAL);
    if (threshold_us == 0 || threshold_us > window_us) return Error(EINVAL);
    spec.threshold_ns = static_cast<u64>(threshold_us) * 1000;
    spec.window_ns = static_cast<u64>(window_us) * 1000;
    return spec;
}

void GroupCore::init(CpuState* cpu_states, u32 n, u64 now) {
    cpus = cpu_states;
    ncpus = n;
    avg_last_update = now;
    avg_next_update = now + PERIOD_NS;
}

u32 collect(GroupCore& g, Aggregator agg, u64 now) {
    u64 deltas[NR_STATES - 1] = {};
    u64 nonidle_total = 0;
    u32 changed = 0;
    for (u32 cpu = 0; cpu < g.ncpus; ++cpu) {
        CpuState& c = g.cpus[cpu];
        CpuSample s = read_cpu(c);
        u64 delta[NR_STATES];
        for (u32 st = 0; st < NR_STATES; ++st) {
            u64 t = s.times[st];
            // States still in progress count up to now.
            if ((s.state_mask & bit(st)) && now > s.state_start) t += now - s.state_start;
            u64& prev = c.times_prev[agg][st];
            delta[st] = t > prev ? t - prev : 0;
            if (t > prev) prev = t;
            if (delta[st]) changed |= bit(st);
        }
        // Each CPU's stall counts in proportion to how busy it was, in
        // whole ticks as Linux weighs it.
        u64 nonidle = delta[NONIDLE] / NSEC_PER_TICK;
        nonidle_total += nonidle;
        for (u32 st = 0; st < NONIDLE; ++st) deltas[st] += delta[st] * nonidle;
    }
    for (u32 st = 0; st < NONIDLE; ++st) g.total[agg][st] += deltas[st] / (nonidle_total ? nonidle_total : 1);
    return changed;
}

u64 calc_load(u64 load, u64 exp, u64 active) {
    u64 n = load * exp + active * (FIXED_1 - exp);
    if (active >= load) n += FIXED_1 - 1;
    return n / FIXED_1;
}

u64 fixed_power(u64 x, u32 frac_bits, u32 n) {
    u64 result = 1ull << frac_bits;
    const u64 half = 1ull << (frac_bits - 1);
    while (n) {
        if (n & 1) result = (result * x + half) >> frac_bits;
        n >>= 1;
        if (n) x = (x * x + half) >> frac_bits;
    }
    return result;
}

u64 calc_load_n(u64 load, u64 exp, u64 active, u32 n) { return calc_load(load, fixed_power(exp, FSHIFT, n), active); }

u64 update_averages(GroupCore& g, u64 now) {
    static constexpr u64 exps[3] = {EXP_10S, EXP_60S, EXP_300S};
    u64 expires = g.avg_next_update;
    u64 missed = now - expires >= PERIOD_NS ? (now - expires) / PERIOD_NS : 0;
    // The schedule stays on the period grid; the sample covers the time
    // that really passed since the last one.
    u64 next = expires + (1 + missed) * PERIOD_NS;
    u64 period = now - (g.avg_last_update + missed * PERIOD_NS);
    g.avg_last_update = now;
    for (u32 st = 0; st < NONIDLE; ++st) {
        // Linux keeps the sample in 32 bits and caps it at the period
        // (the overage shows in the next one).
        u32 sample = static_cast<u32>(g.total[AGG_AVGS][st] - g.avg_total[st]);
        if (sample > period) sample = static_cast<u32>(period);
        g.avg_total[st] += sample;
        u64 pct = period ? static_cast<u64>(sample) * 100 / period : 0;
        pct *= FIXED_1;
        for (u32 w = 0; w < 3; ++w) {
            if (missed) g.avg[st][w] = calc_load_n(g.avg[st][w], exps[w], 0, static_cast<u32>(missed));
            g.avg[st][w] = calc_load(g.avg[st][w], exps[w], pct);
        }
    }
    return next;
}

void update_triggers(GroupCore& g, u64 now, Aggregator agg) {
    TriggerList& list = agg == AGG_AVGS ? g.avg_triggers : g.poll_triggers;
    const u64* seen = agg == AGG_AVGS ? g.avg_total : g.poll_total;
    const u64* total = g.total[agg];
    list.for_each([&](Trigger& t) {
        bool new_stall = seen[t.state] != total[t.state];
        if (!new_stall && !t.pending_event) return;
        if (new_stall) {
            u64 growth = window_update(t, now, total[t.state]);
            if (!t.pending_event) {
                if (growth < t.threshold) return;
                t.pending_event = true;
            }
        }
        // At most one event per window; a breach meanwhile waits for it.
        if (now < t.last_event_time + t.win_size) return;
        u32 expected = 0;
        if (__atomic_compare_exchange_n(&t.event, &expected, 1u, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED) && t.notify)
            t.notify(t);
        t.last_event_time = now;
        t.pending_event = false;
    });
}

u64 avgs_work(GroupCore& g, u64 now) {
    u32 changed = collect(g, AGG_AVGS, now);
    if (now >= g.avg_next_update) {
        update_triggers(g, now, AGG_AVGS);
        g.avg_next_update = update_averages(g, now);
    }
    // An idle group stops the clock; the next activity restarts it and the
    // missed periods are folded in then.
    if (!(changed & bit(NONIDLE))) return 0;
    return tick_after(now, g.avg_next_update);
}

u64 poll_work(GroupCore& g, u64 now) {
    u32 changed = collect(g, AGG_POLL, now);
    if (changed & g.poll_states) {
        if (now > g.poll_until) {
            // Entering monitoring: windows start afresh.
            g.poll_triggers.for_each([&](Trigger& t) { window_reset(t, now, g.total[AGG_POLL][t.state], 0); });
            for (u32 st = 0; st < NONIDLE; ++st) g.poll_total[st] = g.total[AGG_POLL][st];
            g.poll_next_update = now + g.poll_min_period;
        }
        // Stay active a whole window after the last change, so that a
        // bouncing signal does not start and stop the monitor.
        g.poll_until = now + g.poll_min_period * UPDATES_PER_WINDOW;
    }
    if (now > g.poll_until) {
        g.poll_next_update = ~0ull;
        return 0;
    }
    if (now >= g.poll_next_update) {
        if (changed & g.poll_states) {
            update_triggers(g, now, AGG_POLL);
            for (u32 st = 0; st < NONIDLE; ++st) g.poll_total[st] = g.total[AGG_POLL][st];
        }
        g.poll_next_update = now + g.poll_min_period;
    }
    return tick_after(now, g.poll_next_update);
}

void trigger_add(GroupCore& g, Trigger& t, const TriggerSpec& spec, bool privileged, u64 now) {
    t.state = spec.state;
    t.threshold = spec.threshold_ns;
    t.win_size = spec.window_ns;
    window_reset(t, now, g.total[AGG_POLL][t.state], 0);
    t.event = 0;
    t.last_event_time = 0;
    t.pending_event = false;
    t.agg = privileged ? AGG_POLL : AGG_AVGS;
    if (!privileged) {
        g.avg_triggers.push_back(t);
        return;
    }
    g.poll_triggers.push_back(t);
    u64 period = t.win_size / UPDATES_PER_WINDOW;
    if (period < g.poll_min_period) g.poll_min_period = period;
    ++g.poll_nr[t.state];
    g.poll_states |= bit(t.state);
}

void trigger_remove(GroupCore& g, Trigger& t) {
    if (t.agg == AGG_AVGS) {
        g.avg_triggers.remove(t);
        return;
    }
    g.poll_triggers.remove(t);
    if (--g.poll_nr[t.state] == 0) g.poll_states &= ~bit(t.state);
    g.poll_min_period = ~0ull;
    g.poll_triggers.for_each([&](Trigger& o) {
        u64 period = o.win_size / UPDATES_PER_WINDOW;
        if (period < g.poll_min_period) g.poll_min_period = period;
    });
    if (g.poll_triggers.empty()) {
        g.poll_until = 0;
        g.poll_next_update = ~0ull;
    }
}

bool trigger_take_event(Trigger& t) {
    u32 expected = 1;
    return __atomic_compare_exchange_n(&t.event, &expected, 0u, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

Snapshot snapshot(const GroupCore& g, Resource res, bool system) {
    Snapshot s{};
    for (u32 full = 0; full < 2; ++full) {
        if (system && res == RES_CPU && full) continue;
        u32 st = 2 * res + full;
        for (u32 w = 0; w < 3; ++w) s.avg[full][w] = g.avg[st][w];
        s.total_us[full] = g.total[AGG_AVGS][st] / 1000;
    }
    return s;
}

void format(const Snapshot& s, fs::SeqBuf& out) {
    auto whole = [](u64 x) { return static_cast<unsigned long long>(x >> FSHIFT); };
    auto frac = [](u64 x) { return static_cast<unsigned long long>(((x & (FIXED_1 - 1)) * 100) >> FSHIFT); };
    for (u32 full = 0; full < 2; ++full) {
        const u64* a = s.avg[full];
        out.printf("%s avg10=%llu.%02llu avg60=%llu.%02llu avg300=%llu.%02llu total=%llu\n", full ? "full" : "some",
                   whole(a[0]), frac(a[0]), whole(a[1]), frac(a[1]), whole(a[2]), frac(a[2]),
                   static_cast<unsigned long long>(s.total_us[full]));
    }
}

}  // namespace keel::psi
