// Pressure stall information: how long tasks wait for CPU, memory and IO,
// per group (the system, and each cgroup), as Linux's PSI reports it. The
// arithmetic is in psi_core.h; this is the kernel side: groups, the hooks
// the scheduler calls, the averaging and trigger kthread ("psimon"), and
// the open-file behaviour of pressure files.
//
// For the scheduler (called with the run-queue lock of `cpu` held and
// interrupts off; they never allocate or sleep):
//   task_change(t, cpu, clear, set, now)   t's TSK_* flags change
//   task_switch(prev, next, cpu, prev_sleeps, now)   at a context switch
// Idle threads and psimon itself are never counted.
//
// For cgroups (kernel/cgroup), usage:
//   - at mkdir: `PsiGroup* g = TRY(psi::group_create(parent_group));`
//     (the root cgroup uses psi::system_group()); at rmdir, once no task is
//     left: `psi::group_destroy(g)` (open trigger files then poll
//     POLLERR|POLLPRI and writes fail with ENODEV).
//   - `psi::set_group_of(fn)`: fn(thread) returns the thread's cgroup's
//     group (lock-free: called under run-queue locks). Moving a thread
//     between cgroups: `psi::task_move(t, cpu, from, to, now)` under its
//     run-queue lock.
//   - {cpu,memory,io}.pressure: show with `psi::show(*g, psi::RES_CPU, out)`;
//     make the file's inode override Inode::open_description to return
//     `psi::open_pressure_file(file, g, res, psi::WriteStyle::Kernfs)`,
//     which handles write (a trigger, one per description), poll (POLLPRI
//     per event) and release (removes the trigger). The group stays
//     allocated while such descriptions hold it.
#pragma once

#include "fs/file.h"
#include "kernel/psi/psi_core.h"

namespace keel::sched {
struct Thread;
}
namespace keel::fs {
class File;
}

namespace keel::psi {

// Markers kept in Thread::psi_flags beside the counted TSK_* states: the
// thread is blocked for IO (counts as TSK_IOWAIT once it sleeps), or is
// stalled on memory (reclaim).
enum : u8 { PF_IN_IOWAIT = 0x40, PF_IN_MEMSTALL = 0x80 };
constexpr u8 TSK_ALL = TSK_IOWAIT | TSK_MEMSTALL | TSK_RUNNING | TSK_ONCPU | TSK_MEMSTALL_RUNNING;
// What a thread leaving a CPU's queue for another's takes along (its ONCPU
// goes with the switch).
constexpr u8 TSK_QUEUED = TSK_ALL & ~TSK_ONCPU;

struct PsiGroup;

PsiGroup* system_group();
Result<PsiGroup*> group_create(PsiGroup* parent);
// Ends the group for its files (triggers detach, writes fail with ENODEV)
// and drops the creator's reference; the memory goes with the last one.
void group_destroy(PsiGroup* g);
// Extra references: a thread that may still name the group after
// group_destroy (an exiting thread whose final switch clears its states)
// needs the memory kept until it is done, e.g. by the cgroup object holding
// a reference until it is freed. The system group ignores both.
void group_get(PsiGroup* g);
void group_put(PsiGroup* g);
// cgroup.pressure: a disabled group counts tasks but accounts no time
// (its pressure files are hidden, as Linux does). After re-enabling, each
// CPU's states resume with its next task change. The system group stays on.
void set_enabled(PsiGroup* g, bool on);
bool enabled(const PsiGroup* g);
void set_group_of(PsiGroup* (*fn)(const sched::Thread& t));
PsiGroup* group_of(const sched::Thread& t);

void task_change(sched::Thread& t, u32 cpu, u8 clear, u8 set, u64 now_ns);
// t joins cpu's run queue (a wake-up, a migration): counted RUNNING there
// unless it already is, and a thread stalled on memory stays so wherever
// it runs.
void task_enqueue(sched::Thread& t, u32 cpu, u64 now_ns);
void task_switch(sched::Thread* prev, sched::Thread* next, u32 cpu, bool prev_sleeps, u64 now_ns);
void task_move(sched::Thread& t, u32 cpu, PsiGroup* from, PsiGroup* to, u64 now_ns);

// Memory stalls (reclaim, refaults): the current thread, under its CPU's
// run-queue lock. IO waits: mark the current thread before it blocks and
// clear the mark once it runs again; task_switch turns the mark into
// TSK_IOWAIT while it sleeps.
void memstall_enter_locked(sched::Thread& current, u32 cpu, u64 now_ns);
void memstall_leave_locked(sched::Thread& current, u32 cpu, u64 now_ns);
void iowait_mark(sched::Thread& current, bool waiting);

// Starts psimon (boot, before user space).
void init();

// The text of a pressure file for `res` of group g, as of now.
void show(PsiGroup& g, Resource res, fs::SeqBuf& out);

// How writes arrive: /proc/pressure's (at most 32 bytes, the last one
// dropped for the NUL) or kernfs's (the whole write, NUL-terminated).
enum class WriteStyle : u8 { Proc, Kernfs };
// The open description of a pressure file: reads go to the file's inode,
// writes create this description's trigger, poll reports its events.
// The opener's CAP_SYS_RESOURCE makes triggers privileged (any window,
// evaluated at window/10 by psimon).
Result<fs::OpenFile*> open_pressure_file(fs::File& file, PsiGroup* g, Resource res, WriteStyle style);

// For tests (tests/ktest/psi_ktest.cpp): a group outside every hierarchy,
// driven by hand; changes are applied to it alone.
void group_change_for_test(PsiGroup& g, u32 cpu, u8 clear, u8 set, u64 now_ns);
GroupCore& core_of(PsiGroup& g);

}  // namespace keel::psi
