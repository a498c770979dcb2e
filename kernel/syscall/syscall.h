// System-call registration and dispatch. Each family file defines its calls
// with SYSCALL(name) { ... }; the handler returns Result<u64>, and dispatch
// is the one place that turns an Error into -errno for user space.
#pragma once

#include <asm/unistd.h>

#include "arch/x86_64/trapframe.h"
#include "lib/result.h"
#include "syscall_names.inc"

namespace keel::sys {

struct SyscallArgs {
    u64 a0, a1, a2, a3, a4, a5;
    arch::TrapFrame* frame;  // the user context: fork, signals and exec edit it
};

using SyscallHandler = Result<u64> (*)(SyscallArgs&);

struct alignas(16) SyscallEntry {
    u64 nr;
    SyscallHandler fn;
};
static_assert(sizeof(SyscallEntry) == 16);

// Fills the dispatch table from the .syscalls section. Once, at boot.
void init_syscalls();
// MSRs for the SYSCALL instruction on this CPU.
void init_syscall_msrs();
const char* syscall_name(u64 nr);

}  // namespace keel::sys

#define SYSCALL(name)                                                                                   \
    static ::keel::Result<::keel::u64> sys_##name(::keel::sys::SyscallArgs& args);                      \
    [[gnu::used, gnu::section(".syscalls")]] static const ::keel::sys::SyscallEntry syscall_reg_##name{ \
        __NR_##name, sys_##name};                                                                       \
    static ::keel::Result<::keel::u64> sys_##name([[maybe_unused]] ::keel::sys::SyscallArgs& args)
