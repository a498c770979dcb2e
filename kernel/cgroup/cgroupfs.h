// The "cgroup2" file system: every mount shows the one hierarchy
// (kernel/cgroup/cgroup.h); directories are cgroups, files are generated
// from them when read (kernel/cgroup/files.h).
#pragma once

#include "fs/core/superblock.h"
#include "fs/proc/seq.h"
#include "kernel/cgroup/cgroup.h"

namespace keel::cgroup {

fs::FsType& cgroup2_type();
// The cgroup whose directory descriptor `fd` is open on, with a reference
// (clone3's CLONE_INTO_CGROUP): EBADF for anything else, ENOENT once the
// cgroup is removed.
Result<Cgroup*> cgroup_from_fd(int fd);
// /proc/<pid>/cgroup's text for the process's cgroup.
Status show_proc_cgroup(fs::SeqBuf& out, const Cgroup& c);

// Delegation containment (cgroup-v2.rst): a write to cgroup.procs or
// cgroup.threads of `dst` needs write access, for the opener's `cred`, to
// cgroup.procs of the common ancestor of the source and destination
// cgroups (EACCES). Checked before the write takes any lock; text that
// names no process passes, for the write itself to fail as Linux's does
// (membership.cpp).
Status migration_permission(Cgroup& dst, StringView text, bool thread, const fs::Cred& cred);
// Write access to c's cgroup.procs for `cred`, as its inode says (owner
// and mode may have been changed to delegate it). No lock held.
Status may_write_procs(const Cgroup& c, const fs::Cred& cred);
// The descriptions of cgroup.procs and cgroup.threads, which keep the
// opener's credentials for that check (procs_file.cpp).
Result<fs::OpenFile*> open_procs(fs::File& file, Cgroup& c);
Result<fs::OpenFile*> open_threads(fs::File& file, Cgroup& c);

}  // namespace keel::cgroup
