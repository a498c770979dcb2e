#include "kernel/process/rseq.h"

#include "kernel/percpu.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "kernel/uaccess.h"

namespace keel::rseq {

namespace {

// struct rseq as Linux 6.3+ lays it out (the uapi headers here are older).
constexpr uptr OFF_CPU_ID_START = 0;
constexpr uptr OFF_CPU_ID = 4;
constexpr uptr OFF_RSEQ_CS = 8;
constexpr uptr OFF_FLAGS = 16;
constexpr uptr OFF_NODE_ID = 20;
constexpr uptr OFF_MM_CID = 24;
constexpr u32 ORIG_SIZE = 32;
constexpr u32 ALIGNMENT = 32;     // AT_RSEQ_ALIGN
constexpr u32 FEATURE_SIZE = 28;  // AT_RSEQ_FEATURE_SIZE: through mm_cid
constexpr u32 NO_RESTART_FLAGS = 7;  // the deprecated RSEQ_CS_FLAG_NO_RESTART_ON_*

struct RseqCs {
    u32 version;
    u32 flags;
    u64 start_ip;
    u64 post_commit_offset;
    u64 abort_ip;
};
static_assert(sizeof(RseqCs) == 32);

sched::Thread& self() { return *sched::current(); }

// The concurrency id: compact per address space in Linux; 0 for a
// single-threaded process, otherwise the CPU (unique among running threads).
u32 mm_cid(u32 cpu) {
    proc::Process* p = self().process;
    return p && p->nthreads <= 1 ? 0 : cpu;
}

Status write_ids(uptr area, u32 cpu_start, u32 cpu, u32 node, u32 cid) {
    TRY(UserOut<u32>(area + OFF_CPU_ID_START).write(cpu_start));
    TRY(UserOut<u32>(area + OFF_CPU_ID).write(cpu));
    TRY(UserOut<u32>(area + OFF_NODE_ID).write(node));
    TRY(UserOut<u32>(area + OFF_MM_CID).write(cid));
    return {};
}

// Reads and checks the critical-section descriptor rseq_cs points to;
// a null pointer gives an all-zero one. EINVAL for a malformed one (or a
// wrong signature before abort_ip), which costs the thread a SIGSEGV.
Result<RseqCs> current_cs(uptr area, u32 sig) {
    u64 ptr = TRY(UserIn<u64>(area + OFF_RSEQ_CS).read());
    if (!ptr) return RseqCs{};
    if (ptr >= mm::USER_END) return Error(EINVAL);
    RseqCs cs = TRY(UserIn<RseqCs>(ptr).read());
    if (cs.start_ip >= mm::USER_END || cs.start_ip + cs.post_commit_offset >= mm::USER_END ||
        cs.abort_ip >= mm::USER_END || cs.version > 0)
        return Error(EINVAL);
    if (cs.start_ip + cs.post_commit_offset < cs.start_ip) return Error(EINVAL);
    if (cs.abort_ip - cs.start_ip < cs.post_commit_offset) return Error(EINVAL);  // abort_ip inside
    u32 found = TRY(UserIn<u32>(cs.abort_ip - 4).read());
    if (found != sig) return Error(EINVAL);
    return cs;
}

// Restarts a critical section the thread is in, if it was disturbed.
Status fixup_ip(sched::Thread& t, arch::TrapFrame& f) {
    RseqCs cs = TRY(current_cs(t.rseq_area, t.rseq_sig));
    if (f.rip - cs.start_ip >= cs.post_commit_offset) {
        // Not inside: the descriptor is stale, clear it.
        return UserOut<u64>(t.rseq_area + OFF_RSEQ_CS).write(0ull);
    }
    if (cs.flags & NO_RESTART_FLAGS) return Error(EINVAL);
    u32 flags = TRY(UserIn<u32>(t.rseq_area + OFF_FLAGS).read());
    if (flags & NO_RESTART_FLAGS) return Error(EINVAL);
    bool event = t.rseq_event;
    t.rseq_event = false;
    if (!event) return {};
    TRY(UserOut<u64>(t.rseq_area + OFF_RSEQ_CS).write(0ull));
    f.rip = cs.abort_ip;
    return {};
}

void handle(arch::TrapFrame* f) {
    sched::Thread& t = self();
    if (!t.rseq_area) return;
    t.rseq_resume = false;
    Status st = f ? fixup_ip(t, *f) : Status{};
    if (st.is_ok()) {
        u32 cpu = this_cpu_id_unstable();
        st = write_ids(t.rseq_area, cpu, cpu, 0, mm_cid(cpu));
    }
    if (st.is_error()) sig::force_fault_signal(SIGSEGV, SI_KERNEL, 0);
}

}  // namespace

Status register_area(uptr area, u32 len, u32 sig) {
    sched::Thread& t = self();
    if (t.rseq_area) {
        if (t.rseq_area != area || t.rseq_len != len) return Error(EINVAL);
        if (t.rseq_sig != sig) return Error(EPERM);
        return Error(EBUSY);
    }
    if (len < ORIG_SIZE || (len == ORIG_SIZE && area % ORIG_SIZE) ||
        (len != ORIG_SIZE && (area % ALIGNMENT || len < FEATURE_SIZE)))
        return Error(EINVAL);
    if (!user_range_ok(area, len)) return Error(EFAULT);
    // Linux 6.12 refuses an area it cannot write (EFAULT) rather than
    // failing on the way out.
    u32 cpu = this_cpu_id_unstable();
    TRY(write_ids(area, cpu, cpu, 0, mm_cid(cpu)));
    t.rseq_area = area;
    t.rseq_len = len;
    t.rseq_sig = sig;
    t.rseq_resume = true;  // cpu_id is written before the return to user mode
    return {};
}

Status unregister_area(uptr area, u32 len, u32 sig) {
    sched::Thread& t = self();
    if (!t.rseq_area || t.rseq_area != area) return Error(EINVAL);
    if (len != t.rseq_len) return Error(EINVAL);
    if (sig != t.rseq_sig) return Error(EPERM);
    TRY(write_ids(area, 0, static_cast<u32>(-1) /* RSEQ_CPU_ID_UNINITIALIZED */, 0, 0));
    t.rseq_area = 0;
    t.rseq_len = 0;
    t.rseq_sig = 0;
    t.rseq_resume = t.rseq_event = false;
    return {};
}

void notify_resume(arch::TrapFrame& frame) { handle(&frame); }

void signal_deliver(arch::TrapFrame& frame) {
    sched::Thread& t = self();
    if (!t.rseq_area) return;
    t.rseq_event = true;
    handle(&frame);
}

void fork(sched::Thread& child, const sched::Thread& parent) {
    child.rseq_area = parent.rseq_area;
    child.rseq_len = parent.rseq_len;
    child.rseq_sig = parent.rseq_sig;
    child.rseq_resume = child.rseq_area != 0;
    child.rseq_event = false;
}

void exec(sched::Thread& t) {
    t.rseq_area = 0;
    t.rseq_len = 0;
    t.rseq_sig = 0;
    t.rseq_resume = t.rseq_event = false;
}

}  // namespace keel::rseq
