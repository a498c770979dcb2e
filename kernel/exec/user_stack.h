// The initial stack of a new program, laid out byte for byte as Linux 6.12
// lays it out on x86-64 without address randomization. From the top down:
//
//   8 zero bytes                     (Linux leaves a NULL word at the very top)
//   execfn string                    AT_EXECFN
//   envp strings, envp[0] lowest     env_start .. env_end
//   argv strings, argv[0] lowest     arg_start .. arg_end
//   padding to 16 bytes
//   "x86_64\0"                       AT_PLATFORM
//   16 random bytes                  AT_RANDOM (not aligned)
//   padding, so that rsp % 16 == 0
//   auxv pairs, AT_NULL last         starts right after envp's NULL
//   envp pointers, NULL
//   argv pointers, NULL
//   argc                             <- rsp at entry
//
// execve calls exec_args_check() before the point of no return, when E2BIG
// can still be returned to the caller; user_stack_size() for how much stack
// to prepare; and, once the new image is mapped, user_stack_build() into a
// buffer standing for the top of the new stack.
#pragma once

#include "lib/result.h"
#include "lib/string_view.h"
#include "lib/types.h"

namespace keel::exec {

// MAX_ARG_STRLEN: the longest argument or environment string, NUL included.
constexpr usize kMaxArgStrlen = 32 * 4096;
// ARG_MAX: the budget for strings and pointers never goes below this.
constexpr u64 kArgMax = 32 * 4096;
// _STK_LIM, the default stack rlimit; the budget never exceeds 3/4 of it.
constexpr u64 kDefaultStackLimit = 8 * MiB;

// The strings of an execve, already copied into kernel memory. Lengths
// exclude the NUL, and no string contains one (they were copied up to it).
struct ExecArgs {
    const StringView* argv = nullptr;
    usize argc = 0;
    const StringView* envp = nullptr;
    usize envc = 0;
    // The pathname as execve received it (bprm->filename), or what execveat
    // makes of it ("/dev/fd/3" and the like): AT_EXECFN points at it.
    StringView execfn;
};

// Linux's limits, E2BIG when exceeded (execve(2), "Limits on size of
// arguments and environment"):
//  - each string, NUL included, at most kMaxArgStrlen bytes;
//  - all strings (execfn too) plus 8 bytes per argv and envp pointer at most
//    a quarter of the stack rlimit, capped at 6 MiB and at least kArgMax.
// With argc 0 Linux adds an empty argv[0], and it counts here.
Status exec_args_check(const ExecArgs& args, u64 stack_rlimit);

// The auxiliary vector entries the caller decides. The entries that point
// into the stack (AT_RANDOM, AT_EXECFN, AT_PLATFORM) are filled in by
// user_stack_build.
struct AuxValues {
    u64 sysinfo_ehdr = 0;   // vDSO image; 0 leaves AT_SYSINFO_EHDR out, as Linux without one
    u64 minsigstksz = 0;    // signal frame size for the CPU's xsave features
    u64 hwcap = 0;          // CPUID.1:EDX
    u64 pagesz = 4096;
    u64 clktck = 100;       // USER_HZ
    u64 phdr = 0;           // the program's LoadPlan::phdr_addr
    u64 phent = 56;
    u64 phnum = 0;
    u64 base = 0;           // the interpreter's load bias; 0 without one
    u64 flags = 0;
    u64 entry = 0;          // the program's entry, not the interpreter's
    u64 uid = 0, euid = 0, gid = 0, egid = 0;
    u64 secure = 0;         // setuid/setgid/capability-gaining exec
    u64 hwcap2 = 0;
    bool has_execfd = false;  // binfmt_misc's open-binary flag only
    u64 execfd = 0;
    // AT_RSEQ_FEATURE_SIZE/AT_RSEQ_ALIGN as Linux 6.3+ gives them; a zero
    // feature size leaves both out.
    u64 rseq_feature_size = 28;
    u64 rseq_align = 32;
};

struct UserStack {
    u64 sp = 0;          // initial rsp: argc is here; 16-byte aligned
    usize argc = 0;      // as the program sees it: 1 when execve had none
    u64 argv = 0;        // &argv[0]
    u64 envp = 0;        // &envp[0]
    u64 auxv = 0;        // first auxv pair
    usize auxv_words = 0;  // u64 words of auxv, AT_NULL pair included (/proc/<pid>/auxv)
    // /proc/<pid>/cmdline and environ read these ranges (/proc/<pid>/stat
    // reports them).
    u64 arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
    u64 execfn = 0;      // AT_EXECFN
    u64 random = 0;      // AT_RANDOM
    u64 platform = 0;    // AT_PLATFORM
};

// Bytes below a 16-byte-aligned stack top that user_stack_build writes.
// Checks the limits first (E2BIG).
Result<usize> user_stack_size(const ExecArgs& args, const AuxValues& aux, u64 stack_rlimit);

struct UserStackSpec {
    ExecArgs args;
    AuxValues aux;
    const u8* random = nullptr;  // 16 bytes for AT_RANDOM
    u64 stack_rlimit = kDefaultStackLimit;
    u64 stack_top = 0;           // user address just past the stack; 16-byte aligned
};

// Writes the stack into `buf`, which stands for the `buf_size` bytes just
// below spec.stack_top. E2BIG past Linux's limits; EFAULT if the stack does
// not fit in the buffer (Linux's error when it cannot write the new stack).
Result<UserStack> user_stack_build(const UserStackSpec& spec, u8* buf, usize buf_size);

}  // namespace keel::exec
