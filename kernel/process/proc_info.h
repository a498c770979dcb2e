// Read-only views of processes for /proc (fs/proc). Everything here takes
// the process-tree lock, copies what it needs and lets go: the caller gets
// values and references, never a Process pointer it could keep past a
// sleep.
#pragma once

#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"

namespace keel::proc {

struct TaskInfo {
    int tgid = 0, tid = 0, ppid = 0, pgid = 0, sid = 0;
    u32 tty_nr = 0;  // the controlling terminal, encoded as st_rdev
    int tpgid = -1;  // its foreground process group
    char comm[16] = {};
    char state = 'R';  // R S D T Z, as /proc/<pid>/stat shows
    int nthreads = 0;
    Cred cred;
    u32 umask = 0;
    int nice = 0;
    int policy = 0, rt_priority = 0;  // SCHED_*, 1..99 for FIFO/RR
    sched::ThreadSchedInfo sched{};
    int exit_signal = 0;
    u32 cpu = 0;             // the CPU the thread last ran on
    u64 affinity = 0;
    u64 start_time_ns = 0;   // monotonic
    u64 runtime_ns = 0;      // CPU time (threads summed for a process)
    u64 utime_ns = 0, stime_ns = 0;    // its user/system split (kernel/process/cputime.h)
    u64 cutime_ns = 0, cstime_ns = 0;  // reaped children's
    u64 nvcsw = 0, nivcsw = 0;
    sig::SigSet sig_pending = 0, sig_shared = 0, sig_blocked = 0, sig_ignored = 0, sig_caught = 0;
    bool no_new_privs = false;
    bool zombie = false;
    ExecLayout layout;
    RLimit rlimits[RLIMIT_COUNT] = {};
};

// Process `tgid`, as its thread `tid` sees it (0: the process as a whole,
// described by its main thread). ESRCH when there is no such process, or
// the thread is not one of its threads.
Status task_info(int tgid, int tid, TaskInfo& out);
// Whether `tgid` exists (zombies included) and, when `start_ns` is not 0,
// is the same process that started then (pids are reused).
bool process_alive(int tgid, u64 start_ns = 0);
// The start time of `tgid`, or 0 when it does not exist.
u64 process_start_time(int tgid);
// The thread group `tid` belongs to, or 0.
int tgid_of(int tid);
// The smallest process id >= from (zombies included), or 0 when none.
int next_tgid(int from);
// The smallest thread id >= from among tgid's threads, or 0.
int next_tid(int tgid, int from);
// Counts for /proc/stat and /proc/loadavg.
struct ProcCounts {
    u32 processes = 0;  // thread groups
    u32 threads = 0;
    u32 running = 0;    // runnable threads
    u32 blocked = 0;    // in uninterruptible sleep (Keel: none tracked)
};
ProcCounts count_processes();
// Processes forked since boot (/proc/stat's "processes").
u64 forks_since_boot();
// The last pid handed out (/proc/loadavg's last field).
int last_pid_allocated();

// References, taken under the tree lock so that an exiting process cannot
// free them meanwhile. ESRCH when the process is gone or has none.
Result<mm::AddressSpace*> get_mm(int tgid);  // put() when done
enum class PathKind { Cwd, Root, Exe };
Result<fs::Path> get_path(int tgid, PathKind which);
// The open file at `fd`, referenced; ENOENT.
Result<fs::FileRef> get_fd(int tgid, int fd, bool* cloexec = nullptr);
// The smallest open descriptor >= from, or -1.
int next_fd(int tgid, int from);
// The number of slots in the descriptor table (status's FDSize).
int fd_table_size(int tgid);

}  // namespace keel::proc
