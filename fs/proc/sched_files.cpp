// The scheduler's files in /proc: <pid>/sched, <pid>/schedstat,
// /proc/schedstat, /proc/loadavg and the sched_* sysctls, in Linux 6.12's
// formats.
#include "fs/proc/procfs_internal.h"
#include "kernel/percpu.h"
#include "kernel/process/proc_info.h"
#include "kernel/sched/scheduler.h"
#include "kernel/time.h"

namespace keel::fs::procfs {

namespace {

using ll = long long;
unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

// "name : value" with the name padded to 45 and the value right-aligned, as
// Linux's debug files print them; times as milliseconds with 6 decimals.
void put_num(SeqBuf& out, const char* name, ll v) { out.printf("%-45s:%21lld\n", name, v); }
void put_ms(SeqBuf& out, const char* name, u64 ns) {
    out.printf("%-45s:%14lld.%06lld\n", name, static_cast<ll>(ns / 1000000), static_cast<ll>(ns % 1000000));
}

// Linux's jiffies (HZ=250 in Debian's kernel) start 5 minutes before wrap.
u64 jiffies() { return 0x100000000ull - 300 * time::LINUX_HZ + time::monotonic_ns() / time::JIFFY_NS; }

}  // namespace

Result<i64> parse_int(DataBuffer& in, usize at, usize n) {
    char buf[24] = {};
    if (n >= sizeof(buf)) return Error(EINVAL);
    if (in.copy_in(at, buf, n) != n) return Error(EFAULT);
    usize i = 0;
    bool neg = buf[0] == '-';
    if (neg) ++i;
    if (buf[i] < '0' || buf[i] > '9') return Error(EINVAL);
    i64 v = 0;
    for (; buf[i] >= '0' && buf[i] <= '9'; ++i) {
        if (v > (i64(1) << 40)) return Error(EINVAL);
        v = v * 10 + (buf[i] - '0');
    }
    while (buf[i] == '\n' || buf[i] == ' ') ++i;
    if (buf[i]) return Error(EINVAL);
    return neg ? -v : v;
}

Status show_pid_sched(SeqBuf& out, const Target& t) {
    proc::TaskInfo i;
    TRY(proc::task_info(t.tgid, t.tid, i));
    const sched::ThreadSchedInfo& s = i.sched;
    out.printf("%s (%d, #threads: %d)\n", i.comm, t.tid ? t.tid : t.tgid, i.nthreads);
    out.puts("-------------------------------------------------------------------\n");
    put_ms(out, "se.exec_start", s.exec_start_ns);
    put_ms(out, "se.vruntime", s.vruntime);
    put_ms(out, "se.sum_exec_runtime", s.sum_exec_runtime);
    put_num(out, "se.nr_migrations", static_cast<ll>(s.nr_migrations));
    put_num(out, "nr_switches", static_cast<ll>(s.nr_switches));
    put_num(out, "nr_voluntary_switches", static_cast<ll>(s.nvcsw));
    put_num(out, "nr_involuntary_switches", static_cast<ll>(s.nivcsw));
    // Linux's load weights carry 10 more bits of resolution on 64-bit.
    put_num(out, "se.load.weight", static_cast<ll>(s.weight << 10));
    // Keel keeps no per-entity load tracking (PELT): these stay zero.
    for (const char* name : {"se.avg.load_sum", "se.avg.runnable_sum", "se.avg.util_sum", "se.avg.load_avg",
                             "se.avg.runnable_avg", "se.avg.util_avg", "se.avg.last_update_time", "se.avg.util_est"})
        put_num(out, name, 0);
    put_num(out, "policy", s.policy);
    put_num(out, "prio", s.prio);
    put_num(out, "se.slice", static_cast<ll>(s.slice_ns));
    put_num(out, "clock-delta", 0);
    // No NUMA: one node, nothing migrated.
    put_num(out, "mm->numa_scan_seq", 0);
    put_num(out, "numa_pages_migrated", 0);
    put_num(out, "numa_preferred_nid", -1);
    put_num(out, "total_numa_faults", 0);
    out.puts("current_node=0, numa_group_id=0\n");
    out.puts("numa_faults node=0 task_private=0 task_shared=0 group_private=0 group_shared=0\n");
    return out.status();
}

Status show_pid_schedstat(SeqBuf& out, const Target& t) {
    proc::TaskInfo i;
    TRY(proc::task_info(t.tgid, t.tid, i));
    out.printf("%llu %llu %llu\n", ull(i.sched.sum_exec_runtime), ull(i.sched.run_delay_ns), ull(i.sched.pcount));
    return out.status();
}

// Version 16: a line per CPU, then its scheduling domains. Keel balances
// across all CPUs as one domain and counts none of the balancing events.
Status show_schedstat(SeqBuf& out, const Target&) {
    out.printf("version 16\ntimestamp %llu\n", ull(jiffies()));
    u32 n = sched::online_cpus();
    for (u32 c = 0; c < n; ++c) {
        u64 v[9];
        sched::cpu_schedstat(c, v);
        out.printf("cpu%u", c);
        for (u64 x : v) out.printf(" %llu", ull(x));
        out.putc('\n');
        if (n > 1) {
            out.printf("domain0 %llx", ull(sched::online_mask()));
            for (int k = 0; k < 36; ++k) out.puts(" 0");
            out.putc('\n');
        }
    }
    return out.status();
}

Status show_loadavg(SeqBuf& out, const Target&) {
    u64 avg[3];
    sched::load_averages(avg);
    for (u64 a : avg) {
        u64 x = a + 2048 / 200;  // round to the printed hundredth
        out.printf("%llu.%02llu ", ull(x >> 11), ull(((x & 2047) * 100) >> 11));
    }
    proc::ProcCounts c = proc::count_processes();
    out.printf("%u/%u %d\n", c.running, c.threads, proc::last_pid_allocated());
    return out.status();
}

Status show_sched_rt_period(SeqBuf& out, const Target&) {
    sched::RtLimits l = sched::rt_limits();
    out.printf("%lld\n", static_cast<ll>(l.period_us));
    return out.status();
}

Status show_sched_rt_runtime(SeqBuf& out, const Target&) {
    sched::RtLimits l = sched::rt_limits();
    out.printf("%lld\n", static_cast<ll>(l.runtime_us));
    return out.status();
}

Result<usize> store_sched_rt_period(const Target&, u64, DataBuffer& in, usize at, usize n) {
    sched::RtLimits l = sched::rt_limits();
    l.period_us = TRY(parse_int(in, at, n));
    TRY(sched::set_rt_limits(l));
    return n;
}

Result<usize> store_sched_rt_runtime(const Target&, u64, DataBuffer& in, usize at, usize n) {
    sched::RtLimits l = sched::rt_limits();
    l.runtime_us = TRY(parse_int(in, at, n));
    TRY(sched::set_rt_limits(l));
    return n;
}

Status show_sched_rr_timeslice(SeqBuf& out, const Target&) {
    out.printf("%llu\n", ull(sched::RR_TIMESLICE_NS / 1000000));
    return out.status();
}

// Fixed values, as Debian's kernel shows them.
Status show_sched_autogroup(SeqBuf& out, const Target&) {
    out.puts("1\n");
    return {};
}
Status show_sched_cfs_bandwidth_slice(SeqBuf& out, const Target&) {
    out.puts("5000\n");
    return {};
}
Status show_sched_deadline_period_max(SeqBuf& out, const Target&) {
    out.puts("4194304\n");
    return {};
}
Status show_sched_deadline_period_min(SeqBuf& out, const Target&) {
    out.puts("100\n");
    return {};
}
Status show_empty(SeqBuf&, const Target&) { return {}; }  // sched_energy_aware without EAS

}  // namespace keel::fs::procfs
