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

}  // namespace keel::cgroup
