// The kernel's root file system: a tmpfs filled from the initramfs at boot.
#pragma once

#include "fs/core/vfs.h"

namespace keel::fs {

// Creates the root tmpfs and unpacks the initramfs image into it.
Status mount_root();
// The root of the initial mount namespace (every process's root so far).
Path root_path();
// The initial mount namespace itself (/proc/mounts lists it).
MountNamespace& root_namespace();
// Full privileges, for the kernel's own file system work.
const Cred& kernel_cred();

}  // namespace keel::fs
