#include "mm/shmem.h"

#include <linux/fcntl.h>
#include <linux/magic.h>

#include "fs/core/tmpfs.h"
#include "kernel/process/process.h"
#include "kernel/sched/wait.h"
#include "mm/file_map.h"

namespace keel::mm {

namespace {

sched::Mutex shm_lock;
fs::MountNamespace* shm_ns = nullptr;  // made on first use, kept for good

Result<fs::Path> shm_root() {
    sched::MutexGuard g(shm_lock);
    if (!shm_ns) {
        fs::TmpfsOptions opts;
        opts.mode = 01777;
        auto sb = TRY(fs::tmpfs_create(opts));
        RefPtr<fs::MountNamespace> ns = TRY(fs::MountNamespace::create(move(sb), "shm", 0));
        shm_ns = ns.leak();
    }
    return shm_ns->root();
}

}  // namespace

Result<RefPtr<fs::File>> shmem_create(StringView name, u64 size, u32 mode, u32 oflags) {
    fs::Path root = TRY(shm_root());
    fs::Inode& dir = *root.inode();
    proc::Process* p = proc::current_process();
    fs::CreateArgs args;
    args.mode = S_IFREG | (mode & 07777);
    args.uid = p ? p->cred.fsuid : 0;
    args.gid = p ? p->cred.fsgid : 0;
    fs::Path path{root.mnt, nullptr};
    RefPtr<fs::Inode> inode;
    {
        fs::FsLockGuard g(dir.sb().lock());
        inode = TRY(dir.tmpfile(args));
        path.dentry = TRY(root.dentry->make_orphan_locked(name, inode));
    }
    if (size) {
        fs::FsLockGuard g(inode->lock());
        TRY(inode->truncate(size));
    }
    return make_ref<fs::File>(move(path), oflags);
}

bool is_shmem_inode(fs::Inode& inode) { return inode.is_reg() && inode.sb().magic() == TMPFS_MAGIC; }

u32 effective_seals(u32 stored) { return (stored & SEALS_MANAGED) ? stored & ~SEALS_MANAGED : F_SEAL_SEAL; }

Result<u64> fcntl_seals(fs::OpenFile& of, int cmd, u64 arg) {
    fs::File* f = of.vfs_file();
    if (!f || f->is_path_only() || !is_shmem_inode(f->inode())) return Error(EINVAL);
    fs::Inode& inode = f->inode();
    if (cmd == F_GET_SEALS) {
        fs::FsLockGuard g(inode.lock());
        return effective_seals(inode.seals_locked());
    }
    u32 seals = static_cast<u32>(arg);
    if (!f->writable()) return Error(EPERM);
    if (arg & ~static_cast<u64>(ALL_SEALS)) return Error(EINVAL);
    fs::FsLockGuard g(inode.lock());
    u32 have = effective_seals(inode.seals_locked());
    if (have & F_SEAL_SEAL) return Error(EPERM);
    if ((seals & F_SEAL_WRITE) && !(have & F_SEAL_WRITE)) {
        // No shared mapping may be able to write any more.
        auto* map = static_cast<FileMap*>(inode.page_map_locked());
        if (map && map->writable_maps()) return Error(EBUSY);
    }
    // Sealing an executable file against exec seals it against change too.
    if ((seals & SEAL_EXEC) && (inode.attr_locked().mode & 0111))
        seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
    inode.set_seals_locked(SEALS_MANAGED | have | seals);
    return 0;
}

}  // namespace keel::mm
