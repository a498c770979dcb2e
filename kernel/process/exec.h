// Loading a program image into a fresh address space (the heart of execve).
#pragma once

#include "arch/x86_64/trapframe.h"
#include "fs/core/mount.h"
#include "fs/core/vfs.h"
#include "kernel/exec/user_stack.h"
#include "lib/result.h"
#include "lib/string_view.h"
#include "mm/address_space.h"

namespace keel::proc {

struct Process;

// Where an executable's bytes come from. The file system provides one per
// open file; mappings of the image read their pages through `backing`.
struct ExecFile {
    const u8* data = nullptr;  // the file's first head_size bytes, in kernel memory
    usize head_size = 0;       // covers the ELF and program headers
    u64 size = 0;              // the whole file's size
    mm::VmBacking* backing = nullptr;  // owns `data`
    fs::Path path;                     // what /proc/<pid>/exe shows
};

// Finds an executable by path as the calling process sees it: under its
// root, relative paths from `base` (its cwd when null; the kernel's root
// before init exists), with its credentials. `lookup_flags` are LOOKUP_*.
// The caller puts file.backing when done.
Result<ExecFile> open_exec(StringView path, const fs::Path* base = nullptr, u32 lookup_flags = fs::LOOKUP_FOLLOW);
// The same for a path already resolved (execveat with AT_EMPTY_PATH).
Result<ExecFile> open_exec_path(const fs::Path& target);

// Replaces p's address space with `file` run with `args`, and fills
// `frame` with the initial user registers. On error p is unchanged (the
// point of no return is the swap at the very end). Handles "#!" scripts.
Status exec_file(Process& p, const ExecFile& file, const exec::ExecArgs& args, arch::TrapFrame& frame);

}  // namespace keel::proc
