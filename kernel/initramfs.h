// The initramfs image as a cpio archive in kernel memory: the boot loader's
// initrd, decompressed first if it is gzip-compressed.
#pragma once

#include "lib/result.h"

namespace keel {

struct InitramfsImage {
    const u8* data = nullptr;
    usize size = 0;
    bool was_compressed = false;
};

// Decompresses on first use. ENOENT without an initrd; EINVAL/ENODATA for
// a corrupt or truncated compressed image; ENOMEM.
Result<InitramfsImage> initramfs_image();

}  // namespace keel
