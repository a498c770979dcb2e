// mlock, mlock2, munlock, mlockall, munlockall. Locked memory is always
// resident in Keel (there is no swap); what locking changes is that the
// pages are faulted in at once and that RLIMIT_MEMLOCK is enforced.
#include <linux/mman.h>
#include <linux/resource.h>

#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "mm/address_space.h"
#include "mm/layout.h"

namespace keel {

namespace {

constexpr u32 MLOCK_ONFAULT_FLAG = 0x01;  // MLOCK_ONFAULT

mm::AddressSpace& current_mm() { return *proc::current_process()->mm; }
bool ipc_lock_capable() { return caps::capable(CAP_IPC_LOCK); }
u64 memlock_limit() { return proc::current_process()->rlimits[RLIMIT_MEMLOCK].cur; }

Result<u64> do_mlock(uptr start, usize len, u32 vm) {
    // mlock needs no alignment: the range widens to whole pages.
    usize span = align_up<usize>(len + (start & (mm::PAGE_SIZE - 1)), mm::PAGE_SIZE);
    start = align_down<uptr>(start, mm::PAGE_SIZE);
    if (!ipc_lock_capable() && memlock_limit() == 0) return Error(EPERM);
    if (!ipc_lock_capable()) {
        u64 locked = current_mm().locked_bytes() + span - current_mm().locked_bytes(start, start + span);
        if (locked > memlock_limit()) return Error(ENOMEM);
    }
    TRY(current_mm().set_locked(start, span, vm));
    return 0;
}

}  // namespace

SYSCALL(mlock) { return do_mlock(args.a0, args.a1, mm::VM_LOCKED); }

SYSCALL(mlock2) {
    u32 flags = static_cast<u32>(args.a2);
    if (flags & ~MLOCK_ONFAULT_FLAG) return Error(EINVAL);
    return do_mlock(args.a0, args.a1, mm::VM_LOCKED | ((flags & MLOCK_ONFAULT_FLAG) ? u32{mm::VM_LOCKONFAULT} : 0u));
}

SYSCALL(munlock) {
    uptr start = args.a0;
    usize span = align_up<usize>(args.a1 + (start & (mm::PAGE_SIZE - 1)), mm::PAGE_SIZE);
    start = align_down<uptr>(start, mm::PAGE_SIZE);
    TRY(current_mm().set_locked(start, span, 0));
    return 0;
}

SYSCALL(mlockall) {
    u32 flags = static_cast<u32>(args.a0);
    if (!flags || (flags & ~static_cast<u32>(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
        return Error(EINVAL);
    if (!ipc_lock_capable() && memlock_limit() == 0) return Error(EPERM);
    if ((flags & MCL_CURRENT) && !ipc_lock_capable() && current_mm().total_bytes() > memlock_limit())
        return Error(ENOMEM);
    u32 vm = mm::VM_LOCKED | ((flags & MCL_ONFAULT) ? u32{mm::VM_LOCKONFAULT} : 0u);
    current_mm().def_lock = (flags & MCL_FUTURE) ? vm : 0;
    if (flags & MCL_CURRENT) current_mm().set_locked_all(vm);
    return 0;
}

SYSCALL(munlockall) {
    current_mm().def_lock = 0;
    current_mm().set_locked_all(0);
    return 0;
}

}  // namespace keel
