#pragma once

#include "fs/core/superblock.h"

namespace keel::fs {

// The "devtmpfs" type for mount(2); register it once at boot.
FsType& devtmpfs_type();

}  // namespace keel::fs
