// Pieces shared by the VFS core's own files (namespace operations,
// attributes, open files); not for callers outside fs/core.
#pragma once

#include "fs/core/namei.h"

namespace keel::fs {

// Attribute changes, Linux's struct iattr (the bit values are ours).
constexpr u32 ATTR_MODE = 1u << 0;
constexpr u32 ATTR_UID = 1u << 1;
constexpr u32 ATTR_GID = 1u << 2;
constexpr u32 ATTR_SIZE = 1u << 3;
constexpr u32 ATTR_ATIME = 1u << 4;
constexpr u32 ATTR_MTIME = 1u << 5;
constexpr u32 ATTR_CTIME = 1u << 6;
constexpr u32 ATTR_ATIME_SET = 1u << 7;
constexpr u32 ATTR_MTIME_SET = 1u << 8;
constexpr u32 ATTR_FORCE = 1u << 9;  // skip the permission checks
constexpr u32 ATTR_KILL_SUID = 1u << 11;
constexpr u32 ATTR_KILL_SGID = 1u << 12;
constexpr u32 ATTR_TIMES_SET = 1u << 16;
constexpr u32 ATTR_TOUCH = 1u << 17;

struct SetAttr {
    u32 valid = 0;
    u32 mode = 0;
    u32 uid = 0;
    u32 gid = 0;
    u64 size = 0;
    Timespec atime, mtime;
};

// Linux's notify_change + setattr_prepare + setattr_copy, with tmpfs's
// timestamp rules. Inode lock held; ATTR_TOUCH's write-permission check
// is the caller's (it needs the unlocked inode_permission).
Status setattr_locked(Inode& inode, SetAttr& attr, const Cred& cred);

// The suid/sgid bits a write or truncate by `cred` must clear
// (ATTR_KILL_* bits, 0 for none). Inode lock held.
u32 kill_privs_locked(const Inode& inode, const Cred& cred);

// Devices, FIFOs and sockets: their I/O belongs to other layers.
inline bool special_type(u32 type) {
    return type == S_IFCHR || type == S_IFBLK || type == S_IFIFO || type == S_IFSOCK;
}

// EROFS unless the mount and its file system are writable.
inline Status may_write_mount(const Path& p) {
    if (p.mnt->read_only()) return Error(EROFS);
    return {};
}

// Owner, group and final mode of a new object in `dir`: the caller's fs
// ids, or the directory's group when it is set-group-ID (directories then
// inherit the bit), and set-group-ID dropped when the caller could not
// have set it.
CreateArgs init_owner(const InodeAttr& dir, const Cred& cred, u32 mode);

// Namespace lock held: may `cred` create in `dir` / remove `victim` from it?
Status may_create_locked(Inode& dir, const Cred& cred);
Status may_delete_locked(Inode& dir, Dentry& victim, bool isdir, const Cred& cred);

}  // namespace keel::fs
