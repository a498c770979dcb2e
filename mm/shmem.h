// Shared memory objects: unlinked files on an internal tmpfs instance (as
// Linux's shm_mnt), behind memfd_create(2) and shared anonymous mappings
// (MAP_SHARED|MAP_ANONYMOUS, MAP_SHARED of /dev/zero), so that every page
// of them stays shared across fork, not just the pages present at fork.
#pragma once

#include "fs/core/file.h"
#include "fs/file.h"

namespace keel::mm {

// A new unlinked regular file called `name` (its /proc link reads
// "/NAME (deleted)") of `size` bytes, mode `mode`, owned by the caller's
// fsuid/fsgid, opened with `oflags`.
Result<RefPtr<fs::File>> shmem_create(StringView name, u64 size, u32 mode, u32 oflags);

// Whether `inode` is a tmpfs regular file (seals, MADV_REMOVE).
bool is_shmem_inode(fs::Inode& inode);

// memfd seal state kept in Inode::seals: tmpfs files that did not come from
// memfd_create(MFD_ALLOW_SEALING) report F_SEAL_SEAL, as in Linux.
constexpr u32 SEALS_MANAGED = 1u << 31;
u32 effective_seals(u32 stored);

// Seals newer than the uapi headers here.
constexpr u32 SEAL_EXEC = 0x0020;  // F_SEAL_EXEC (6.3)
constexpr u32 ALL_SEALS = 0x003f;

// fcntl's F_ADD_SEALS and F_GET_SEALS (EINVAL for files without seals).
Result<u64> fcntl_seals(fs::OpenFile& of, int cmd, u64 arg);

}  // namespace keel::mm
