// Memory-management system calls: brk, mmap, munmap, mprotect.
#include <linux/mman.h>

#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "mm/address_space.h"
#include "mm/layout.h"

namespace keel {

namespace {
mm::AddressSpace& current_mm() { return *proc::current_process()->mm; }
}  // namespace

SYSCALL(brk) { return current_mm().set_brk(args.a0); }

SYSCALL(mmap) {
    uptr addr = args.a0;
    usize len = args.a1;
    u32 prot = static_cast<u32>(args.a2);
    u32 flags = static_cast<u32>(args.a3);
    int fd = static_cast<int>(args.a4);
    u64 off = args.a5;
    // Exactly one of SHARED, PRIVATE, SHARED_VALIDATE.
    u32 type = flags & MAP_TYPE;
    if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) return Error(EINVAL);
    if (off & (mm::PAGE_SIZE - 1)) return Error(EINVAL);
    if (len == 0) return Error(EINVAL);
    if (!(flags & MAP_ANONYMOUS)) {
        // File mappings arrive with the VFS; an fd that is not open is EBADF.
        if (!proc::current_process()->fds->get(fd)) return Error(EBADF);
        return Error(ENODEV);
    }
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
    // Hints Keel accepts and has no use for yet, as a kernel without the
    // feature would (Linux returns 0 for these too).
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTFORK: case MADV_DOFORK: case MADV_DONTDUMP: case MADV_DODUMP:
    case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE:
    case MADV_COLD: case MADV_PAGEOUT: case MADV_WIPEONFORK: case MADV_KEEPONFORK:
        return 0;
    default:
        return Error(EINVAL);
    }
}

}  // namespace keel
