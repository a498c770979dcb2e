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
// cgroup.threads of `dst` needs write access to cgroup.procs of the common
// ancestor of the source and destination cgroups (EACCES). Checked before
// the tree mutex is taken; text that names no process passes, for the
// write itself to fail as Linux's does (membership.cpp).
// `writing` is the file written (its inode lock is held).
Status migration_permission(Cgroup& dst, StringView text, bool thread, const fs::Inode& writing);
// Write access to c's cgroup.procs for `cred`, as its inode says (owner
// and mode may have been changed to delegate it). Tree mutex not held.
Status may_write_procs(const Cgroup& c, const fs::Cred& cred, const fs::Inode& writing);

}  // namespace keel::cgroup
