// procfs: /proc, generated from the kernel's own state whenever it is read
// (process directories, system-wide files, /proc/sys). See
// fs/proc/procfs_internal.h for how it is built.
#pragma once

#include "fs/core/superblock.h"

namespace keel::fs {

// The "proc" type for mount(2); registered at boot.
FsType& proc_fs_type();

}  // namespace keel::fs
