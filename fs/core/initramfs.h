// Unpacking the initramfs (cpio "newc" archives) into a directory, the way
// Linux's init/initramfs.c does:
//  - several archives may follow each other, with zero padding between;
//  - an existing object of another type is removed first, a regular file
//    of the same type is truncated and rewritten, a directory is kept;
//  - hard links come from entries with nlink >= 2 that share (device,
//    inode number, type): the first one is created, later ones are linked
//    to it; the table is forgotten at each "TRAILER!!!";
//  - ownership, mode and mtime come from the archive; directory mtimes are
//    set last (creating their entries changed them);
//  - an entry that cannot be created (its parent is missing, say) is
//    skipped silently, as Linux skips it, unless create_parents is set.
// Archives are untrusted: every length is checked by lib/cpio.h's reader.
#pragma once

#include "fs/core/vfs.h"

namespace keel::fs {

struct InitramfsOptions {
    // Create missing parent directories (mode 0755, root-owned) instead of
    // skipping the entry. Linux does not; off by default.
    bool create_parents = false;
};

struct InitramfsReport {
    usize entries = 0;        // archive members processed
    usize skipped = 0;        // members that could not be created
    const char* error = nullptr;  // why the archive was rejected, for printing
};

// Unpacks `data` under `root` with full privileges. On a malformed archive
// returns EINVAL and sets report.error (what was unpacked before the bad
// member stays); ENOMEM when memory runs out.
Status unpack_initramfs(const u8* data, usize size, const Path& root, InitramfsReport& report,
                        const InitramfsOptions& opts = {});

}  // namespace keel::fs
