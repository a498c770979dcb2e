// The layout of /proc: which names each directory has and what they are.
// /proc/sys holds the few read-only settings programs look at.
#include "fs/proc/procfs_internal.h"
#include "kernel/random.h"
#include "kernel/uts.h"
#include "mm/address_space.h"

namespace keel::fs::procfs {

namespace {

Status link_self(SeqBuf& out, const Target&) {
    out.printf("%d", reader_tgid());
    return {};
}

Status link_thread_self(SeqBuf& out, const Target&) {
    out.printf("%d/task/%d", reader_tgid(), reader_tid());
    return {};
}

Status link_mounts(SeqBuf& out, const Target&) {
    out.puts("self/mounts");
    return {};
}

Status show_ostype(SeqBuf& out, const Target&) {
    out.printf("%s\n", uts::snapshot().sysname);
    return {};
}

Status show_osrelease(SeqBuf& out, const Target&) {
    out.printf("%s\n", uts::snapshot().release);
    return {};
}

Status show_kversion(SeqBuf& out, const Target&) {
    out.printf("%s\n", uts::snapshot().version);
    return {};
}

Status show_hostname(SeqBuf& out, const Target&) {
    out.printf("%s\n", uts::snapshot().nodename);
    return {};
}

Status show_domainname(SeqBuf& out, const Target&) {
    out.printf("%s\n", uts::snapshot().domainname);
    return {};
}

Status show_pid_max(SeqBuf& out, const Target&) {
    out.puts("32768\n");
    return {};
}

Status show_boot_id(SeqBuf& out, const Target&) {
    // Chosen once, on first read; racing first readers agree through the
    // compare-and-swap on `state`.
    static u8 id[16];
    static u32 state;  // 0 unset, 1 being set, 2 set
    u32 expected = 0;
    if (__atomic_compare_exchange_n(&state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        random_bytes(id, sizeof(id));
        __atomic_store_n(&state, 2, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != 2) __builtin_ia32_pause();
    put_uuid(out, id);
    out.putc('\n');
    return {};
}

Status show_uuid(SeqBuf& out, const Target&) {
    u8 id[16];
    random_bytes(id, sizeof(id));
    put_uuid(out, id);
    out.putc('\n');
    return {};
}

Status show_file_max(SeqBuf& out, const Target&) {
    out.puts("9223372036854775807\n");
    return {};
}

Status show_zero(SeqBuf& out, const Target&) {
    out.puts("0\n");
    return {};
}

// Fixed settings, with Linux 6.12's defaults (Keel's limits are the same).
Status show_ngroups_max(SeqBuf& out, const Target&) {
    out.puts("65536\n");
    return {};
}

Status show_nr_open(SeqBuf& out, const Target&) {
    out.puts("1048576\n");
    return {};
}

Status show_pipe_max_size(SeqBuf& out, const Target&) {
    out.puts("1048576\n");
    return {};
}

Status show_core_pattern(SeqBuf& out, const Target&) {
    out.puts("core\n");
    return {};
}

Status show_max_map_count(SeqBuf& out, const Target&) {
    out.printf("%llu\n", static_cast<unsigned long long>(mm::max_map_count()));
    return out.status();
}

Result<usize> store_max_map_count(const Target&, u64, DataBuffer& in, usize at, usize n) {
    i64 v = TRY(parse_int(in, at, n));
    TRY(mm::set_max_map_count(v));
    return n;
}

Status show_mmap_min_addr(SeqBuf& out, const Target&) {
    out.puts("65536\n");
    return {};
}

constexpr u32 REG = S_IFREG | 0444;
constexpr u32 DIR = S_IFDIR | 0555;
constexpr u32 RW = S_IFREG | 0644;  // sysctls root may write (Keel: those with a store function)
constexpr u32 LNK = S_IFLNK | 0777;

const ProcEntry RANDOM_ENTRIES[] = {
    {"boot_id", REG, show_boot_id},
    {"uuid", REG, show_uuid},
};

const ProcEntry KERNEL_ENTRIES[] = {
    {"core_pattern", REG, show_core_pattern},
    {"domainname", REG, show_domainname},
    {"hostname", REG, show_hostname},
    {"ngroups_max", REG, show_ngroups_max},
    {"osrelease", REG, show_osrelease},
    {"ostype", REG, show_ostype},
    {"pid_max", REG, show_pid_max},
    {"random", DIR, nullptr, nullptr, nullptr, RANDOM_ENTRIES, count_of(RANDOM_ENTRIES)},
    {"sched_autogroup_enabled", RW, show_sched_autogroup},
    {"sched_cfs_bandwidth_slice_us", RW, show_sched_cfs_bandwidth_slice},
    {"sched_deadline_period_max_us", RW, show_sched_deadline_period_max},
    {"sched_deadline_period_min_us", RW, show_sched_deadline_period_min},
    {"sched_energy_aware", RW, show_empty},
    {"sched_rr_timeslice_ms", RW, show_sched_rr_timeslice},
    {"sched_rt_period_us", RW, show_sched_rt_period, nullptr, nullptr, nullptr, 0, DirKind::Table,
     store_sched_rt_period},
    {"sched_rt_runtime_us", RW, show_sched_rt_runtime, nullptr, nullptr, nullptr, 0, DirKind::Table,
     store_sched_rt_runtime},
    {"sched_schedstats", RW, show_zero},
    {"version", REG, show_kversion},
};

const ProcEntry FS_ENTRIES[] = {
    {"file-max", REG, show_file_max},
    {"nr_open", REG, show_nr_open},
    {"pipe-max-size", REG, show_pipe_max_size},
};

const ProcEntry VM_ENTRIES[] = {
    {"max_map_count", RW, show_max_map_count, nullptr, nullptr, nullptr, 0, DirKind::Table, store_max_map_count},
    {"mmap_min_addr", REG, show_mmap_min_addr},
    {"overcommit_memory", REG, show_zero},
};

const ProcEntry SYSCTL_ENTRIES[] = {
    {"fs", DIR, nullptr, nullptr, nullptr, FS_ENTRIES, count_of(FS_ENTRIES)},
    {"kernel", DIR, nullptr, nullptr, nullptr, KERNEL_ENTRIES, count_of(KERNEL_ENTRIES)},
    {"vm", DIR, nullptr, nullptr, nullptr, VM_ENTRIES, count_of(VM_ENTRIES)},
};

}  // namespace

const ProcEntry ROOT_ENTRIES[] = {
    {"cmdline", REG, show_cmdline_sys},
    {"cpuinfo", REG, show_cpuinfo},
    {"devices", REG, show_devices},
    {"filesystems", REG, show_filesystems},
    {"loadavg", REG, show_loadavg},
    {"meminfo", REG, show_meminfo},
    {"mounts", LNK, nullptr, link_mounts},
    {"pressure", DIR, nullptr, nullptr, nullptr, PRESSURE_ENTRIES, count_of(PRESSURE_ENTRIES)},
    {"self", LNK, nullptr, link_self},
    {"schedstat", REG, show_schedstat},
    {"stat", REG, show_stat_sys},
    {"sys", DIR, nullptr, nullptr, nullptr, SYSCTL_ENTRIES, count_of(SYSCTL_ENTRIES)},
    {"thread-self", LNK, nullptr, link_thread_self},
    {"uptime", REG, show_uptime},
    {"version", REG, show_version},
};
const usize ROOT_COUNT = count_of(ROOT_ENTRIES);

#define PID_COMMON                                                               \
    {"cgroup", REG, show_cgroup},                                                \
    {"cmdline", REG, show_cmdline},                                              \
    {"comm", S_IFREG | 0644, show_comm, nullptr, nullptr, nullptr, 0,           \
     DirKind::Table, store_comm},                                                \
    {"cwd", LNK, nullptr, link_cwd, jump_cwd},                                   \
    {"environ", S_IFREG | 0400, show_environ},                                   \
    {"exe", LNK, nullptr, link_exe, jump_exe},                                   \
    {"fd", S_IFDIR | 0500, nullptr, nullptr, nullptr, nullptr, 0, DirKind::Fd},  \
    {"fdinfo", DIR, nullptr, nullptr, nullptr, nullptr, 0, DirKind::FdInfo},     \
    {"limits", REG, show_limits},                                                \
    {"maps", REG, show_maps},                                                    \
    {"mem", S_IFREG | 0600, nullptr, nullptr, nullptr, nullptr, 0,               \
     DirKind::Table, nullptr, read_mem},                                         \
    {"mountinfo", REG, show_mountinfo},                                          \
    {"mounts", REG, show_mounts},                                                \
    {"oom_adj", S_IFREG | 0644, show_oom_adj, nullptr, nullptr, nullptr, 0,     \
     DirKind::Table, store_oom_adj},                                             \
    {"oom_score", REG, show_oom_score},                                          \
    {"oom_score_adj", S_IFREG | 0644, show_oom_score_adj, nullptr, nullptr,      \
     nullptr, 0, DirKind::Table, store_oom_score_adj},                           \
    {"root", LNK, nullptr, link_root, jump_root},                                \
    {"sched", S_IFREG | 0644, show_pid_sched},                                   \
    {"schedstat", REG, show_pid_schedstat},                                      \
    {"stat", REG, show_stat},                                                    \
    {"statm", REG, show_statm},                                                  \
    {"status", REG, show_status}

const ProcEntry PID_ENTRIES[] = {
    PID_COMMON,
    {"task", DIR, nullptr, nullptr, nullptr, nullptr, 0, DirKind::Task},
};
const usize PID_COUNT = count_of(PID_ENTRIES);

const ProcEntry TID_ENTRIES[] = {PID_COMMON};
const usize TID_COUNT = count_of(TID_ENTRIES);

}  // namespace keel::fs::procfs
