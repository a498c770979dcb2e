// tmpfs: the in-memory file system, and Keel's root file system.
//
// Directories keep their entries in two trees, by name (lookup) and by a
// per-directory 64-bit cookie handed out in increasing order (readdir
// positions, which therefore survive insertions and removals; a rename
// over an existing name keeps that name's cookie, a rename to a new name
// gets a new one, as Linux 6.12's offset directories do). File data
// lives in 4 KiB pages allocated on first write, so files are sparse and
// holes read as zeros. What stat(2) shows follows Linux's tmpfs: inode
// numbers per instance from 1 (the root), directory sizes of 20 bytes per
// entry plus 40, st_blocks counting allocated pages.
#pragma once

#include "fs/core/superblock.h"

namespace keel::fs {

struct TmpfsOptions {
    u64 max_bytes = 0;   // size=; 0 means unlimited
    u64 max_inodes = 0;  // nr_inodes=; 0 means unlimited
    u32 mode = 01777;    // of the root directory
    u32 uid = 0;
    u32 gid = 0;
    // ramfs: the same file system without limits, mode= its only option
    // (others are ignored) and a root of 0755; statfs shows no blocks or
    // inodes.
    bool ramfs = false;
};

// Parses mount(2)'s option string for tmpfs ("size=64m,mode=755,...").
// EINVAL for an unknown option or a bad value. `ram_bytes` is what
// "size=N%" is a percentage of (0 refuses percentages).
Result<TmpfsOptions> parse_tmpfs_options(StringView data, u64 ram_bytes = 0);

// A new tmpfs instance; MS_RDONLY in `ms_flags` makes it read-only.
// `type` names it in /proc/mounts and statfs (devtmpfs is a tmpfs under
// another name); tmpfs by default.
Result<RefPtr<Superblock>> tmpfs_create(const TmpfsOptions& opts, u32 ms_flags = 0, const FsType* type = nullptr);

// The "tmpfs" and "ramfs" types for mount(2); register them once at boot.
FsType& tmpfs_type();
FsType& ramfs_type();

// The machine's RAM: mount(2) of tmpfs then defaults to half of it and to
// an inode limit of half its pages, as Linux does (size=0 is unlimited).
void set_tmpfs_ram_bytes(u64 bytes);

// Memory accounting of tmpfs file pages (the kernel's cgroup memory
// controller; none on the host). charge returns the owner to hand back to
// uncharge when the page goes (null: not charged), or ENOMEM.
struct TmpfsCharge {
    Result<void*> (*charge)();
    void (*uncharge)(void* owner);
};
void set_tmpfs_charge(const TmpfsCharge* hooks);

}  // namespace keel::fs
