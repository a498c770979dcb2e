// Processes: what user threads share (address space, file descriptors,
// identity), the first user process, and the way back to user mode.
#pragma once

#include "arch/x86_64/trapframe.h"
#include "fs/file.h"
#include "kernel/sched/thread.h"
#include "lib/result.h"

namespace keel::mm {
class AddressSpace;
}

namespace keel::proc {

constexpr int MAX_FDS = 1024;  // the default RLIMIT_NOFILE soft limit

struct FdTable {
    fs::OpenFile* files[MAX_FDS] = {};
    u64 cloexec[MAX_FDS / 64] = {};

    // Lowest free descriptor >= from, or EMFILE.
    Result<int> install(fs::OpenFile* f, int from = 0, bool cloexec_flag = false);
    fs::OpenFile* get(int fd);  // borrowed reference, nullptr if not open
    Status close(int fd);
};

struct Process {
    int pid = 0;
    Process* parent = nullptr;
    mm::AddressSpace* mm = nullptr;
    FdTable* fds = nullptr;
    char comm[16] = {};
    int exit_status = 0;
    bool exited = false;
};

u64 page_table_of(const Process& p);
Process* current_process();

// Turns the calling kernel thread into pid 1 running `path` from the
// initramfs. Returns only on failure (the caller reports it and panics).
Status run_init(const char* path, const char* const* argv, const char* const* envp);

// Work due before returning to user mode (rescheduling, later signals).
void exit_to_user(arch::TrapFrame& frame);

[[noreturn]] void exit_group(int status);
// Ends the process as a fatal signal's default action does.
[[noreturn]] void exit_killed(int signal);

// Enters user mode with the register state in `frame`, discarding this
// thread's kernel stack. Never returns.
[[noreturn]] void enter_user(const arch::TrapFrame& frame);

}  // namespace keel::proc
