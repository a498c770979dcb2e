// Memory-management system calls: brk, mmap, munmap, mprotect, madvise,
// mremap, msync, mincore. The mlock family is in sys_mlock.cpp.
#include <linux/falloc.h>
#include <linux/mman.h>
#include <linux/resource.h>

#include "fs/core/file.h"
#include "fs/vfs_file.h"
#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "mm/address_space.h"
#include "mm/layout.h"
#include "mm/shmem.h"
#include "mm/slab.h"

namespace keel {

namespace {

mm::AddressSpace& current_mm() { return *proc::current_process()->mm; }

// Flags MAP_SHARED_VALIDATE knows (LEGACY_MAP_MASK); others are EOPNOTSUPP.
constexpr u32 LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE |
                                MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE |
                                MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT |
                                0x80 /* MAP_ABOVE4G */ | (21u << 26) | (30u << 26) /* MAP_HUGE_2MB, _1GB */;

bool is_dev_zero(fs::Inode& inode) {
    return inode.type() == S_IFCHR && inode.attr().rdev == fs::make_dev(1, 5);
}

// Shared anonymous memory: an unlinked shmem file the mapping keeps alive.
Result<u64> map_shared_anon(uptr addr, usize len, u32 prot, u32 flags) {
    if (flags & MAP_GROWSDOWN) return Error(EINVAL);
    usize size = align_up<usize>(len, mm::PAGE_SIZE);
    if (size < len || size > mm::USER_TOP) return Error(ENOMEM);
    RefPtr<fs::File> file = TRY(mm::shmem_create("dev/zero", size, 0777, O_RDWR | O_LARGEFILE));
    return TRY(current_mm().map(addr, len, prot, (flags & ~MAP_ANONYMOUS) | MAP_SHARED, nullptr, 0, file.get(),
                                mm::VM_MAYREAD | mm::VM_MAYWRITE | mm::VM_MAYEXEC | mm::VM_SHMEM));
}

Result<u64> map_file(fs::OpenFile* of, uptr addr, usize len, u32 prot, u32 flags, u64 off) {
    fs::File* f = of->vfs_file();
    u32 acc = of->flags & O_ACCMODE;
    bool readable = acc == O_RDONLY || acc == O_RDWR;
    bool writable = acc == O_WRONLY || acc == O_RDWR;
    u32 vm = mm::VM_MAYREAD | mm::VM_MAYWRITE | mm::VM_MAYEXEC;
    u32 type = flags & MAP_TYPE;
    if (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) {
        if (type == MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK)) return Error(EOPNOTSUPP);
        if ((prot & PROT_WRITE) && !writable) return Error(EACCES);
        if (!writable) vm &= ~mm::VM_MAYWRITE;
    }
    if (!readable) return Error(EACCES);
    // /dev/zero: private maps are anonymous memory, shared ones shmem.
    if (f && is_dev_zero(f->inode())) {
        if (type == MAP_PRIVATE) return TRY(current_mm().map(addr, len, prot, flags | MAP_ANONYMOUS, nullptr, 0));
        return map_shared_anon(addr, len, prot, flags);
    }
    if (!f || !mm::is_shmem_inode(f->inode())) return Error(ENODEV);
    if (flags & MAP_GROWSDOWN) return Error(EINVAL);
    if (type != MAP_PRIVATE) {
        fs::Inode& inode = f->inode();
        fs::FsLockGuard g(inode.lock());
        if (inode.seals_locked() & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
            if (prot & PROT_WRITE) return Error(EPERM);
            vm &= ~mm::VM_MAYWRITE;  // and mprotect may not add it later
        }
    }
    return TRY(current_mm().map(addr, len, prot, flags, nullptr, off, f, vm));
}

}  // namespace

SYSCALL(brk) {
    mm::AddressSpace& as = current_mm();
    uptr want = args.a0;
    // RLIMIT_DATA bounds the heap plus the data segment; a break the limit
    // refuses leaves it where it was.
    proc::Process& p = *proc::current_process();
    u64 limit = p.rlimits[RLIMIT_DATA].cur;
    if (limit != RLIM_INFINITY && want > as.brk_start()) {
        u64 data = p.layout.end_data > p.layout.start_data ? p.layout.end_data - p.layout.start_data : 0;
        if (want - as.brk_start() + data > limit) return as.set_brk(0);  // below the start: reads the break
    }
    return as.set_brk(want);
}

SYSCALL(mmap) {
    uptr addr = args.a0;
    usize len = args.a1;
    u32 prot = static_cast<u32>(args.a2);
    u32 flags = static_cast<u32>(args.a3);
    int fd = static_cast<int>(args.a4);
    u64 off = args.a5;
    if (off & (mm::PAGE_SIZE - 1)) return Error(EINVAL);
    fs::FileRef of;
    if (!(flags & MAP_ANONYMOUS)) {
        of = proc::current_process()->fds->get(fd);
        // O_PATH descriptors cannot be mapped (fget refuses them).
        if (!of || (of->vfs_file() && of->vfs_file()->is_path_only())) return Error(EBADF);
    }
    if (len == 0) return Error(EINVAL);
    if (align_up<usize>(len, mm::PAGE_SIZE) == 0) return Error(ENOMEM);
    if (off / mm::PAGE_SIZE + align_up<usize>(len, mm::PAGE_SIZE) / mm::PAGE_SIZE < off / mm::PAGE_SIZE)
        return Error(EOVERFLOW);
    u32 type = flags & MAP_TYPE;
    if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) return Error(EINVAL);
    if ((flags & MAP_LOCKED) && !caps::capable(CAP_IPC_LOCK) &&
        proc::current_process()->rlimits[RLIMIT_MEMLOCK].cur == 0)
        return Error(EPERM);
    // Memory that starts locked must fit RLIMIT_MEMLOCK (mlock_future_ok).
    if (((flags & MAP_LOCKED) || (current_mm().def_lock & mm::VM_LOCKED)) && !caps::capable(CAP_IPC_LOCK) &&
        current_mm().locked_bytes() + align_up<usize>(len, mm::PAGE_SIZE) > proc::current_process()->rlimits[RLIMIT_MEMLOCK].cur)
        return Error(EAGAIN);
    if (of) return map_file(of.get(), addr, len, prot, flags, off);
    if (type == MAP_SHARED_VALIDATE) return Error(EINVAL);
    if (type == MAP_SHARED) return map_shared_anon(addr, len, prot, flags);
    return TRY(current_mm().map(addr, len, prot, flags, nullptr, 0));
}

SYSCALL(munmap) {
    TRY(current_mm().unmap(args.a0, args.a1));
    return 0;
}

SYSCALL(mprotect) {
    TRY(current_mm().protect(args.a0, args.a1, static_cast<u32>(args.a2)));
    return 0;
}

namespace {

// MADV_REMOVE: punch the file range behind each shared mapping of the range.
Status madvise_remove(uptr addr, usize len) {
    uptr end = addr + align_up<usize>(len, mm::PAGE_SIZE);
    for (uptr a = addr; a < end;) {
        u64 off = 0, n = 0;
        fs::File* raw = TRY(current_mm().remove_range(a, end - a, &off, &n));
        RefPtr<fs::File> file = RefPtr<fs::File>::adopt(raw);
        TRY(fs::fallocate(*file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<i64>(off),
                          static_cast<i64>(n), fs::cred_of(*proc::current_process())));
        a += n;
    }
    return {};
}

}  // namespace

SYSCALL(madvise) {
    uptr addr = args.a0;
    usize len = args.a1;
    int advice = static_cast<int>(args.a2);
    if (addr & (mm::PAGE_SIZE - 1)) return Error(EINVAL);
    switch (advice) {
    case MADV_DONTNEED:
    case MADV_FREE:
        if (len == 0) return 0;
        TRY(current_mm().discard(addr, len));
        return 0;
    case MADV_REMOVE:
        if (len == 0) return 0;
        TRY(madvise_remove(addr, len));
        return 0;
    case MADV_DONTFORK: case MADV_DOFORK: case MADV_WIPEONFORK: case MADV_KEEPONFORK:
        TRY(current_mm().advise(addr, len, advice));
        return 0;
    // Hints Keel accepts and has no use for yet, as a kernel without the
    // feature would (Linux returns 0 for these too); a range with unmapped
    // pages is still ENOMEM.
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTDUMP: case MADV_DODUMP:
    case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE:
    case MADV_COLD: case MADV_PAGEOUT:
        TRY(current_mm().advise(addr, len, advice));
        return 0;
    default:
        return Error(EINVAL);
    }
}

SYSCALL(mremap) {
    uptr old_addr = args.a0;
    usize old_len = args.a1, new_len = args.a2;
    u32 flags = static_cast<u32>(args.a3);
    uptr new_addr = args.a4;
    if (flags & ~static_cast<u32>(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return Error(EINVAL);
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) return Error(EINVAL);
    if ((flags & MREMAP_DONTUNMAP) && (!(flags & MREMAP_MAYMOVE) || old_len != new_len)) return Error(EINVAL);
    if (old_addr & (mm::PAGE_SIZE - 1)) return Error(EINVAL);
    if (align_up<usize>(old_len, mm::PAGE_SIZE) < old_len || align_up<usize>(new_len, mm::PAGE_SIZE) < new_len)
        return Error(EINVAL);
    return TRY(current_mm().remap(old_addr, old_len, new_len, flags, new_addr));
}

SYSCALL(msync) {
    uptr addr = args.a0;
    usize len = args.a1;
    int flags = static_cast<int>(args.a2);
    if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return Error(EINVAL);
    if (addr & (mm::PAGE_SIZE - 1)) return Error(EINVAL);
    if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return Error(EINVAL);
    TRY(current_mm().sync(addr, len, flags));
    return 0;
}

SYSCALL(mincore) {
    uptr addr = args.a0;
    usize len = args.a1;
    uptr vec = args.a2;
    if (addr & (mm::PAGE_SIZE - 1)) return Error(EINVAL);
    if (len > mm::USER_TOP || addr > mm::USER_TOP - len) return Error(ENOMEM);
    usize pages = len / mm::PAGE_SIZE + ((len & (mm::PAGE_SIZE - 1)) != 0);
    if (!user_range_ok(vec, pages)) return Error(EFAULT);
    // One kernel page of answers at a time, copied out as Linux does.
    u8* buf = static_cast<u8*>(TRY(mm::kmalloc(mm::PAGE_SIZE)));
    Status st;
    for (usize done = 0; done < pages && st.is_ok();) {
        usize n = min<usize>(pages - done, mm::PAGE_SIZE);
        st = current_mm().residency(addr + done * mm::PAGE_SIZE, n, buf);
        if (st.is_ok()) st = copy_to_user(vec + done, buf, n);
        done += n;
    }
    mm::kfree(buf);
    TRY(st);
    return 0;
}

}  // namespace keel
