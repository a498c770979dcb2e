#include "kernel/process/process.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/scheduler.h"
#include "mm/address_space.h"

extern "C" [[noreturn]] void enter_user_asm(const keel::arch::TrapFrame* frame, keel::u64 stack_top);

namespace keel::proc {

Result<int> FdTable::install(fs::OpenFile* f, int from, bool cloexec_flag) {
    for (int fd = from; fd < MAX_FDS; ++fd) {
        if (files[fd]) continue;
        files[fd] = f;
        if (cloexec_flag) cloexec[fd / 64] |= 1ull << (fd % 64);
        else cloexec[fd / 64] &= ~(1ull << (fd % 64));
        return fd;
    }
    return Error(EMFILE);
}

fs::OpenFile* FdTable::get(int fd) { return fd >= 0 && fd < MAX_FDS ? files[fd] : nullptr; }

Status FdTable::close(int fd) {
    fs::OpenFile* f = get(fd);
    if (!f) return Error(EBADF);
    files[fd] = nullptr;
    f->put();
    return {};
}

u64 page_table_of(const Process& p) { return p.mm ? p.mm->page_table() : arch::kernel_pml4(); }

Process* current_process() { return sched::current()->process; }

void exit_to_user(arch::TrapFrame&) {
    Cpu* c = current_cpu_raw();
    if (c->need_resched && c->preempt_count == 0) sched::schedule();
}

namespace {

// `wstatus` is encoded as wait(2) reports it.
[[noreturn]] void do_exit(int wstatus) {
    Process* p = current_process();
    p->exit_status = wstatus;
    p->exited = true;
    if (p->pid == 1) panic("Attempted to kill init! exitcode=0x%08x", static_cast<unsigned>(wstatus));
    arch::write_cr3(arch::kernel_pml4());
    sched::exit_current();
}

}  // namespace

void exit_group(int status) { do_exit((status & 0xff) << 8); }

void exit_killed(int signal) { do_exit(signal & 0x7f); }

void enter_user(const arch::TrapFrame& frame) {
    arch::irq_disable();
    IrqsOffProof proof;
    Cpu& cpu = this_cpu(proof);
    cpu.user_entry = frame;
    enter_user_asm(&cpu.user_entry, sched::current()->stack_top);
}

}  // namespace keel::proc
