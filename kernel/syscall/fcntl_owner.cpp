// fcntl's signal-owner and lease commands: F_GETOWN/F_SETOWN,
// F_GETOWN_EX/F_SETOWN_EX, F_GETSIG/F_SETSIG, F_GETLEASE/F_SETLEASE.
#include "kernel/syscall/fcntl_owner.h"

#include <linux/capability.h>
#include <linux/fcntl.h>

#include "fs/vfs_file.h"
#include "kernel/process/proc_info.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

// Linux's pid types, as the owner keeps them.
constexpr u32 TYPE_PID = 0, TYPE_TGID = 1, TYPE_PGID = 2;
constexpr int MAX_SIGNAL = 64;

u64 pack(u32 type, int pid) { return (static_cast<u64>(type) << 32) | static_cast<u32>(pid); }
u32 type_of(u64 owner) { return static_cast<u32>(owner >> 32); }
int pid_of(u64 owner) { return static_cast<int>(static_cast<u32>(owner)); }

// Whether `n` names anything: a thread, a process (zombies too) or a
// process group or session, as a pid number stays in use on Linux while
// any of them refers to it.
bool pid_in_use(int n) {
    if (n <= 0) return false;
    if (proc::tgid_of(n) || proc::process_alive(n)) return true;
    bool found = false;
    proc::for_each_process([&](proc::Process& p) { found |= p.pgid == n || p.sid == n; });
    return found;
}

// The owner's pid while what it names still exists, else 0 (Linux reports
// an owner that went away as none).
int live_owner(u64 owner) {
    int pid = pid_of(owner);
    return pid_in_use(pid) ? pid : 0;
}

Status set_owner(fs::OpenFile& f, u32 type, int pid) {
    if (pid && !pid_in_use(pid)) return Error(ESRCH);
    __atomic_store_n(&f.owner, pack(type, pid), __ATOMIC_RELAXED);
    return {};
}

Result<u64> setlease(fs::OpenFile& f, u64 arg) {
    if (arg != F_RDLCK && arg != F_WRLCK && arg != F_UNLCK) return Error(EINVAL);
    fs::File* vf = f.vfs_file();
    if (!vf) return Error(EINVAL);
    fs::Cred cred = fs::cred_of(*proc::current_process());
    if (vf->inode().attr().uid != cred.fsuid && !cred.capable(CAP_LEASE)) return Error(EACCES);
    if (!vf->inode().is_reg()) return Error(EINVAL);
    // No lease is ever held: removing one finds none. A read lease never
    // coexists with an open for writing, this description's included.
    if (arg == F_UNLCK) return Error(EAGAIN);
    if (arg == F_RDLCK && vf->writable()) return Error(EAGAIN);
    // Keel cannot break a lease (the SIGIO to the holder and the opener's
    // wait), so it grants none: the request fails as if another open of
    // the file conflicted.
    return Error(EAGAIN);
}

}  // namespace

Result<u64> fcntl_owner(fs::OpenFile& f, int cmd, u64 arg) {
    u64 owner = __atomic_load_n(&f.owner, __ATOMIC_RELAXED);
    switch (cmd) {
    case F_GETOWN: {
        int pid = live_owner(owner);
        return static_cast<u64>(static_cast<i64>(type_of(owner) == TYPE_PGID ? -pid : pid));
    }
    case F_SETOWN: {
        int who = static_cast<int>(arg);
        if (who == static_cast<int>(0x80000000)) return Error(EINVAL);
        TRY(set_owner(f, who < 0 ? TYPE_PGID : TYPE_TGID, who < 0 ? -who : who));
        return 0;
    }
    case F_GETOWN_EX: {
        // pid types map to F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP in order.
        f_owner_ex ex{static_cast<int>(type_of(owner)), live_owner(owner)};
        TRY(UserOut<f_owner_ex>(arg).write(ex));
        return 0;
    }
    case F_SETOWN_EX: {
        f_owner_ex ex = TRY(UserIn<f_owner_ex>(arg).read());
        u32 type;
        switch (ex.type) {
        case F_OWNER_TID: type = TYPE_PID; break;
        case F_OWNER_PID: type = TYPE_TGID; break;
        case F_OWNER_PGRP: type = TYPE_PGID; break;
        default: return Error(EINVAL);
        }
        if (ex.pid < 0) return Error(ESRCH);
        TRY(set_owner(f, type, ex.pid));
        return 0;
    }
    case F_GETSIG:
        return static_cast<u64>(__atomic_load_n(&f.owner_sig, __ATOMIC_RELAXED));
    case F_SETSIG: {
        u64 sig = static_cast<u32>(arg);
        if (sig > MAX_SIGNAL) return Error(EINVAL);
        __atomic_store_n(&f.owner_sig, static_cast<int>(sig), __ATOMIC_RELAXED);
        return 0;
    }
    case F_GETLEASE:
        return F_UNLCK;
    case F_SETLEASE:
        return setlease(f, static_cast<u32>(arg));
    default:
        return Error(EINVAL);
    }
}

}  // namespace keel
