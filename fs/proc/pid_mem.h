// Memory figures of a process, shared by /proc/<pid>/{stat,statm,status}.
#pragma once

#include "fs/proc/seq.h"

namespace keel::fs::procfs {

struct ExecLayoutView {
    u64 start_stack;
};

// Bytes, as Linux's mm counters (VmSize and friends) give them.
struct MemUsage {
    bool has_mm = false;
    u64 vm_size = 0;
    u64 rss_anon = 0, rss_file = 0, rss_shmem = 0;
    u64 vm_data = 0, vm_stk = 0, vm_exec = 0, vm_exe = 0, vm_lib = 0, vm_pte = 0;
    u64 rss() const { return rss_anon + rss_file + rss_shmem; }
};

Status mem_usage(int tgid, MemUsage& out);
// Appends the bytes of [start, end) of the process's memory (as far as
// they are present).
Status read_process_memory(int tgid, uptr start, uptr end, SeqBuf& out);

}  // namespace keel::fs::procfs
