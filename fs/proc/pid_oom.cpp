// /proc/<pid>/oom_score_adj, oom_adj (its legacy scale) and oom_score, in
// Linux 6.12's formats and with its rules: what kubelet and systemd write
// to steer the OOM killer (kernel/cgroup/memcg.cpp) away from a process or
// towards it.
#include <linux/capability.h>
#include <linux/oom.h>

#include "fs/proc/procfs_internal.h"
#include "kernel/cgroup/memcg.h"
#include "kernel/cgroup/parse.h"
#include "kernel/printk.h"
#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "mm/page_alloc.h"

namespace keel::fs::procfs {

namespace {

// Linux reads at most 12 bytes of a write (PROC_NUMBUF less the NUL) and
// reports the write as done whole up to that.
constexpr usize NUMBUF = 12;

// The process a file is about (zombies included), tree lock held.
proc::Process* target_process(const Target& t) {
    proc::Process* p = proc::process_slot(t.tgid);
    if (!p || (t.start_ns && p->start_time_ns != t.start_ns)) return nullptr;
    return p;
}

Result<int> read_adj(const Target& t) {
    proc::lock_tree();
    proc::Process* p = target_process(t);
    int adj = p ? p->oom_score_adj : 0;
    proc::unlock_tree();
    if (!p) return Error(ESRCH);
    return adj;
}

// An int as kstrtoint reads one (base 0, surrounding blanks ignored):
// EINVAL for anything else, ERANGE past an int.
Result<int> parse_written(DataBuffer& in, usize at, usize* n) {
    char buf[NUMBUF + 1] = {};
    if (*n > NUMBUF) *n = NUMBUF;
    if (in.copy_in(at, buf, *n) != *n) return Error(EFAULT);
    i64 v = TRY(cgroup::parse_i64(cgroup::strip(StringView(buf))));
    if (v < -0x80000000ll || v > 0x7fffffffll) return Error(ERANGE);
    return static_cast<int>(v);
}

// Sets process t's oom_score_adj, and that of every other process sharing
// its memory (clone with CLONE_VM but not CLONE_THREAD) unless it is a
// vfork child, which keeps its own. Lowering below the floor (legacy: below
// the value now) takes CAP_SYS_RESOURCE; a new value written with it is the
// floor from then on.
Status set_adj(const Target& t, int adj, bool legacy) {
    bool privileged = caps::capable(CAP_SYS_RESOURCE);
    proc::lock_tree();
    proc::Process* p = target_process(t);
    Status st;
    if (!p) {
        st = Error(ESRCH);
    } else if (!privileged && adj < (legacy ? p->oom_score_adj : p->oom_score_adj_min)) {
        st = Error(EACCES);
    } else {
        auto apply = [&](proc::Process& q) {
            q.oom_score_adj = static_cast<i16>(adj);
            if (!legacy && privileged) q.oom_score_adj_min = static_cast<i16>(adj);
        };
        apply(*p);
        if (p->mm && !p->vfork_done) {
            for (int pid = 2; pid < 32768; ++pid) {
                proc::Process* q = proc::process_slot(pid);
                if (q && q != p && q->state == proc::ProcessState::Running && q->mm == p->mm && !q->vfork_done)
                    apply(*q);
            }
        }
    }
    proc::unlock_tree();
    return st;
}

}  // namespace

Status show_oom_score_adj(SeqBuf& out, const Target& t) {
    out.printf("%d\n", TRY(read_adj(t)));
    return out.status();
}

Result<usize> store_oom_score_adj(const Target& t, u64, DataBuffer& in, usize at, usize n) {
    int adj = TRY(parse_written(in, at, &n));
    if (adj < OOM_SCORE_ADJ_MIN || adj > OOM_SCORE_ADJ_MAX) return Error(EINVAL);
    TRY(set_adj(t, adj, false));
    return n;
}

// oom_adj's -17..15 maps linearly onto oom_score_adj (15 is its maximum).
Status show_oom_adj(SeqBuf& out, const Target& t) {
    int adj = TRY(read_adj(t));
    out.printf("%d\n", adj == OOM_SCORE_ADJ_MAX ? OOM_ADJUST_MAX : adj * -OOM_DISABLE / OOM_SCORE_ADJ_MAX);
    return out.status();
}

Result<usize> store_oom_adj(const Target& t, u64, DataBuffer& in, usize at, usize n) {
    int v = TRY(parse_written(in, at, &n));
    if (v < OOM_DISABLE || v > OOM_ADJUST_MAX) return Error(EINVAL);
    int adj = v == OOM_ADJUST_MAX ? OOM_SCORE_ADJ_MAX : v * OOM_SCORE_ADJ_MAX / -OOM_DISABLE;
    TRY(set_adj(t, adj, true));
    static bool warned;
    if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED)) {
        proc::Process* me = proc::current_process();
        pr_warn("%s (%d): /proc/%d/oom_adj is deprecated, please use /proc/%d/oom_score_adj instead.",
                me ? me->comm : "?", me ? me->pid : 0, t.tgid, t.tgid);
    }
    return n;
}

// The badness against all of memory (no swap), scaled as Linux has shown it
// for long: 1000 plus thousandths of memory, times 2/3 (0..2000); 0 for a
// process the killer never picks.
Status show_oom_score(SeqBuf& out, const Target& t) {
    {
        proc::lock_tree();
        bool exists = target_process(t) != nullptr;
        proc::unlock_tree();
        if (!exists) return Error(ESRCH);
    }
    i64 total = static_cast<i64>(mm::mem_stats().total_pages);
    if (!total) total = 1;
    i64 badness;
    u64 points = 0;
    if (memcg::badness(t.tgid, static_cast<u64>(total), &badness))
        points = static_cast<u64>((1000 + badness * 1000 / total) * 2 / 3);
    out.printf("%llu\n", static_cast<unsigned long long>(points));
    return out.status();
}

}  // namespace keel::fs::procfs
