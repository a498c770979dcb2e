// The controllers' files: cpuset, pids and memory (enforced, the latter by
// memcg.cpp), cpu and io (settings stored in Linux's formats; cpu.max is
// enforced by the scheduler).
#include "kernel/cgroup/files.h"
#include "kernel/cgroup/memcg.h"
#include "kernel/cgroup/parse.h"
#include "kernel/sched/scheduler.h"

namespace keel::cgroup {

namespace {

// Linux's weight of each nice level, -20..19 (sched_prio_to_weight).
constexpr u64 NICE_WEIGHT[40] = {
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
    9548,  7620,  6100,  4904,  3906,  3121,  2501,  1991,  1586,  1277,
    1024,  820,   655,   526,   423,   335,   272,   215,   172,   137,
    110,   87,    70,    56,    45,    36,    29,    23,    18,    15,
};

constexpr u64 MAX_CFS_QUOTA_US = (1ull << 44) - 1;  // Linux's max_cfs_runtime, in µs

void put_u64(fs::SeqBuf& out, u64 v) { out.printf("%llu\n", static_cast<unsigned long long>(v)); }
void put_max(fs::SeqBuf& out, u64 v) {
    if (v == UNLIMITED) out.puts("max\n");
    else put_u64(out, v);
}

// ---- cpu --------------------------------------------------------------------

u64 div_round(u64 a, u64 b) { return (a + b / 2) / b; }

Status show_cpu_weight(fs::SeqBuf& out, Cgroup& c) {
    u64 w = div_round(c.cpu.shares * 100, 1024);
    put_u64(out, w < 1 ? 1 : w > 10000 ? 10000 : w);
    return {};
}

Status store_cpu_weight(Cgroup& c, StringView text) {
    u64 w = TRY(parse_u64(strip(text)));
    if (w < 1 || w > 10000) return Error(ERANGE);
    c.cpu.shares = div_round(w * 1024, 100);
    return {};
}

Status show_cpu_weight_nice(fs::SeqBuf& out, Cgroup& c) {
    // The nice level whose weight is closest, scanning from nice -20.
    u64 w = c.cpu.shares;
    auto dist = [&](int i) { return NICE_WEIGHT[i] > w ? NICE_WEIGHT[i] - w : w - NICE_WEIGHT[i]; };
    int best = 0;
    for (int i = 1; i < 40 && dist(i) < dist(best); ++i) best = i;
    out.printf("%d\n", best - 20);
    return {};
}

Status store_cpu_weight_nice(Cgroup& c, StringView text) {
    i64 nice = TRY(parse_i64(strip(text)));
    if (nice < -20 || nice > 19) return Error(ERANGE);
    c.cpu.shares = NICE_WEIGHT[nice + 20];
    return {};
}

Status show_cpu_max(fs::SeqBuf& out, Cgroup& c) {
    if (c.cpu.quota_us == UNLIMITED) out.printf("max %llu\n", static_cast<unsigned long long>(c.cpu.period_us));
    else out.printf("%llu %llu\n", static_cast<unsigned long long>(c.cpu.quota_us),
                    static_cast<unsigned long long>(c.cpu.period_us));
    return {};
}

// Linux's tg_set_cfs_bandwidth checks: period 1 ms .. 1 s, a finite quota
// of at least 1 ms and at most max_cfs_runtime, and a burst within it.
Status check_bandwidth(u64 quota, u64 period, u64 burst) {
    if (period < 1000 || period > 1000000) return Error(EINVAL);
    if (quota != UNLIMITED && (quota < 1000 || quota > MAX_CFS_QUOTA_US)) return Error(EINVAL);
    if (quota != UNLIMITED && (burst > quota || burst + quota > MAX_CFS_QUOTA_US)) return Error(EINVAL);
    return {};
}

Status store_cpu_max(Cgroup& c, StringView text) {
    CpuMax m = TRY(parse_cpu_max(text, c.cpu.period_us));
    TRY(check_bandwidth(m.quota_us, m.period_us, c.cpu.burst_us));
    c.cpu.quota_us = m.quota_us;
    c.cpu.period_us = m.period_us;
    if (m.quota_us != UNLIMITED) sched::bandwidth::quota_changed();
    return {};
}

Status show_cpu_burst(fs::SeqBuf& out, Cgroup& c) {
    put_u64(out, c.cpu.burst_us);
    return {};
}

Status store_cpu_burst(Cgroup& c, StringView text) {
    u64 b = TRY(parse_u64(strip(text)));
    TRY(check_bandwidth(c.cpu.quota_us, c.cpu.period_us, b));
    if (b > MAX_CFS_QUOTA_US) return Error(EINVAL);
    c.cpu.burst_us = b;
    return {};
}

Status show_cpu_idle(fs::SeqBuf& out, Cgroup& c) {
    out.printf("%d\n", c.cpu.idle ? 1 : 0);
    return {};
}

Status store_cpu_idle(Cgroup& c, StringView text) {
    i64 v = TRY(parse_i64(strip(text)));
    if (v != 0 && v != 1) return Error(EINVAL);
    c.cpu.idle = v == 1;
    return {};
}

// ---- memory -----------------------------------------------------------------

constexpr u64 PAGE = 4096;

Result<u64> parse_mem(StringView text) {
    u64 v = TRY(parse_bytes_or_max(text));
    return v == UNLIMITED ? v : v / PAGE * PAGE;
}

#define MEM_FILE(field)                                                 \
    Status show_mem_##field(fs::SeqBuf& out, Cgroup& c) {               \
        put_max(out, c.mem.field);                                      \
        return {};                                                      \
    }                                                                   \
    Status store_mem_##field(Cgroup& c, StringView text) {              \
        c.mem.field = TRY(parse_mem(text));                             \
        return {};                                                      \
    }
MEM_FILE(min)
MEM_FILE(low)
MEM_FILE(swap_high)
MEM_FILE(swap_max)
#undef MEM_FILE

// memory.high and memory.max: enforced (kernel/cgroup/memcg.cpp). A lower
// high takes effect at the next charge; a max below the usage OOM-kills in
// the group until it fits, as Linux does once it has nothing to reclaim.
Status show_mem_high(fs::SeqBuf& out, Cgroup& c) {
    put_max(out, c.mem.high);
    return {};
}

Status store_mem_high(Cgroup& c, StringView text) {
    c.mem.high = TRY(parse_mem(text));
    __atomic_store_n(&c.memory.high, c.mem.high == UNLIMITED ? memcg::NO_LIMIT : c.mem.high / PAGE, __ATOMIC_RELAXED);
    return {};
}

Status show_mem_max(fs::SeqBuf& out, Cgroup& c) {
    put_max(out, c.mem.max);
    return {};
}

Status store_mem_max(Cgroup& c, StringView text) {
    c.mem.max = TRY(parse_mem(text));
    __atomic_store_n(&c.memory.max, c.mem.max == UNLIMITED ? memcg::NO_LIMIT : c.mem.max / PAGE, __ATOMIC_RELAXED);
    memcg::shrink_to_max(c);
    return {};
}

Status show_zero(fs::SeqBuf& out, Cgroup&) {
    out.puts("0\n");
    return {};
}

Status show_mem_current(fs::SeqBuf& out, Cgroup& c) {
    put_u64(out, c.memory.read() * PAGE);
    return {};
}

// memory.peak: the highest usage ever. Its open descriptions
// (memcg::open_peak) show and reset a peak of their own.
Status show_mem_peak(fs::SeqBuf& out, Cgroup& c) {
    put_u64(out, c.memory.peak() * PAGE);
    return {};
}

void put_events(fs::SeqBuf& out, const u64* ev) {
    static const char* const NAMES[memcg::NR_EVENTS] = {"low", "high", "max", "oom", "oom_kill", "oom_group_kill"};
    for (int i = 0; i < memcg::NR_EVENTS; ++i)
        out.printf("%s %llu\n", NAMES[i], static_cast<unsigned long long>(__atomic_load_n(&ev[i], __ATOMIC_RELAXED)));
}

Status show_mem_events(fs::SeqBuf& out, Cgroup& c) {
    put_events(out, c.mem_events);
    return {};
}

Status show_mem_events_local(fs::SeqBuf& out, Cgroup& c) {
    put_events(out, c.mem_events_local);
    return {};
}

Status show_swap_events(fs::SeqBuf& out, Cgroup&) {
    out.puts("high 0\nmax 0\nfail 0\n");
    return {};
}

// memory.stat's keys in Linux 6.12's order (the first 24 are in bytes, and
// memory.numa_stat shows those it has per node).
const char* const MEM_STAT_KEYS[] = {
    "anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock", "vmalloc",
    "shmem", "file_mapped", "file_dirty", "file_writeback", "swapcached", "anon_thp", "file_thp", "shmem_thp",
    "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable", "slab_reclaimable",
    "slab_unreclaimable", "slab", "workingset_refault_anon", "workingset_refault_file",
    "workingset_activate_anon", "workingset_activate_file", "workingset_restore_anon",
    "workingset_restore_file", "workingset_nodereclaim", "pgdemote_kswapd", "pgdemote_direct",
    "pgdemote_khugepaged", "pgpromote_success", "pgscan", "pgsteal", "pgscan_kswapd", "pgscan_direct",
    "pgscan_khugepaged", "pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged", "pgfault", "pgmajfault",
    "pgrefill", "pgactivate", "pgdeactivate", "pglazyfree", "pglazyfreed", "swpin_zero", "swpout_zero",
    "thp_fault_alloc", "thp_collapse_alloc", "thp_swpout", "thp_swpout_fallback", "numa_pages_migrated",
    "numa_pte_updates", "numa_hint_faults",
};
// Not per node: kernel, percpu, sock, vmalloc, slab and the event counters
// from pgscan on.
bool numa_key(const char* k) {
    StringView s(k);
    return s != "kernel" && s != "percpu" && s != "sock" && s != "vmalloc" && s != "slab";
}

// What is charged in the subtree of `c` (tree mutex held): pages by kind,
// and kernel objects in bytes and in the pages they are charged as.
struct Charged {
    u64 pages[memcg::NR_KINDS] = {};
    u64 slab_bytes = 0;
    u64 slab_pages = 0;
};

void add_charged(Cgroup& c, Charged& sum) {
    for (int k = 0; k < memcg::NR_KINDS; ++k) sum.pages[k] += __atomic_load_n(&c.mem_pages[k], __ATOMIC_RELAXED);
    u64 slab = __atomic_load_n(&c.slab_bytes, __ATOMIC_RELAXED);
    sum.slab_bytes += slab;
    sum.slab_pages += memcg::slab_pages(slab);
    c.children.for_each([&](Cgroup& ch) { add_charged(ch, sum); });
}

Charged charged(Cgroup& c) {
    Charged sum;
    if (!c.is_root()) add_charged(c, sum);
    return sum;
}

// The figures Keel has, in bytes: anonymous and tmpfs pages (which Linux
// counts as file pages too), and the kernel memory charged: page tables,
// kernel stacks, kernel objects (slab, all unreclaimable: Keel has no
// reclaimable caches) and the rest of "kernel" (pipe buffers). The root is
// not charged.
u64 stat_value(StringView key, const Charged& c) {
    const u64* pages = c.pages;
    if (key == "anon") return pages[memcg::ANON] * PAGE;
    if (key == "file" || key == "shmem") return pages[memcg::SHMEM] * PAGE;
    if (key == "pagetables") return pages[memcg::PAGETABLES] * PAGE;
    if (key == "kernel_stack") return pages[memcg::KERNEL_STACK] * PAGE;
    if (key == "slab" || key == "slab_unreclaimable") return c.slab_bytes;
    if (key == "kernel")
        return (pages[memcg::PAGETABLES] + pages[memcg::KERNEL_STACK] + pages[memcg::KMEM] + c.slab_pages) * PAGE;
    return 0;
}

Status show_mem_stat(fs::SeqBuf& out, Cgroup& c) {
    Charged sum = charged(c);
    for (const char* k : MEM_STAT_KEYS)
        out.printf("%s %llu\n", k, static_cast<unsigned long long>(stat_value(k, sum)));
    return {};
}

Status show_numa_stat(fs::SeqBuf& out, Cgroup& c) {
    Charged sum = charged(c);
    for (const char* k : MEM_STAT_KEYS) {
        if (StringView(k) == "pgscan") break;
        if (numa_key(k)) out.printf("%s N0=%llu\n", k, static_cast<unsigned long long>(stat_value(k, sum)));
    }
    return {};
}

Status show_oom_group(fs::SeqBuf& out, Cgroup& c) {
    out.printf("%d\n", c.mem.oom_group ? 1 : 0);
    return {};
}

Status store_oom_group(Cgroup& c, StringView text) {
    i64 v = TRY(parse_i64(strip(text)));
    if (v != 0 && v != 1) return Error(EINVAL);
    c.mem.oom_group = v == 1;
    return {};
}

// Proactive reclaim: "BYTES [swappiness=N]". Nothing charged can be
// reclaimed (anonymous and tmpfs pages without swap), so any amount but 0
// fails with EAGAIN, as Linux when it reclaims less than asked.
Status store_reclaim(Cgroup&, StringView text) {
    StringView s = strip(text);
    usize sp = s.find(' ');
    u64 bytes = TRY(parse_bytes_or_max(s.substr(0, sp)));
    StringView rest = sp == StringView::npos ? StringView() : strip(s.substr(sp));
    if (!rest.empty()) {
        if (!rest.starts_with("swappiness=")) return Error(EINVAL);
        u64 sw = TRY(parse_u64(rest.substr(11)));
        if (sw > 200) return Error(EINVAL);
    }
    return bytes / PAGE ? Status(Error(EAGAIN)) : Status();
}

// memory.peak and memory.swap.peak: a write resets the peak its open file
// reports; Keel's peaks are 0 already.
Status store_accept(Cgroup&, StringView) { return {}; }

// ---- io ---------------------------------------------------------------------
// No block devices yet: nothing to show per device, and a device named in a
// write does not exist (ENODEV, as Linux for an unknown MAJ:MIN).

Status show_empty(fs::SeqBuf&, Cgroup&) { return {}; }

bool is_dev_token(StringView t) {
    usize colon = t.find(':');
    return colon != StringView::npos && parse_u64(t.substr(0, colon)).is_ok() && parse_u64(t.substr(colon + 1)).is_ok();
}

Status show_io_weight(fs::SeqBuf& out, Cgroup& c) {
    out.printf("default %u\n", c.io_weight);
    return {};
}

Status store_io_weight(Cgroup& c, StringView text) {
    StringView s = strip(text);
    usize sp = s.find(' ');
    StringView first = s.substr(0, sp);
    if (first == "default") s = strip(s.substr(sp == StringView::npos ? s.size() : sp));
    else if (is_dev_token(first)) return Error(ENODEV);
    u64 w = TRY(parse_u64(s));
    if (w < 1 || w > 10000) return Error(EINVAL);
    c.io_weight = static_cast<u32>(w);
    return {};
}

Status store_io_max(Cgroup&, StringView text) {
    StringView s = strip(text);
    if (is_dev_token(s.substr(0, s.find(' ')))) return Error(ENODEV);
    return Error(EINVAL);
}

// ---- cpuset -----------------------------------------------------------------

Status show_cpus(fs::SeqBuf& out, Cgroup& c) {
    fs::put_cpu_list(out, c.cpus);
    out.putc('\n');
    return {};
}

Status show_cpus_effective(fs::SeqBuf& out, Cgroup& c) {
    fs::put_cpu_list(out, c.is_root() ? sched::online_mask() : c.cpus_effective);
    out.putc('\n');
    return {};
}

Status store_cpus(Cgroup& c, StringView text) {
    u64 mask = TRY(parse_cpu_list(text, sched::online_cpus()));
    c.cpus = mask;
    update_cpusets(c);
    return {};
}

Status show_mems(fs::SeqBuf& out, Cgroup& c) {
    out.puts(c.mems ? "0\n" : "\n");
    return {};
}

Status show_mems_effective(fs::SeqBuf& out, Cgroup&) {
    out.puts("0\n");  // one memory node
    return {};
}

Status store_mems(Cgroup& c, StringView text) {
    u64 mask = TRY(parse_cpu_list(text, 64));
    if (mask & ~1ull) return Error(EINVAL);
    c.mems = mask;
    return {};
}

Status show_empty_line(fs::SeqBuf& out, Cgroup&) {
    out.putc('\n');
    return {};
}

Status show_partition(fs::SeqBuf& out, Cgroup& c) {
    out.printf("%s\n", c.partition);
    return {};
}

Status store_partition(Cgroup& c, StringView text) {
    StringView s = strip(text);
    if (s != "member" && s != "root" && s != "isolated") return Error(EINVAL);
    for (usize i = 0; i <= s.size(); ++i) c.partition[i] = i < s.size() ? s[i] : 0;
    return {};
}

Status store_exclusive(Cgroup&, StringView text) {
    TRY(parse_cpu_list(text, sched::online_cpus()));
    return {};
}

// ---- hugetlb, rdma, misc ---------------------------------------------------
// No pools, devices or resources: usage 0, limits stored, lists empty.

#define HUGETLB_MAX(fn, size, rsvd, shift)                                      \
    Status show_##fn(fs::SeqBuf& out, Cgroup& c) {                              \
        put_max(out, c.hugetlb_max[size][rsvd]);                                \
        return {};                                                              \
    }                                                                           \
    Status store_##fn(Cgroup& c, StringView text) {                             \
        u64 v = TRY(parse_bytes_or_max(text));                                  \
        c.hugetlb_max[size][rsvd] = v == UNLIMITED ? v : v >> (shift) << (shift); \
        return {};                                                              \
    }
HUGETLB_MAX(h2m_max, 0, 0, 21)
HUGETLB_MAX(h2m_rsvd_max, 0, 1, 21)
HUGETLB_MAX(h1g_max, 1, 0, 30)
HUGETLB_MAX(h1g_rsvd_max, 1, 1, 30)
#undef HUGETLB_MAX

Status show_max_0(fs::SeqBuf& out, Cgroup&) {
    out.puts("max 0\n");
    return {};
}

Status show_hugetlb_numa(fs::SeqBuf& out, Cgroup&) {
    out.puts("total=0 N0=0\n");
    return {};
}

// A resource or device that does not exist.
Status store_no_resource(Cgroup&, StringView) { return Error(EINVAL); }

// ---- pids -------------------------------------------------------------------

constexpr u64 PIDS_LIMIT = 4194304 + 1;  // PID_MAX_LIMIT + 1

Status show_pids_max(fs::SeqBuf& out, Cgroup& c) {
    put_max(out, c.pids_max);
    return {};
}

Status store_pids_max(Cgroup& c, StringView text) {
    u64 v = TRY(parse_max_or_u64(text, EINVAL));
    if (v != UNLIMITED && v >= PIDS_LIMIT) return Error(EINVAL);
    c.pids_max = v;  // a lower limit never kills: it only stops new forks
    return {};
}

Status show_pids_current(fs::SeqBuf& out, Cgroup& c) {
    put_u64(out, c.pids_current);
    return {};
}

Status show_pids_peak(fs::SeqBuf& out, Cgroup& c) {
    put_u64(out, c.pids_peak);
    return {};
}

Status show_pids_events(fs::SeqBuf& out, Cgroup& c) {
    out.printf("max %llu\n", static_cast<unsigned long long>(c.pids_events_max));
    return {};
}

Status show_pids_events_local(fs::SeqBuf& out, Cgroup& c) {
    out.printf("max %llu\n", static_cast<unsigned long long>(c.pids_events_max_local));
    return {};
}

}  // namespace

const FileDef CTRL_FILES[] = {
    {"cpu.weight", 0644, CPU, Where::ChildOnly, show_cpu_weight, store_cpu_weight},
    {"cpu.weight.nice", 0644, CPU, Where::ChildOnly, show_cpu_weight_nice, store_cpu_weight_nice},
    {"cpu.max", 0644, CPU, Where::ChildOnly, show_cpu_max, store_cpu_max},
    {"cpu.max.burst", 0644, CPU, Where::ChildOnly, show_cpu_burst, store_cpu_burst},
    {"cpu.idle", 0644, CPU, Where::ChildOnly, show_cpu_idle, store_cpu_idle},

    {"memory.current", 0444, MEMORY, Where::ChildOnly, show_mem_current, nullptr},
    {"memory.min", 0644, MEMORY, Where::ChildOnly, show_mem_min, store_mem_min},
    {"memory.low", 0644, MEMORY, Where::ChildOnly, show_mem_low, store_mem_low},
    {"memory.high", 0644, MEMORY, Where::ChildOnly, show_mem_high, store_mem_high},
    {"memory.max", 0644, MEMORY, Where::ChildOnly, show_mem_max, store_mem_max},
    {"memory.peak", 0644, MEMORY, Where::ChildOnly, show_mem_peak, store_accept, Notify::None, -1, memcg::open_peak},
    {"memory.events", 0444, MEMORY, Where::ChildOnly, show_mem_events, nullptr, Notify::MemEvents},
    {"memory.events.local", 0444, MEMORY, Where::ChildOnly, show_mem_events_local, nullptr, Notify::MemEventsLocal},
    {"memory.stat", 0444, MEMORY, Where::Both, show_mem_stat, nullptr},
    {"memory.numa_stat", 0444, MEMORY, Where::Both, show_numa_stat, nullptr},
    {"memory.oom.group", 0644, MEMORY, Where::ChildOnly, show_oom_group, store_oom_group},
    {"memory.reclaim", 0200, MEMORY, Where::Both, nullptr, store_reclaim},
    {"memory.swap.current", 0444, MEMORY, Where::ChildOnly, show_zero, nullptr},
    {"memory.swap.high", 0644, MEMORY, Where::ChildOnly, show_mem_swap_high, store_mem_swap_high},
    {"memory.swap.max", 0644, MEMORY, Where::ChildOnly, show_mem_swap_max, store_mem_swap_max},
    {"memory.swap.peak", 0644, MEMORY, Where::ChildOnly, show_zero, store_accept},
    {"memory.swap.events", 0444, MEMORY, Where::ChildOnly, show_swap_events, nullptr},

    {"io.stat", 0444, IO, Where::Both, show_empty, nullptr},
    {"io.max", 0644, IO, Where::ChildOnly, show_empty, store_io_max},
    {"io.weight", 0644, IO, Where::ChildOnly, show_io_weight, store_io_weight},
    {"io.cost.model", 0644, IO, Where::RootOnly, show_empty, store_io_max},
    {"io.cost.qos", 0644, IO, Where::RootOnly, show_empty, store_io_max},

    {"cpuset.cpus", 0644, CPUSET, Where::ChildOnly, show_cpus, store_cpus},
    {"cpuset.cpus.effective", 0444, CPUSET, Where::Both, show_cpus_effective, nullptr},
    {"cpuset.mems", 0644, CPUSET, Where::ChildOnly, show_mems, store_mems},
    {"cpuset.mems.effective", 0444, CPUSET, Where::Both, show_mems_effective, nullptr},
    {"cpuset.cpus.partition", 0644, CPUSET, Where::ChildOnly, show_partition, store_partition},
    {"cpuset.cpus.exclusive", 0644, CPUSET, Where::ChildOnly, show_empty_line, store_exclusive},
    {"cpuset.cpus.exclusive.effective", 0444, CPUSET, Where::ChildOnly, show_empty_line, nullptr},
    {"cpuset.cpus.isolated", 0444, CPUSET, Where::RootOnly, show_empty_line, nullptr},

    {"hugetlb.1GB.current", 0444, HUGETLB, Where::ChildOnly, show_zero, nullptr},
    {"hugetlb.1GB.events", 0444, HUGETLB, Where::ChildOnly, show_max_0, nullptr},
    {"hugetlb.1GB.events.local", 0444, HUGETLB, Where::ChildOnly, show_max_0, nullptr},
    {"hugetlb.1GB.max", 0644, HUGETLB, Where::ChildOnly, show_h1g_max, store_h1g_max},
    {"hugetlb.1GB.numa_stat", 0444, HUGETLB, Where::ChildOnly, show_hugetlb_numa, nullptr},
    {"hugetlb.1GB.rsvd.current", 0444, HUGETLB, Where::ChildOnly, show_zero, nullptr},
    {"hugetlb.1GB.rsvd.max", 0644, HUGETLB, Where::ChildOnly, show_h1g_rsvd_max, store_h1g_rsvd_max},
    {"hugetlb.2MB.current", 0444, HUGETLB, Where::ChildOnly, show_zero, nullptr},
    {"hugetlb.2MB.events", 0444, HUGETLB, Where::ChildOnly, show_max_0, nullptr},
    {"hugetlb.2MB.events.local", 0444, HUGETLB, Where::ChildOnly, show_max_0, nullptr},
    {"hugetlb.2MB.max", 0644, HUGETLB, Where::ChildOnly, show_h2m_max, store_h2m_max},
    {"hugetlb.2MB.numa_stat", 0444, HUGETLB, Where::ChildOnly, show_hugetlb_numa, nullptr},
    {"hugetlb.2MB.rsvd.current", 0444, HUGETLB, Where::ChildOnly, show_zero, nullptr},
    {"hugetlb.2MB.rsvd.max", 0644, HUGETLB, Where::ChildOnly, show_h2m_rsvd_max, store_h2m_rsvd_max},

    {"rdma.current", 0444, RDMA, Where::ChildOnly, show_empty, nullptr},
    {"rdma.max", 0644, RDMA, Where::ChildOnly, show_empty, store_no_resource},

    {"misc.capacity", 0444, MISC, Where::RootOnly, show_empty, nullptr},
    {"misc.current", 0444, MISC, Where::Both, show_empty, nullptr},
    {"misc.peak", 0444, MISC, Where::Both, show_empty, nullptr},
    {"misc.max", 0644, MISC, Where::ChildOnly, show_empty, store_no_resource},
    {"misc.events", 0444, MISC, Where::ChildOnly, show_empty, nullptr},
    {"misc.events.local", 0444, MISC, Where::ChildOnly, show_empty, nullptr},

    {"pids.max", 0644, PIDS, Where::ChildOnly, show_pids_max, store_pids_max},
    {"pids.current", 0444, PIDS, Where::ChildOnly, show_pids_current, nullptr},
    {"pids.peak", 0444, PIDS, Where::ChildOnly, show_pids_peak, nullptr},
    {"pids.events", 0444, PIDS, Where::ChildOnly, show_pids_events, nullptr, Notify::PidsEvents},
    {"pids.events.local", 0444, PIDS, Where::ChildOnly, show_pids_events_local, nullptr, Notify::PidsEvents},
};

const FileDef* ctrl_file_defs() { return CTRL_FILES; }
usize ctrl_nfiles() { return sizeof(CTRL_FILES) / sizeof(CTRL_FILES[0]); }

}  // namespace keel::cgroup
