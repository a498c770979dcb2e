// The text files of /proc/<pid>: stat, statm, status, comm, limits,
// mounts and mountinfo.
#include "fs/proc/pid_mem.h"
#include "fs/proc/procfs_internal.h"
#include "fs/root.h"
#include "kernel/process/proc_info.h"
#include "kernel/sched/scheduler.h"
#include "lib/alloc.h"
#include "lib/string.h"

namespace keel::fs::procfs {

namespace {

constexpr u64 USER_HZ = 100;
constexpr u64 NS_PER_TICK = 1000000000 / USER_HZ;
constexpr u64 PAGE = 4096;

const char* state_name(char s) {
    switch (s) {
    case 'R': return "R (running)";
    case 'S': return "S (sleeping)";
    case 'D': return "D (disk sleep)";
    case 'T': return "T (stopped)";
    case 'Z': return "Z (zombie)";
    default: return "X (dead)";
    }
}

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

}  // namespace

Status show_stat(SeqBuf& out, const Target& t) {
    proc::TaskInfo i;
    TRY(proc::task_info(t.tgid, t.tid, i));
    MemUsage m;
    if (!i.zombie) TRY(mem_usage(t.tgid, m));
    const proc::ExecLayout& l = i.layout;
    bool show_mm = m.has_mm;
    u64 pending = i.sig_pending | i.sig_shared;
    u64 rsslim = i.rlimits[5].cur;  // RLIMIT_RSS
    out.printf("%d (%s) %c %d %d %d %d %d %u ", t.tid ? t.tid : t.tgid, i.comm, i.state, i.ppid, i.pgid, i.sid,
               i.tty_nr, i.tpgid, 0x400000u /* PF_RANDOMIZE */);
    out.printf("%llu %llu %llu %llu %llu %llu %lld %lld ", 0ull, 0ull, 0ull, 0ull, ull(i.utime_ns / NS_PER_TICK),
               ull(i.stime_ns / NS_PER_TICK), static_cast<long long>(i.cutime_ns / NS_PER_TICK),
               static_cast<long long>(i.cstime_ns / NS_PER_TICK));
    // The priority as Linux prints it: 0..39 for nice -20..19, -2..-100 for
    // real-time priorities 1..99.
    int prio = i.rt_priority ? -1 - i.rt_priority : 20 + i.nice;
    out.printf("%d %d %d %d %llu ", prio, i.nice, i.zombie ? 0 : i.nthreads, 0,
               ull(i.start_time_ns / NS_PER_TICK));
    out.printf("%llu %llu %llu ", ull(m.vm_size), ull(m.rss() / PAGE), ull(rsslim));
    out.printf("%llu %llu %llu %llu %llu ", ull(show_mm ? l.start_code : 0), ull(show_mm ? l.end_code : 0),
               ull(show_mm ? l.start_stack : 0), 0ull, 0ull);
    out.printf("%llu %llu %llu %llu %llu %llu %llu %d %u %d %d %llu %llu %lld ", ull(pending & 0x7fffffff) ,
               ull(i.sig_blocked & 0x7fffffff), ull(i.sig_ignored & 0x7fffffff), ull(i.sig_caught & 0x7fffffff),
               0ull, 0ull, 0ull, i.exit_signal, i.cpu, i.rt_priority, i.policy, 0ull, 0ull, 0ll);
    out.printf("%llu %llu %llu %llu %llu %llu %llu %d\n", ull(show_mm ? l.start_data : 0),
               ull(show_mm ? l.end_data : 0), ull(show_mm ? l.start_brk : 0), ull(show_mm ? l.arg_start : 0),
               ull(show_mm ? l.arg_end : 0), ull(show_mm ? l.env_start : 0), ull(show_mm ? l.env_end : 0), 0);
    return out.status();
}

Status show_statm(SeqBuf& out, const Target& t) {
    MemUsage m;
    TRY(mem_usage(t.tgid, m));
    out.printf("%llu %llu %llu %llu 0 %llu 0\n", ull(m.vm_size / PAGE), ull(m.rss() / PAGE),
               ull((m.rss_file + m.rss_shmem) / PAGE), ull(m.vm_exe / PAGE), ull((m.vm_data + m.vm_stk) / PAGE));
    return out.status();
}

Status show_status(SeqBuf& out, const Target& t) {
    proc::TaskInfo i;
    TRY(proc::task_info(t.tgid, t.tid, i));
    MemUsage m;
    if (!i.zombie) TRY(mem_usage(t.tgid, m));
    out.puts("Name:\t");
    out.put_escaped(i.comm, "\n\\");
    out.printf("\nUmask:\t%04o\nState:\t%s\n", i.umask, state_name(i.state));
    int id = t.tid ? t.tid : t.tgid;
    out.printf("Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", i.tgid, id, i.ppid);
    const proc::Cred& c = i.cred;
    out.printf("Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", c.ruid, c.euid, c.suid, c.fsuid, c.rgid, c.egid, c.sgid,
               c.fsgid);
    out.printf("FDSize:\t%d\nGroups:\t", i.zombie ? 0 : proc::fd_table_size(t.tgid));
    for (u32 g = 0; g < c.ngroups && g < 64; ++g) out.printf(g ? " %u" : "%u", c.groups[g]);
    out.putc(' ');
    out.printf("\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t0\n", i.tgid, id, i.pgid, i.sid);
    if (m.has_mm) {
        auto kb = [&](const char* name, u64 bytes) { out.printf("%s:\t%8llu kB\n", name, ull(bytes / 1024)); };
        // Keel keeps no high-water marks: the peaks are the current sizes.
        kb("VmPeak", m.vm_size);
        kb("VmSize", m.vm_size);
        kb("VmLck", 0);
        kb("VmPin", 0);
        kb("VmHWM", m.rss());
        kb("VmRSS", m.rss());
        kb("RssAnon", m.rss_anon);
        kb("RssFile", m.rss_file);
        kb("RssShmem", m.rss_shmem);
        kb("VmData", m.vm_data);
        kb("VmStk", m.vm_stk);
        kb("VmExe", m.vm_exe);
        kb("VmLib", m.vm_lib);
        kb("VmPTE", m.vm_pte);
        kb("VmSwap", 0);
        out.printf("HugetlbPages:\t%8llu kB\n", 0ull);
    }
    out.printf("CoreDumping:\t0\n");
    if (m.has_mm) out.printf("THP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\n");
    out.printf("Threads:\t%d\n", i.nthreads);
    out.printf("SigQ:\t0/%llu\n", ull(i.rlimits[11].cur));  // RLIMIT_SIGPENDING
    out.printf("SigPnd:\t%016llx\nShdPnd:\t%016llx\nSigBlk:\t%016llx\nSigIgn:\t%016llx\nSigCgt:\t%016llx\n",
               ull(i.sig_pending), ull(i.sig_shared), ull(i.sig_blocked), ull(i.sig_ignored), ull(i.sig_caught));
    out.printf("CapInh:\t%016llx\nCapPrm:\t%016llx\nCapEff:\t%016llx\nCapBnd:\t%016llx\nCapAmb:\t%016llx\n",
               ull(c.cap_inheritable), ull(c.cap_permitted), ull(c.cap_effective), ull(c.cap_bset), ull(c.cap_ambient));
    out.printf("NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n", i.no_new_privs ? 1 : 0);
    out.puts("Speculation_Store_Bypass:\tnot vulnerable\nSpeculationIndirectBranch:\talways enabled\n");
    u32 ncpu = sched::online_cpus();
    u64 online = sched::online_mask();
    out.puts("Cpus_allowed:\t");
    put_cpu_mask(out, i.affinity & online, ncpu);
    out.puts("\nCpus_allowed_list:\t");
    put_cpu_list(out, i.affinity & online);
    out.puts("\nMems_allowed:\t");
    for (int g = 0; g < 31; ++g) out.puts("00000000,");
    out.puts("00000001\nMems_allowed_list:\t0\n");
    out.printf("voluntary_ctxt_switches:\t%llu\nnonvoluntary_ctxt_switches:\t%llu\n", ull(i.nvcsw), ull(i.nivcsw));
    out.puts("x86_Thread_features:\t\nx86_Thread_features_locked:\t\n");
    return out.status();
}

Status show_comm(SeqBuf& out, const Target& t) {
    proc::TaskInfo i;
    TRY(proc::task_info(t.tgid, t.tid, i));
    out.printf("%s\n", i.comm);
    return out.status();
}

Result<usize> store_comm(const Target& t, u64, DataBuffer& in, usize at, usize n) {
    // Only a thread of the process may rename it; the name is cut to 15
    // bytes and the whole write counts as done.
    proc::Process* me = proc::current_process();
    if (!me || me->pid != t.tgid) return Error(EINVAL);
    char name[16] = {};
    usize take = min<usize>(n, sizeof(name) - 1);
    if (in.copy_in(at, name, take) != take) return Error(EFAULT);
    str_lcpy(me->comm, name, sizeof(me->comm));
    return n;
}

Status show_limits(SeqBuf& out, const Target& t) {
    static const char* const names[proc::RLIMIT_COUNT][2] = {
        {"Max cpu time", "seconds"},   {"Max file size", "bytes"},      {"Max data size", "bytes"},
        {"Max stack size", "bytes"},   {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
        {"Max processes", "processes"}, {"Max open files", "files"},    {"Max locked memory", "bytes"},
        {"Max address space", "bytes"}, {"Max file locks", "locks"},    {"Max pending signals", "signals"},
        {"Max msgqueue size", "bytes"}, {"Max nice priority", nullptr}, {"Max realtime priority", nullptr},
        {"Max realtime timeout", "us"},
    };
    proc::TaskInfo i;
    TRY(proc::task_info(t.tgid, 0, i));
    out.printf("%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (int r = 0; r < proc::RLIMIT_COUNT; ++r) {
        out.printf("%-25s ", names[r][0]);
        for (u64 v : {i.rlimits[r].cur, i.rlimits[r].max}) {
            if (v == ~0ull) out.printf("%-20s ", "unlimited");
            else out.printf("%-20llu ", ull(v));
        }
        if (names[r][1]) out.printf("%-10s\n", names[r][1]);
        else out.putc('\n');
    }
    return out.status();
}

// ---- Mounts -----------------------------------------------------------------

namespace {

void put_mount_flags(SeqBuf& out, u32 flags) {
    if (flags & MS_NOSUID) out.puts(",nosuid");
    if (flags & MS_NODEV) out.puts(",nodev");
    if (flags & MS_NOEXEC) out.puts(",noexec");
    if (flags & MS_NOATIME) out.puts(",noatime");
    if (flags & MS_NODIRATIME) out.puts(",nodiratime");
    if (flags & MS_RELATIME) out.puts(",relatime");
    if (flags & MS_NOSYMFOLLOW) out.puts(",nosymfollow");
}

void put_sb_options(SeqBuf& out, const Superblock& sb) {
    char opts[256];
    sb.show_options(opts, sizeof(opts));
    out.puts(opts);
}

// Calls fn(mount, mount point text) for each mount visible from the
// reader's root, in mount order.
template <typename Fn>
Status each_mount(Fn fn) {
    Path root = reader_root();
    if (!root) return {};
    auto snap = TRY(root_namespace().snapshot());
    char* buf = static_cast<char*>(heap_alloc(PATH_MAX));
    if (!buf) return Error(ENOMEM);
    for (usize k = 0; k < snap.count; ++k) {
        Mount& m = *snap.mounts[k];
        Path at = m.root_path();
        auto text = path_for_mounts(at, root, buf, PATH_MAX);
        if (text.is_error()) continue;
        fn(m, text.value());
    }
    heap_free(buf);
    return {};
}

}  // namespace

Status show_mounts(SeqBuf& out, const Target&) {
    TRY(each_mount([&](Mount& m, StringView where) {
        StringView src = m.source();
        out.put_escaped(src.empty() ? StringView("none") : src);
        out.putc(' ');
        out.put_escaped(where);
        out.putc(' ');
        out.put_escaped(m.sb().type_name());
        out.puts(m.read_only() ? " ro" : " rw");
        put_mount_flags(out, m.flags());
        put_sb_options(out, m.sb());
        out.puts(" 0 0\n");
    }));
    return out.status();
}

Status show_mountinfo(SeqBuf& out, const Target&) {
    char* rbuf = static_cast<char*>(heap_alloc(PATH_MAX));
    if (!rbuf) return Error(ENOMEM);
    Status st = each_mount([&](Mount& m, StringView where) {
        DevId d = m.sb().dev();
        out.printf("%d %d %u:%u ", m.id(), m.parent_id(), dev_major(d), dev_minor(d));
        auto r = mount_root_path(m, rbuf, PATH_MAX);
        out.put_escaped(r.is_ok() ? r.value() : StringView("/"));
        out.putc(' ');
        out.put_escaped(where);
        out.puts((m.flags() & MS_RDONLY) ? " ro" : " rw");
        put_mount_flags(out, m.flags());
        out.puts(" - ");
        out.put_escaped(m.sb().type_name());
        out.putc(' ');
        StringView src = m.source();
        out.put_escaped(src.empty() ? StringView("none") : src);
        out.puts(m.sb().read_only() ? " ro" : " rw");
        put_sb_options(out, m.sb());
        out.putc('\n');
    });
    heap_free(rbuf);
    TRY(st);
    return out.status();
}

}  // namespace keel::fs::procfs
