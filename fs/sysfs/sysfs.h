// sysfs: a skeleton of /sys with the top-level directories Linux has and
// the few files programs read (CPU lists, transparent huge page mode).
// Built on procfs's generated-file machinery (fs/proc/procfs_internal.h).
#pragma once

#include "fs/core/superblock.h"

namespace keel::fs {

// The "sysfs" type for mount(2); registered at boot.
FsType& sysfs_type();

}  // namespace keel::fs
