#include "fs/sysfs/sysfs.h"

#include <linux/magic.h>

#include "fs/proc/procfs_internal.h"
#include "kernel/sched/scheduler.h"
#include "lib/alloc.h"

namespace keel::fs {

namespace {

using procfs::DirKind;
using procfs::ProcEntry;

using procfs::Target;

Status show_cpus(SeqBuf& out, const Target&) {
    put_cpu_list(out, sched::online_mask());
    out.putc('\n');
    return {};
}

Status show_empty_line(SeqBuf& out, const Target&) {
    out.putc('\n');
    return {};
}

Status show_kernel_max(SeqBuf& out, const Target&) {
    out.puts("63\n");  // MAX_CPUS - 1
    return {};
}

Status show_thp(SeqBuf& out, const Target&) {
    out.puts("always madvise [never]\n");
    return {};
}

constexpr u32 REG = S_IFREG | 0444;
constexpr u32 DIR = S_IFDIR | 0755;

const ProcEntry CPU_ENTRIES[] = {
    {"kernel_max", REG, show_kernel_max}, {"offline", REG, show_empty_line}, {"online", REG, show_cpus},
    {"possible", REG, show_cpus},         {"present", REG, show_cpus},
};
const ProcEntry SYSTEM_ENTRIES[] = {
    {"cpu", DIR, nullptr, nullptr, nullptr, CPU_ENTRIES, procfs::count_of(CPU_ENTRIES)},
};
const ProcEntry DEVICES_ENTRIES[] = {
    {"system", DIR, nullptr, nullptr, nullptr, SYSTEM_ENTRIES, procfs::count_of(SYSTEM_ENTRIES)},
};
const ProcEntry THP_ENTRIES[] = {
    {"enabled", REG, show_thp},
};
const ProcEntry MM_ENTRIES[] = {
    {"transparent_hugepage", DIR, nullptr, nullptr, nullptr, THP_ENTRIES, procfs::count_of(THP_ENTRIES)},
};
const ProcEntry KERNEL_ENTRIES[] = {
    {"mm", DIR, nullptr, nullptr, nullptr, MM_ENTRIES, procfs::count_of(MM_ENTRIES)},
};
const ProcEntry FS_ENTRIES[] = {
    {"cgroup", S_IFDIR | 0555},
};

const ProcEntry SYS_ROOT[] = {
    {"block", DIR},
    {"bus", DIR},
    {"class", DIR},
    {"dev", DIR},
    {"devices", DIR, nullptr, nullptr, nullptr, DEVICES_ENTRIES, procfs::count_of(DEVICES_ENTRIES)},
    {"firmware", DIR},
    {"fs", DIR, nullptr, nullptr, nullptr, FS_ENTRIES, procfs::count_of(FS_ENTRIES)},
    {"hypervisor", DIR},
    {"kernel", DIR, nullptr, nullptr, nullptr, KERNEL_ENTRIES, procfs::count_of(KERNEL_ENTRIES)},
    {"module", DIR},
    {"power", DIR},
};

Result<RefPtr<Superblock>> sysfs_mount(const FsType& type, StringView, u32 flags, StringView) {
    DevId dev = TRY(alloc_anon_dev());
    auto made = make<procfs::ProcSuper>(type, dev, SYSFS_MAGIC, 4096u);
    if (made.is_error()) {
        free_anon_dev(dev);
        return made.error();
    }
    RefPtr<procfs::ProcSuper> sb(made.value());
    sb->set_read_only(flags & MS_RDONLY);
    TRY(sb->init(SYS_ROOT, procfs::count_of(SYS_ROOT), DirKind::Table));
    return RefPtr<Superblock>(move(sb));
}

FsType g_sysfs_type{"sysfs", SYSFS_MAGIC, &sysfs_mount};

}  // namespace

FsType& sysfs_type() { return g_sysfs_type; }

}  // namespace keel::fs
