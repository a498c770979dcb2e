// procfs's classes, shared by its files: the instance, the inode kinds
// (generated files, symlinks and magic links, table-driven and dynamic
// directories) and the tables that describe /proc's layout.
//
// Nothing under /proc is stored: every lookup makes a fresh inode that
// names its target (a process, thread or descriptor by number) and every
// read generates the text anew. Directories whose entries come and go
// (the pids, task/, fd/) answer revalidate() with false, so the dentry
// cache never serves a stale name.
#pragma once

#include "fs/core/superblock.h"
#include "fs/proc/seq.h"

namespace keel::fs::procfs {

struct ProcEntry;
enum class DirKind : u8 { Table, Root, Pid, Task, Fd, FdInfo };

class ProcSuper final : public Superblock {
public:
    ProcSuper(const FsType& type, DevId dev, u64 magic, u32 file_size);
    // The root directory shows `table` (procfs adds the pids).
    Status init(const ProcEntry* table, usize n, DirKind kind);
    // What stat(2) shows as the size of regular files: 0 on procfs, 4096 on
    // sysfs.
    u32 file_size() const { return file_size_; }
    Status statfs(StatFs& out) override;
    u64 next_ino() { return __atomic_add_fetch(&next_ino_, 1, __ATOMIC_RELAXED); }

private:
    u64 next_ino_ = 0;  // the root is 1
    u64 magic_;
    u32 file_size_;
};

// What an inode below a pid directory is about. tgid 0: system-wide.
struct Target {
    int tgid = 0;
    int tid = 0;        // task/<tid>/...; 0 for the process
    u64 start_ns = 0;   // the process's start time: pids are reused
    int fd = -1;        // fd/<n>, fdinfo/<n>
};

using ShowFn = Status (*)(SeqBuf& out, const Target& t);
// Link bodies; `reader` is the calling process's tgid.
using LinkFn = Status (*)(SeqBuf& out, const Target& t);
using JumpFn = Result<Path> (*)(const Target& t);
// Writable files: takes n bytes from in[at..] written at `off`; returns
// how many it consumed.
using StoreFn = Result<usize> (*)(const Target& t, u64 off, DataBuffer& in, usize at, usize n);
// Files whose bytes are not text generated whole (/proc/<pid>/mem): reads
// up to n bytes at `off` into out[at..].
using RawReadFn = Result<usize> (*)(const Target& t, u64 off, DataBuffer& out, usize at, usize n);
// Files whose open descriptions keep state (pressure files): makes the
// description open(2) installs (see Inode::open_description).
using OpenFn = Result<OpenFile*> (*)(File& file, const Target& t);

struct ProcEntry {
    const char* name;
    u32 mode;                             // type and permissions
    ShowFn show = nullptr;                // regular files
    LinkFn link = nullptr;                // symlinks
    JumpFn jump = nullptr;                // magic links
    const ProcEntry* children = nullptr;  // table directories
    usize nchildren = 0;
    DirKind kind = DirKind::Table;
    StoreFn store = nullptr;              // writable regular files
    RawReadFn raw_read = nullptr;         // instead of show
    OpenFn open = nullptr;                // a description of its own
};

template <usize N>
constexpr usize count_of(const ProcEntry (&)[N]) {
    return N;
}

class ProcInode : public Inode {
public:
    ProcInode(ProcSuper& sb, u32 mode, const Target& t);
    const Target& target() const { return target_; }
    ProcSuper& psb() const { return static_cast<ProcSuper&>(sb()); }

protected:
    Target target_;
};

class ProcFile final : public ProcInode {
public:
    ProcFile(ProcSuper& sb, u32 mode, const Target& t, const ProcEntry& e)
        : ProcInode(sb, mode, t), show_(e.show), store_(e.store), raw_read_(e.raw_read), open_(e.open) {}
    bool generated() const override { return true; }
    Result<usize> read(u64 off, DataBuffer& out, usize at, usize n) override;
    Result<usize> write(u64 off, DataBuffer& in, usize at, usize n) override;
    // O_TRUNC and truncate(2) leave generated files alone.
    Status truncate(u64) override { return {}; }
    Result<OpenFile*> open_description(File& file) override {
        return open_ ? open_(file, target_) : Result<OpenFile*>(static_cast<OpenFile*>(nullptr));
    }

private:
    ShowFn show_;
    StoreFn store_;
    RawReadFn raw_read_;
    OpenFn open_;
};

class ProcLink final : public ProcInode {
public:
    ProcLink(ProcSuper& sb, u32 mode, const Target& t, LinkFn link_fn, JumpFn jump_fn)
        : ProcInode(sb, mode, t), link_(link_fn), jump_(jump_fn) {}
    Result<usize> get_link(char* buf, usize size, void* task) override;
    bool is_magic_link() const override { return jump_ != nullptr; }
    Result<Path> jump_link(void* task) override;

private:
    LinkFn link_;
    JumpFn jump_;
};

class ProcDir final : public ProcInode {
public:
    ProcDir(ProcSuper& sb, u32 mode, const Target& t, const ProcEntry* table, usize n, DirKind kind)
        : ProcInode(sb, mode, t), table_(table), n_(n), kind_(kind) {}
    Result<RefPtr<Inode>> lookup(StringView name) override;
    Status iterate(u64 pos, DirEmitter& out) override;
    bool revalidate(StringView name, Inode* cached) override;

private:
    Result<RefPtr<Inode>> lookup_dynamic(StringView name);
    Status iterate_dynamic(u64 pos, DirEmitter& out);

    const ProcEntry* table_;
    usize n_;
    DirKind kind_;
};

// Makes the inode an entry describes, for `t`.
Result<RefPtr<Inode>> make_entry(ProcSuper& sb, const ProcEntry& e, const Target& t);
// The owner a pid directory's contents get (the process's effective ids).
void set_owner(Inode& inode, const Target& t);

// ---- The tables (the layout of /proc) ----
extern const ProcEntry PRESSURE_ENTRIES[3];  // pressure.cpp
extern const ProcEntry ROOT_ENTRIES[];
extern const usize ROOT_COUNT;
extern const ProcEntry PID_ENTRIES[];
extern const usize PID_COUNT;
extern const ProcEntry TID_ENTRIES[];
extern const usize TID_COUNT;

// ---- Helpers shared by the files ----
// "123" -> 123; -1 for anything that is not a plain decimal number.
int parse_number(StringView name);
// The caller's process id and thread id.
int reader_tgid();
int reader_tid();
// The caller's root, to render paths from.
Path reader_root();
// Renders `path` as /proc/<pid>/fd links show it (" (deleted)" included).
Status put_path(SeqBuf& out, const Path& path);

// pid_files.cpp
Status show_stat(SeqBuf& out, const Target& t);
Status show_statm(SeqBuf& out, const Target& t);
Status show_status(SeqBuf& out, const Target& t);
Status show_cmdline(SeqBuf& out, const Target& t);
Status show_environ(SeqBuf& out, const Target& t);
Status show_comm(SeqBuf& out, const Target& t);
Result<usize> store_comm(const Target& t, u64 off, DataBuffer& in, usize at, usize n);
// pid_cgroup.cpp
Status show_cgroup(SeqBuf& out, const Target& t);
// pid_mem.cpp
Result<usize> read_mem(const Target& t, u64 off, DataBuffer& out, usize at, usize n);
Status show_maps(SeqBuf& out, const Target& t);
Status show_limits(SeqBuf& out, const Target& t);
Status show_mounts(SeqBuf& out, const Target& t);
Status show_mountinfo(SeqBuf& out, const Target& t);
Status show_fdinfo(SeqBuf& out, const Target& t);
// pid_oom.cpp
Status show_oom_score_adj(SeqBuf& out, const Target& t);
Result<usize> store_oom_score_adj(const Target& t, u64 off, DataBuffer& in, usize at, usize n);
Status show_oom_adj(SeqBuf& out, const Target& t);
Result<usize> store_oom_adj(const Target& t, u64 off, DataBuffer& in, usize at, usize n);
Status show_oom_score(SeqBuf& out, const Target& t);
// pid_links.cpp
Status link_fd(SeqBuf& out, const Target& t);
Result<Path> jump_fd(const Target& t);
Status link_cwd(SeqBuf& out, const Target& t);
Result<Path> jump_cwd(const Target& t);
Status link_root(SeqBuf& out, const Target& t);
Result<Path> jump_root(const Target& t);
Status link_exe(SeqBuf& out, const Target& t);
Result<Path> jump_exe(const Target& t);
// sys_files.cpp
Status show_meminfo(SeqBuf& out, const Target& t);
Status show_cpuinfo(SeqBuf& out, const Target& t);
Status show_uptime(SeqBuf& out, const Target& t);
Status show_loadavg(SeqBuf& out, const Target& t);
// sched_files.cpp
Status show_pid_sched(SeqBuf& out, const Target& t);
Status show_pid_schedstat(SeqBuf& out, const Target& t);
Status show_schedstat(SeqBuf& out, const Target& t);
Status show_sched_rt_period(SeqBuf& out, const Target& t);
// A sysctl's integer as written (an optional sign, digits, trailing
// whitespace), or EINVAL.
Result<i64> parse_int(DataBuffer& in, usize at, usize n);
Status show_sched_rt_runtime(SeqBuf& out, const Target& t);
Result<usize> store_sched_rt_period(const Target& t, u64 off, DataBuffer& in, usize at, usize n);
Result<usize> store_sched_rt_runtime(const Target& t, u64 off, DataBuffer& in, usize at, usize n);
Status show_sched_rr_timeslice(SeqBuf& out, const Target& t);
Status show_sched_autogroup(SeqBuf& out, const Target& t);
Status show_sched_cfs_bandwidth_slice(SeqBuf& out, const Target& t);
Status show_sched_deadline_period_max(SeqBuf& out, const Target& t);
Status show_sched_deadline_period_min(SeqBuf& out, const Target& t);
Status show_empty(SeqBuf& out, const Target& t);
Status show_filesystems(SeqBuf& out, const Target& t);
Status show_stat_sys(SeqBuf& out, const Target& t);
Status show_version(SeqBuf& out, const Target& t);
Status show_cmdline_sys(SeqBuf& out, const Target& t);
Status show_devices(SeqBuf& out, const Target& t);

}  // namespace keel::fs::procfs
