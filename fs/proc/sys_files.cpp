// System-wide files of /proc: meminfo, cpuinfo, uptime, loadavg,
// filesystems, stat, version, cmdline, devices.
#include "arch/x86_64/cpu.h"
#include "fs/dev/chrdev.h"
#include "fs/proc/procfs_internal.h"
#include "kernel/boot_info.h"
#include "kernel/percpu.h"
#include "kernel/process/proc_info.h"
#include "kernel/sched/scheduler.h"
#include "kernel/time.h"
#include "kernel/uts.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "lib/string.h"

namespace keel::fs::procfs {

namespace {

constexpr u64 USER_HZ = 100;
constexpr u64 NS_PER_TICK = 1000000000 / USER_HZ;

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

}  // namespace

Status show_meminfo(SeqBuf& out, const Target&) {
    mm::MemStats m = mm::mem_stats();
    u64 total = m.total_pages * 4, free = m.free_pages * 4, slab = m.slab_pages * 4;
    // Keel has no page cache, swap or huge pages: those lines are zero.
    struct Line {
        const char* name;
        u64 kib;
    };
    const Line lines[] = {
        {"MemTotal", total}, {"MemFree", free}, {"MemAvailable", free}, {"Buffers", 0}, {"Cached", 0},
        {"SwapCached", 0}, {"Active", 0}, {"Inactive", 0}, {"Active(anon)", 0}, {"Inactive(anon)", 0},
        {"Active(file)", 0}, {"Inactive(file)", 0}, {"Unevictable", 0}, {"Mlocked", 0}, {"SwapTotal", 0},
        {"SwapFree", 0}, {"Dirty", 0}, {"Writeback", 0}, {"AnonPages", 0}, {"Mapped", 0}, {"Shmem", 0},
        {"KReclaimable", 0}, {"Slab", slab}, {"SReclaimable", 0}, {"SUnreclaim", slab}, {"KernelStack", 0},
        {"PageTables", 0}, {"SecPageTables", 0}, {"NFS_Unstable", 0}, {"Bounce", 0}, {"WritebackTmp", 0},
        {"CommitLimit", total / 2}, {"Committed_AS", 0}, {"VmallocTotal", 34359738367ull}, {"VmallocUsed", 0},
        {"VmallocChunk", 0}, {"Percpu", 0},
    };
    for (const Line& l : lines) put_meminfo_line(out, l.name, l.kib);
    out.printf("HardwareCorrupted: %5llu kB\n", 0ull);
    for (const char* name : {"AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped",
                             "Unaccepted"})
        put_meminfo_line(out, name, 0);
    out.printf("HugePages_Total:   %5u\nHugePages_Free:    %5u\nHugePages_Rsvd:    %5u\nHugePages_Surp:    %5u\n", 0u,
               0u, 0u, 0u);
    put_meminfo_line(out, "Hugepagesize", 2048);
    put_meminfo_line(out, "Hugetlb", 0);
    put_meminfo_line(out, "DirectMap4k", 0);
    put_meminfo_line(out, "DirectMap2M", 0);
    put_meminfo_line(out, "DirectMap1G", total);
    return out.status();
}

// ---- cpuinfo ------------------------------------------------------------------

namespace {

struct Flag {
    u32 leaf;
    u8 reg;  // 0 eax 1 ebx 2 ecx 3 edx
    u8 bit;
    const char* name;
};

// In Linux's order (its capability words 0, 1, 4, 6, 9, 16), the common
// bits only.
const Flag FLAGS[] = {
    {1, 3, 0, "fpu"}, {1, 3, 1, "vme"}, {1, 3, 2, "de"}, {1, 3, 3, "pse"}, {1, 3, 4, "tsc"}, {1, 3, 5, "msr"},
    {1, 3, 6, "pae"}, {1, 3, 7, "mce"}, {1, 3, 8, "cx8"}, {1, 3, 9, "apic"}, {1, 3, 11, "sep"}, {1, 3, 12, "mtrr"},
    {1, 3, 13, "pge"}, {1, 3, 14, "mca"}, {1, 3, 15, "cmov"}, {1, 3, 16, "pat"}, {1, 3, 17, "pse36"},
    {1, 3, 19, "clflush"}, {1, 3, 21, "dts"}, {1, 3, 22, "acpi"}, {1, 3, 23, "mmx"}, {1, 3, 24, "fxsr"},
    {1, 3, 25, "sse"}, {1, 3, 26, "sse2"}, {1, 3, 27, "ss"}, {1, 3, 28, "ht"}, {1, 3, 29, "tm"}, {1, 3, 31, "pbe"},
    {0x80000001, 3, 11, "syscall"}, {0x80000001, 3, 20, "nx"}, {0x80000001, 3, 22, "mmxext"},
    {0x80000001, 3, 25, "fxsr_opt"}, {0x80000001, 3, 26, "pdpe1gb"}, {0x80000001, 3, 27, "rdtscp"},
    {0x80000001, 3, 29, "lm"}, {0x80000001, 3, 30, "3dnowext"}, {0x80000001, 3, 31, "3dnow"},
    {1, 2, 0, "pni"}, {1, 2, 1, "pclmulqdq"}, {1, 2, 3, "monitor"}, {1, 2, 9, "ssse3"}, {1, 2, 12, "fma"},
    {1, 2, 13, "cx16"}, {1, 2, 19, "sse4_1"}, {1, 2, 20, "sse4_2"}, {1, 2, 21, "x2apic"}, {1, 2, 22, "movbe"},
    {1, 2, 23, "popcnt"}, {1, 2, 25, "aes"}, {1, 2, 26, "xsave"}, {1, 2, 28, "avx"}, {1, 2, 29, "f16c"},
    {1, 2, 30, "rdrand"}, {1, 2, 31, "hypervisor"},
    {0x80000001, 2, 0, "lahf_lm"}, {0x80000001, 2, 1, "cmp_legacy"}, {0x80000001, 2, 2, "svm"},
    {0x80000001, 2, 4, "cr8_legacy"}, {0x80000001, 2, 5, "abm"}, {0x80000001, 2, 6, "sse4a"},
    {0x80000001, 2, 8, "3dnowprefetch"},
    {7, 1, 0, "fsgsbase"}, {7, 1, 3, "bmi1"}, {7, 1, 5, "avx2"}, {7, 1, 7, "smep"}, {7, 1, 8, "bmi2"},
    {7, 1, 9, "erms"}, {7, 1, 10, "invpcid"}, {7, 1, 14, "mpx"}, {7, 1, 16, "avx512f"}, {7, 1, 18, "rdseed"},
    {7, 1, 19, "adx"}, {7, 1, 20, "smap"}, {7, 1, 23, "clflushopt"}, {7, 1, 24, "clwb"}, {7, 1, 29, "sha_ni"},
    {7, 2, 2, "umip"}, {7, 2, 3, "pku"}, {7, 2, 9, "vaes"}, {7, 2, 10, "vpclmulqdq"}, {7, 2, 16, "la57"},
    {7, 2, 22, "rdpid"},
};

u32 reg_of(const arch::CpuidRegs& r, u8 reg) { return reg == 0 ? r.eax : reg == 1 ? r.ebx : reg == 2 ? r.ecx : r.edx; }

}  // namespace

Status show_cpuinfo(SeqBuf& out, const Target&) {
    arch::CpuidRegs l0 = arch::cpuid(0), l1 = arch::cpuid(1), e0 = arch::cpuid(0x80000000);
    char vendor[13] = {};
    mem_copy(vendor, &l0.ebx, 4);
    mem_copy(vendor + 4, &l0.edx, 4);
    mem_copy(vendor + 8, &l0.ecx, 4);
    u32 family = (l1.eax >> 8) & 0xf, model = (l1.eax >> 4) & 0xf;
    if (family == 0xf) family += (l1.eax >> 20) & 0xff;
    if (family >= 6) model += ((l1.eax >> 16) & 0xf) << 4;
    char brand[49] = {};
    if (e0.eax >= 0x80000004)
        for (u32 i = 0; i < 3; ++i) {
            arch::CpuidRegs b = arch::cpuid(0x80000002 + i);
            mem_copy(brand + 16 * i, &b, 16);
        }
    StringView name(brand);
    while (!name.empty() && name[0] == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    u32 cache_kb = e0.eax >= 0x80000006 ? arch::cpuid(0x80000006).ecx >> 16 : 0;
    u32 addr = e0.eax >= 0x80000008 ? arch::cpuid(0x80000008).eax : 0;
    u64 khz = time::tsc_khz();
    u32 ncpu = sched::online_cpus();
    for (u32 c = 0; c < MAX_CPUS; ++c) {
        Cpu* cpu = cpus[c];
        if (!cpu || !cpu->online) continue;
        out.printf("processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\nmodel name\t: %.*s\n", c, vendor,
                   family, model, static_cast<int>(name.size()), name.data());
        out.printf("stepping\t: %u\nmicrocode\t: 0x0\ncpu MHz\t\t: %llu.%03llu\n", l1.eax & 0xf, ull(khz / 1000),
                   ull(khz % 1000));
        if (cache_kb) out.printf("cache size\t: %u KB\n", cache_kb);
        out.printf("physical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\n", ncpu, c, ncpu);
        out.printf("apicid\t\t: %u\ninitial apicid\t: %u\n", cpu->apic_id, cpu->apic_id);
        out.printf("fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t:", l0.eax);
        for (const Flag& f : FLAGS) {
            if (f.leaf >= 0x80000000 ? f.leaf > e0.eax : f.leaf > l0.eax) continue;
            if ((reg_of(arch::cpuid(f.leaf), f.reg) >> f.bit) & 1) out.printf(" %s", f.name);
        }
        out.printf("\nbugs\t\t:\nbogomips\t: %llu.%02llu\n", ull(khz * 2 / 1000), ull((khz * 2 % 1000) / 10));
        out.printf("clflush size\t: %u\ncache_alignment\t: %u\n", ((l1.ebx >> 8) & 0xff) * 8, ((l1.ebx >> 8) & 0xff) * 8);
        if (addr) out.printf("address sizes\t: %u bits physical, %u bits virtual\n", addr & 0xff, (addr >> 8) & 0xff);
        out.puts("power management:\n\n");
    }
    return out.status();
}

// ---- Time and load --------------------------------------------------------------

namespace {

u64 idle_ns_all() {
    u64 idle = 0;
    for (u32 c = 0; c < MAX_CPUS; ++c)
        if (cpus[c] && cpus[c]->online) idle += __atomic_load_n(&cpus[c]->idle_ns, __ATOMIC_RELAXED);
    return idle;
}

}  // namespace

Status show_uptime(SeqBuf& out, const Target&) {
    u64 up = time::monotonic_ns() / 10000000, idle = idle_ns_all() / 10000000;  // centiseconds
    out.printf("%llu.%02llu %llu.%02llu\n", ull(up / 100), ull(up % 100), ull(idle / 100), ull(idle % 100));
    return out.status();
}

Status show_stat_sys(SeqBuf& out, const Target&) {
    u64 up = time::monotonic_ns();
    struct Times {
        u64 busy, idle;
    };
    Times per[MAX_CPUS] = {};
    Times all{0, 0};
    u64 irqs = 0, ctxt = 0;
    for (u32 c = 0; c < MAX_CPUS; ++c) {
        if (!cpus[c] || !cpus[c]->online) continue;
        u64 idle = __atomic_load_n(&cpus[c]->idle_ns, __ATOMIC_RELAXED);
        per[c] = {(up > idle ? up - idle : 0) / NS_PER_TICK, idle / NS_PER_TICK};
        all.busy += per[c].busy;
        all.idle += per[c].idle;
        irqs += __atomic_load_n(&cpus[c]->irq_count, __ATOMIC_RELAXED);
        ctxt += sched::context_switches(c);
    }
    // Busy time is not split into user and system time: it all shows as user.
    out.printf("cpu  %llu 0 0 %llu 0 0 0 0 0 0\n", ull(all.busy), ull(all.idle));
    for (u32 c = 0; c < MAX_CPUS; ++c)
        if (cpus[c] && cpus[c]->online) out.printf("cpu%u %llu 0 0 %llu 0 0 0 0 0 0\n", c, ull(per[c].busy), ull(per[c].idle));
    // Linux lists every interrupt number after the total; Keel counts only
    // the total.
    out.printf("intr %llu\nctxt %llu\n", ull(irqs), ull(ctxt));
    u64 boot = (time::realtime_ns() - up) / 1000000000;
    proc::ProcCounts pc = proc::count_processes();
    out.printf("btime %llu\nprocesses %llu\nprocs_running %u\nprocs_blocked %u\n", ull(boot),
               ull(proc::forks_since_boot()), pc.running, pc.blocked);
    out.puts("softirq 0 0 0 0 0 0 0 0 0 0 0\n");
    return out.status();
}

// ---- Identity -------------------------------------------------------------------

Status show_version(SeqBuf& out, const Target&) {
    new_utsname u = uts::snapshot();
    out.printf("%s version %s (keel@keel) (g++ (GCC) %s) %s\n", u.sysname, u.release, __VERSION__, u.version);
    return out.status();
}

Status show_cmdline_sys(SeqBuf& out, const Target&) {
    out.printf("%s\n", boot_info.cmdline);
    return out.status();
}

Status show_devices(SeqBuf& out, const Target&) {
    out.puts("Character devices:\n");
    for_each_chrdev([](u32 major, const char* name, void* ctx) { static_cast<SeqBuf*>(ctx)->printf("%3u %s\n", major, name); },
                    &out);
    out.puts("\nBlock devices:\n");
    return out.status();
}

Status show_filesystems(SeqBuf& out, const Target&) {
    // Registration order as on Linux; only the types Keel has are listed.
    static const char* const names[] = {"sysfs", "tmpfs", "proc", "cgroup", "cgroup2", "devtmpfs", "debugfs",
                                        "tracefs", "securityfs", "bpf", "ramfs", "hugetlbfs", "devpts", "ext3",
                                        "ext2", "ext4", "fuse", "fusectl", "mqueue", "pstore"};
    for (const char* n : names) {
        if (!find_fs_type(n)) continue;
        bool block = n[0] == 'e' && n[1] == 'x' && n[2] == 't';
        out.printf("%s\t%s\n", block ? "" : "nodev", n);
    }
    return out.status();
}

}  // namespace keel::fs::procfs
