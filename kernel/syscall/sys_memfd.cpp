// memfd_create(2): an anonymous tmpfs file, sealable on request. The seals
// themselves (F_ADD_SEALS, F_GET_SEALS) are in mm/shmem.cpp.
#include <linux/fcntl.h>
#include <linux/memfd.h>

#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "mm/shmem.h"

namespace keel {

namespace {

// Newer than the uapi headers here (6.3).
constexpr u32 MFD_NOEXEC_SEAL_FLAG = 0x0008;
constexpr u32 MFD_EXEC_FLAG = 0x0010;
constexpr u32 MFD_KNOWN = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL_FLAG | MFD_EXEC_FLAG;
// NAME_MAX less the "memfd:" prefix.
constexpr usize MFD_NAME_MAX = 249;

}  // namespace

SYSCALL(memfd_create) {
    uptr uname = args.a0;
    u32 flags = static_cast<u32>(args.a1);
    u32 allowed = MFD_KNOWN | ((flags & MFD_HUGETLB) ? (MFD_HUGE_MASK << MFD_HUGE_SHIFT) : 0);
    if (flags & ~allowed) return Error(EINVAL);
    if ((flags & MFD_EXEC_FLAG) && (flags & MFD_NOEXEC_SEAL_FLAG)) return Error(EINVAL);
    char name[6 + MFD_NAME_MAX + 1] = "memfd:";
    usize n = TRY(strncpy_from_user(name + 6, uname, MFD_NAME_MAX + 1, EINVAL));
    // vm.memfd_noexec is 0: without either flag the file is executable.
    bool noexec = flags & MFD_NOEXEC_SEAL_FLAG;
    RefPtr<fs::File> file =
        TRY(mm::shmem_create(StringView(name, 6 + n), 0, noexec ? 0666 : 0777, O_RDWR | O_LARGEFILE));
    {
        fs::Inode& inode = file->inode();
        fs::FsLockGuard g(inode.lock());
        if (noexec) inode.set_seals_locked(mm::SEALS_MANAGED | mm::SEAL_EXEC);
        else if (flags & MFD_ALLOW_SEALING) inode.set_seals_locked(mm::SEALS_MANAGED);
        else inode.set_seals_locked(mm::SEALS_MANAGED | F_SEAL_SEAL);
    }
    fs::OpenFile* of = TRY(fs::wrap_vfs_file(move(file)));
    of->flags = O_RDWR | O_LARGEFILE;
    auto fd = proc::current_process()->fds->install(of, 0, flags & MFD_CLOEXEC);
    if (fd.is_error()) {
        of->put();
        return fd.error();
    }
    return static_cast<u64>(fd.value());
}

}  // namespace keel
