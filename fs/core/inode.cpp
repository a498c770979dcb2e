#include "fs/core/inode.h"

#include "fs/core/mount.h"
#include "fs/core/superblock.h"

namespace keel::fs {

Inode::Inode(Superblock& sb, u64 ino, u32 mode) : sb_(&sb), ino_(ino), type_(mode & S_IFMT) {
    attr_.mode = mode;
}

Inode::~Inode() {
    if (page_map_) page_map_->release();
}

InodeAttr Inode::attr() const {
    FsLockGuard g(lock_);
    return attr_;
}

// The defaults are what Linux answers when an inode has no such operation.

Result<RefPtr<Inode>> Inode::lookup(StringView) { return Error(ENOTDIR); }
Result<RefPtr<Inode>> Inode::create(StringView, const CreateArgs&) { return Error(ENOSYS); }
Status Inode::link(StringView, Inode&) { return Error(EPERM); }
Status Inode::unlink(StringView, Inode&) { return Error(EPERM); }
Status Inode::rmdir(StringView, Inode&) { return Error(EPERM); }
Status Inode::rename(StringView, Inode&, Inode&, StringView, Inode*, u32, const CreateArgs*) { return Error(EPERM); }
Status Inode::iterate(u64, DirEmitter&) { return Error(ENOTDIR); }
Result<RefPtr<Inode>> Inode::tmpfile(const CreateArgs&) { return Error(EOPNOTSUPP); }
u64 Inode::dir_snapshot() { return ~0ull; }
bool Inode::revalidate(StringView, Inode*) { return true; }
Result<usize> Inode::get_link(char*, usize, void*) { return Error(EINVAL); }
Result<Path> Inode::jump_link(void*) { return Error(EINVAL); }
Result<usize> Inode::read(u64, DataBuffer&, usize, usize) { return Error(EINVAL); }
Result<usize> Inode::write(u64, DataBuffer&, usize, usize) { return Error(EINVAL); }
Status Inode::truncate(u64) { return Error(EPERM); }
Status Inode::fallocate(int, u64, u64) { return Error(EOPNOTSUPP); }
Result<u64> Inode::seek_data(u64, bool) { return Error(EINVAL); }
Result<void*> Inode::get_page(u64, bool) { return Error(ENODEV); }
void Inode::getattr_extra(struct statx&, u32) const {}

Status Inode::permission(const Cred& cred, int mask) { return generic_permission(attr(), cred, mask); }

// ---- Permission rules ---------------------------------------------------

Status generic_permission(const InodeAttr& a, const Cred& cred, int mask) {
    u32 mode = a.mode;
    int want = mask & 7;
    // The owner class, else the group class when the caller is in the
    // file's group, else "other". Only one class is ever consulted: an
    // owner denied by the owner bits is not rescued by the group bits.
    if (cred.fsuid == a.uid) {
        if ((want & ~(mode >> 6) & 7) == 0) return {};
    } else {
        if (cred.in_group(a.gid)) mode >>= 3;
        if ((want & ~mode & 7) == 0) return {};
    }

    bool dir = (a.mode & S_IFMT) == S_IFDIR;
    if (dir) {
        // Directories: reading and searching need only DAC_READ_SEARCH.
        if (!(mask & MAY_WRITE) && cred.capable(CAP_DAC_READ_SEARCH)) return {};
        if (cred.capable(CAP_DAC_OVERRIDE)) return {};
        return Error(EACCES);
    }
    if (want == MAY_READ && cred.capable(CAP_DAC_READ_SEARCH)) return {};
    // Execution is overridable only if somebody may execute the file at
    // all: root cannot run a file that has no x bit.
    if (!(want & MAY_EXEC) || (a.mode & 0111))
        if (cred.capable(CAP_DAC_OVERRIDE)) return {};
    return Error(EACCES);
}

Status inode_permission(Inode& inode, const Cred& cred, int mask) {
    if (mask & MAY_WRITE) {
        u32 t = inode.type();
        if (inode.sb().read_only() && (t == S_IFREG || t == S_IFDIR || t == S_IFLNK)) return Error(EROFS);
    }
    return inode.permission(cred, mask);
}

bool owner_or_capable(const InodeAttr& a, const Cred& cred) {
    return cred.fsuid == a.uid || cred.capable(CAP_FOWNER);
}

bool in_group_or_capable(u32 gid, const Cred& cred) {
    return cred.in_group(gid) || cred.capable(CAP_FSETID);
}

bool sticky_denies(const InodeAttr& dir, const InodeAttr& victim, const Cred& cred) {
    if (!(dir.mode & S_ISVTX)) return false;
    if (cred.fsuid == victim.uid || cred.fsuid == dir.uid) return false;
    return !cred.capable(CAP_FOWNER);
}

}  // namespace keel::fs
