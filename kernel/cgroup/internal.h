// What cgroup.cpp (the tree and its rules) and membership.cpp (threads in
// cgroups) share.
#pragma once

#include "kernel/cgroup/cgroup.h"

namespace keel::cgroup {

// The membership lock (LockRank::Cgroup): thread counts, populated, pids
// and CPU-time offsets.
Spinlock& members_lock();
// Whether threads are in `c` itself (takes the membership lock).
bool has_tasks(const Cgroup& c);
// The CPUs online, as a mask (the root's cpuset).
u64 online_mask();

}  // namespace keel::cgroup
