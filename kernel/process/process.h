// Processes: what user threads share (address space, file descriptors,
// identity), the first user process, and the way back to user mode.
#pragma once

#include "arch/x86_64/trapframe.h"
#include "fs/core/mount.h"
#include "fs/file.h"
#include "fs/file_ref.h"
#include "kernel/process/caps.h"
#include "kernel/spinlock.h"
#include "kernel/sched/thread.h"
#include "kernel/sched/wait.h"
#include "lib/result.h"

namespace keel::mm {
class AddressSpace;
}
namespace keel::cputime {
struct Times;
}

namespace keel::tty {
class Tty;
}
namespace keel::ptimer {
struct ProcessTimers;
}

namespace keel::proc {

constexpr int MAX_FDS = 1024;  // the default RLIMIT_NOFILE soft limit

// A process's descriptors, shared by its threads. Every operation takes the
// table's lock, under which only references are taken: files are released
// (record locks, the last put) after it is dropped.
class FdTable {
public:
    // Lowest free descriptor in [from, limit), or EMFILE. On success the
    // table owns the caller's reference to f.
    Result<int> install(fs::OpenFile* f, int from = 0, bool cloexec_flag = false, int limit = MAX_FDS);
    // A reference to the file open at fd (empty if none), good for the
    // whole call even if another thread closes fd meanwhile.
    fs::FileRef get(int fd, bool* cloexec_flag = nullptr);
    // Removes fd at once (EBADF if not open); the file goes when its last
    // in-flight user is done. Drops the process's record locks on it.
    Status close(int fd);
    // dup2/dup3: fd names f (a new reference) afterwards, closing what was there.
    void replace(int fd, fs::OpenFile* f, bool cloexec_flag);
    bool cloexec(int fd);
    void set_cloexec(int fd, bool on);
    // close_range(2) over [first, last]: closes, or only marks close-on-exec.
    void close_range(int first, int last, bool cloexec_only);
    void close_on_exec();
    void close_all();
    // fork: a new table with the same descriptors (new references).
    Result<FdTable*> copy();
    // The lowest open descriptor >= from, or -1 (/proc/<pid>/fd).
    int next_open(int from);

private:
    // Removes the lowest open descriptor in [*fd, last] (only close-on-exec
    // ones if asked), setting *fd; nullptr when none is left.
    fs::OpenFile* take_next(int* fd, int last, bool cloexec_only);
    void release(fs::OpenFile* f);

    Spinlock lock_{LockRank::FdTable};
    fs::OpenFile* files_[MAX_FDS] = {};
    u64 cloexec_[MAX_FDS / 64] = {};
};

enum class ProcessState : u8 { Running, Zombie };

struct Cred {
    u32 ruid = 0, euid = 0, suid = 0, fsuid = 0;
    u32 rgid = 0, egid = 0, sgid = 0, fsgid = 0;
    u32 ngroups = 0;
    u32 groups[64] = {};
    // Capability sets, bit CAP_x (kernel/process/caps.h); init holds all.
    u64 cap_effective = caps::ALL, cap_permitted = caps::ALL, cap_inheritable = 0;
    u64 cap_bset = caps::ALL, cap_ambient = 0;
    u32 securebits = 0;  // SECBIT_* (KEEP_CAPS, NOROOT, ...)
};

struct RLimit {
    u64 cur, max;
};

// Where exec put the program's pieces, for /proc/<pid>/{stat,cmdline,
// environ,maps} (Linux keeps these in mm_struct).
struct ExecLayout {
    u64 start_code = 0, end_code = 0, start_data = 0, end_data = 0;
    u64 start_brk = 0, start_stack = 0;
    u64 arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
};
constexpr int RLIMIT_COUNT = 16;  // RLIM_NLIMITS

struct Process {
    int pid = 0;
    int pgid = 0;
    int sid = 0;
    Process* parent = nullptr;
    mm::AddressSpace* mm = nullptr;
    FdTable* fds = nullptr;
    char comm[16] = {};
    sched::Thread* thread = nullptr;  // the thread fork() made (or exec'd in); see any_thread()
    IntrusiveList<sched::Thread, &sched::Thread::group_node> threads;  // tree lock
    int nthreads = 0;
    bool group_exit = false;      // exit_group or a fatal signal: every thread leaves
    int group_exit_status = 0;
    // An execve ending the other threads (sighand lock; sig::end_other_threads):
    // they leave, the last one wakes it on exec_wait.
    sched::Thread* exec_thread = nullptr;
    sched::WaitQueue exec_wait;
    u32 umask = 022;
    Cred cred;
    // The root (chroot(2)) and working directory: other threads change them
    // and /proc reads them, so they are copied out and replaced under
    // fs_lock (the old path is let go of after it).
    fs::Path root();
    fs::Path cwd();
    void set_root(fs::Path p);
    void set_cwd(fs::Path p);
    Spinlock fs_lock{LockRank::FsState};
    fs::Path fs_root;  // fs_lock
    fs::Path fs_cwd;   // fs_lock
    RLimit rlimits[RLIMIT_COUNT] = {};
    int pdeath_signal = 0;
    bool child_subreaper = false;
    bool no_new_privs = false;
    // For /proc/<pid> (fs/proc): exec sets exe and layout, fork copies
    // them; start_time_ns is the monotonic time of the fork.
    fs::Path exe;
    ExecLayout layout;
    u64 start_time_ns = 0;

    // Guarded by the process-tree lock (process.cpp).
    ProcessState state = ProcessState::Running;
    int exit_status = 0;          // as wait(2) encodes it
    int exit_signal = 17;         // SIGCHLD: what the parent is told
    ListNode sibling;             // in parent->children
    IntrusiveList<Process, &Process::sibling> children;
    u64 child_events = 0;         // bumped whenever a child changes state
    sched::WaitQueue child_wait;  // wait4 sleeps here

    sig::Handlers* sighand = nullptr;
    // CPU time of threads that have left, and of reaped children (with
    // what they reaped), for times(2), getrusage(2) and /proc (cputime.cpp).
    u64 dead_runtime_ns = 0, dead_utime_ns = 0;
    u64 children_utime_ns = 0, children_stime_ns = 0;
    // POSIX timers and ITIMER_VIRTUAL/PROF (posix_timers.cpp); made on first use.
    ptimer::ProcessTimers* timers = nullptr;
    Timer alarm_timer;            // ITIMER_REAL / alarm
    u64 alarm_interval_ns = 0;
    // Job control: a stopped process's thread sleeps until SIGCONT.
    bool stopped = false;
    int stop_signal = 0;
    bool report_stopped = false;    // for wait(WUNTRACED)
    bool report_continued = false;  // for wait(WCONTINUED)

    // A zombie's cgroup, with a reference and its pids charge, until it is
    // reaped (kernel/cgroup: cgroup::thread_exit, process_released).
    cgroup::Cgroup* cgroup = nullptr;

    // The controlling terminal, with a reference (drivers/tty/ctty.cpp's lock).
    tty::Tty* ctty = nullptr;

    // vfork: the parent sleeps until the child execs or exits.
    sched::Completion* vfork_done = nullptr;

    // prctl state Linux keeps in the mm: PR_SET_DUMPABLE (0 after a
    // credential change, 1 again after exec) and PR_SET_THP_DISABLE.
    u8 dumpable = 1;
    bool thp_disable = false;

    // /proc/<pid>/oom_score_adj (fs/proc/pid_oom.cpp; tree lock): the OOM
    // killer's bias, -1000 (never chosen) to 1000, and the floor below
    // which only CAP_SYS_RESOURCE may lower it. Kept across fork and exec.
    i16 oom_score_adj = 0;
    i16 oom_score_adj_min = 0;
};

// The page tables a CPU switching to `t` loads (the kernel's for kernel
// threads and exiting ones).
u64 page_table_of(const sched::Thread& t);
Process* current_process();

// Linux's limits for init (inherited from there by everyone).
void default_rlimits(RLimit (&limits)[RLIMIT_COUNT]);

// Process-tree operations (process.cpp).
Result<int> alloc_pid();
void attach_child(Process* parent, Process* child);
// wait4: the pid reaped (0 with WNOHANG and none ready), its status in *wstatus.
// `usage` (optional) gets a reaped child's CPU times, for wait4's rusage.
Result<int> wait_child(int pid, int options, int* wstatus, cputime::Times* usage = nullptr);
// The live process with this pid, or nullptr. Under the tree lock's
// protection only; the caller must not keep it past a sleep.
Process* find_process(int pid);
// Calls f(Process&) for each live (non-zombie) process.
template <typename F>
void for_each_process(F&& f);
void lock_tree();
void unlock_tree();
int last_pid_allocated();  // /proc/loadavg, /proc/stat
Process* process_slot(int pid);  // lock held
// Wakes the parent's wait4 (a child stopped, continued or exited).
void notify_waiters(Process* parent);
// Threads: registration under the tree lock, lookup by tid.
Status add_thread(Process& p, sched::Thread& t, int tid);
sched::Thread* find_thread(int tid);  // tree lock held by the caller, or racy use accepted
// Ends the calling thread only (exit(2) in a multi-threaded process).
[[noreturn]] void exit_thread(int status);
// execve past its point of no return: every other thread of the calling
// one's process ends, and the caller takes over the process's ID as its
// thread ID (Linux's de_thread). Fails when the process is dying (a fatal
// signal, or another thread's exec).
Status become_sole_thread();

// Turns the calling kernel thread into pid 1 running `path` from the
// initramfs. Returns only on failure (the caller reports it and panics).
Status run_init(const char* path, const char* const* argv, const char* const* envp);

// Work due before returning to user mode (rescheduling, later signals).
void exit_to_user(arch::TrapFrame& frame);

[[noreturn]] void exit_group(int status);
template <typename F>
void for_each_process(F&& f) {
    lock_tree();
    for (int pid = 1; pid < 32768; ++pid) {
        Process* p = process_slot(pid);
        if (p && p->state == ProcessState::Running) f(*p);
    }
    unlock_tree();
}

// Ends the process as a fatal signal's default action does (signal | 0x80
// when a core was dumped).
[[noreturn]] void exit_killed(int signal);

// Enters user mode with the register state in `frame`, discarding this
// thread's kernel stack. Never returns.
[[noreturn]] void enter_user(const arch::TrapFrame& frame);

}  // namespace keel::proc
