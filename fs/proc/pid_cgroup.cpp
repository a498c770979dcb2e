// /proc/<pid>/cgroup: "0::/path" for the one cgroup v2 hierarchy.
#include "fs/proc/procfs_internal.h"
#include "kernel/cgroup/cgroupfs.h"
#include "kernel/process/process.h"

namespace keel::fs::procfs {

Status show_cgroup(SeqBuf& out, const Target& t) {
    cgroup::Cgroup* c = nullptr;
    proc::lock_tree();
    if (proc::Process* p = proc::process_slot(t.tgid)) {
        sched::Thread* th = t.tid ? proc::find_thread(t.tid) : p->thread;
        if (th && th->process == p) c = &cgroup::of(*th);
        else if (p->cgroup) c = p->cgroup;  // a zombie keeps its cgroup
        if (c) cgroup::get(*c);
    }
    proc::unlock_tree();
    if (!c) return Error(ESRCH);
    Status st = cgroup::show_proc_cgroup(out, *c);
    cgroup::put(c);
    return st;
}

}  // namespace keel::fs::procfs
