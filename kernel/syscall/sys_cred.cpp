// Credentials: the get/set*id family with Linux's permission rules
// (CAP_SETUID/CAP_SETGID from the effective set), the capability sets'
// setuid fixups (kernel/process/caps.cpp), and capget/capset.
#include <linux/capability.h>

#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

constexpr u32 KEEP = ~0u;  // (uid_t)-1: leave unchanged

proc::Cred& cred() { return proc::current_process()->cred; }

bool one_of(u32 v, u32 a, u32 b, u32 c) { return v == a || v == b || v == c; }

template <u32 proc::Cred::*R, u32 proc::Cred::*E, u32 proc::Cred::*S, u32 proc::Cred::*F, int CAP>
struct IdSet {
    static bool privileged() { return caps::capable(CAP); }

    static Result<u64> set_single(u32 id) {
        proc::Cred& c = cred();
        if (id == KEEP) return Error(EINVAL);
        if (privileged()) {
            c.*R = c.*E = c.*S = c.*F = id;
        } else if (id == c.*R || id == c.*S) {
            c.*E = c.*F = id;
        } else {
            return Error(EPERM);
        }
        return 0;
    }

    static Result<u64> set_re(u32 r, u32 e) {
        proc::Cred& c = cred();
        proc::Cred n = c;
        if (r != KEEP) {
            if (!privileged() && r != c.*R && r != c.*E) return Error(EPERM);
            n.*R = r;
        }
        if (e != KEEP) {
            if (!privileged() && !one_of(e, c.*R, c.*E, c.*S)) return Error(EPERM);
            n.*E = e;
        }
        // The saved id follows the effective one when the real id is set or
        // the effective id moves away from the old real id.
        if (r != KEEP || (e != KEEP && e != c.*R)) n.*S = n.*E;
        n.*F = n.*E;
        c = n;
        return 0;
    }

    static Result<u64> set_res(u32 r, u32 e, u32 s) {
        proc::Cred& c = cred();
        if (!privileged()) {
            for (u32 v : {r, e, s})
                if (v != KEEP && !one_of(v, c.*R, c.*E, c.*S)) return Error(EPERM);
        }
        if (r != KEEP) c.*R = r;
        if (e != KEEP) c.*E = e;
        if (s != KEEP) c.*S = s;
        c.*F = c.*E;
        return 0;
    }

    static Result<u64> get_res(uptr r, uptr e, uptr s) {
        proc::Cred& c = cred();
        TRY(UserOut<u32>(r).write(c.*R));
        TRY(UserOut<u32>(e).write(c.*E));
        TRY(UserOut<u32>(s).write(c.*S));
        return 0;
    }

    // setfs*id returns the old value whether or not it changed anything.
    static u64 set_fs(u32 id) {
        proc::Cred& c = cred();
        u32 old = c.*F;
        if (privileged() || id == c.*R || id == c.*E || id == c.*S || id == c.*F) c.*F = id;
        return old;
    }
};

using Uids = IdSet<&proc::Cred::ruid, &proc::Cred::euid, &proc::Cred::suid, &proc::Cred::fsuid, CAP_SETUID>;
using Gids = IdSet<&proc::Cred::rgid, &proc::Cred::egid, &proc::Cred::sgid, &proc::Cred::fsgid, CAP_SETGID>;

// A successful change of ids: the capability fixups of the setuid family
// (`fs`: setfsuid's own) and the loss of dumpability Linux applies when
// credentials change.
Result<u64> committed(Result<u64> r, const proc::Cred& old, bool uids, bool fs) {
    if (r.is_error()) return r;
    proc::Process& p = *proc::current_process();
    if (uids) {
        if (fs) caps::fix_setfsuid(p.cred, old);
        else caps::fix_setuid(p.cred, old);
    }
    if (caps::loses_dumpable(p.cred, old)) p.dumpable = 0;
    return r;
}

template <typename F>
Result<u64> change(bool uids, bool fs, F&& f) {
    proc::Cred old = cred();
    return committed(f(), old, uids, fs);
}

}  // namespace

SYSCALL(getuid) { return cred().ruid; }
SYSCALL(geteuid) { return cred().euid; }
SYSCALL(getgid) { return cred().rgid; }
SYSCALL(getegid) { return cred().egid; }
SYSCALL(setuid) {
    return change(true, false, [&] { return Uids::set_single(static_cast<u32>(args.a0)); });
}
SYSCALL(setgid) {
    return change(false, false, [&] { return Gids::set_single(static_cast<u32>(args.a0)); });
}
SYSCALL(setreuid) {
    return change(true, false, [&] { return Uids::set_re(static_cast<u32>(args.a0), static_cast<u32>(args.a1)); });
}
SYSCALL(setregid) {
    return change(false, false, [&] { return Gids::set_re(static_cast<u32>(args.a0), static_cast<u32>(args.a1)); });
}
SYSCALL(setresuid) {
    return change(true, false, [&] {
        return Uids::set_res(static_cast<u32>(args.a0), static_cast<u32>(args.a1), static_cast<u32>(args.a2));
    });
}
SYSCALL(setresgid) {
    return change(false, false, [&] {
        return Gids::set_res(static_cast<u32>(args.a0), static_cast<u32>(args.a1), static_cast<u32>(args.a2));
    });
}
SYSCALL(getresuid) { return Uids::get_res(args.a0, args.a1, args.a2); }
SYSCALL(getresgid) { return Gids::get_res(args.a0, args.a1, args.a2); }
SYSCALL(setfsuid) {
    return change(true, true, [&] { return Result<u64>(Uids::set_fs(static_cast<u32>(args.a0))); });
}
SYSCALL(setfsgid) {
    return change(false, true, [&] { return Result<u64>(Gids::set_fs(static_cast<u32>(args.a0))); });
}

SYSCALL(getgroups) {
    proc::Cred& c = cred();
    int size = static_cast<int>(args.a0);
    if (size < 0) return Error(EINVAL);
    if (size == 0) return c.ngroups;
    if (static_cast<u32>(size) < c.ngroups) return Error(EINVAL);
    TRY(copy_to_user(args.a1, c.groups, c.ngroups * sizeof(u32)));
    return c.ngroups;
}

SYSCALL(setgroups) {
    // NGROUPS_MAX (65536) comes from <linux/limits.h>.
    if (args.a0 > NGROUPS_MAX) return Error(EINVAL);
    if (!caps::capable(CAP_SETGID)) return Error(EPERM);
    proc::Cred& c = cred();
    if (args.a0 > sizeof(c.groups) / sizeof(c.groups[0])) return Error(ENOMEM);  // Keel's table is small
    u32 groups[64];
    TRY(copy_from_user(groups, args.a1, args.a0 * sizeof(u32)));
    // Linux keeps the list sorted.
    for (usize i = 1; i < args.a0; ++i)
        for (usize j = i; j > 0 && groups[j - 1] > groups[j]; --j) swap(groups[j - 1], groups[j]);
    for (usize i = 0; i < args.a0; ++i) c.groups[i] = groups[i];
    c.ngroups = static_cast<u32>(args.a0);
    return 0;
}

namespace {

// The header's version picks how many 32-bit words each set has: one
// (v1) or two (v2, v3). An unknown version is answered with the one Linux
// prefers, written back into the header.
Result<usize> cap_words(uptr header) {
    u32 version = TRY(UserIn<u32>(header).read());
    switch (version) {
    case _LINUX_CAPABILITY_VERSION_1: return usize(_LINUX_CAPABILITY_U32S_1);
    case _LINUX_CAPABILITY_VERSION_2:
    case _LINUX_CAPABILITY_VERSION_3: return usize(_LINUX_CAPABILITY_U32S_3);
    default:
        TRY(UserOut<u32>(header).write(u32(_LINUX_CAPABILITY_VERSION_3)));
        return Error(EINVAL);
    }
}

}  // namespace

SYSCALL(capget) {
    auto words = cap_words(args.a0);
    // A null data pointer probes the version: success even for a bad one.
    if (!args.a1 || words.is_error())
        return !args.a1 && words.is_error() && words.error().code() == EINVAL ? Result<u64>(0) : Result<u64>(words.error());
    int pid = TRY(UserIn<int>(args.a0 + 4).read());
    if (pid < 0) return Error(EINVAL);
    proc::Cred c;
    if (pid == 0 || pid == proc::current_process()->pid) {
        c = cred();
    } else {
        proc::lock_tree();
        proc::Process* p = proc::process_slot(pid);
        bool found = p && p->state == proc::ProcessState::Running;
        if (found) c = p->cred;
        proc::unlock_tree();
        if (!found) return Error(ESRCH);
    }
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    for (usize i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
        data[i].effective = static_cast<u32>(c.cap_effective >> (32 * i));
        data[i].permitted = static_cast<u32>(c.cap_permitted >> (32 * i));
        data[i].inheritable = static_cast<u32>(c.cap_inheritable >> (32 * i));
    }
    TRY(copy_to_user(args.a1, data, words.value() * sizeof(data[0])));
    return 0;
}

// Linux's rules: only the caller's own sets; inheritable within the
// bounding set (and, without CAP_SETPCAP, within inheritable | permitted);
// permitted only shrinks; effective within permitted.
SYSCALL(capset) {
    usize words = TRY(cap_words(args.a0));
    int pid = TRY(UserIn<int>(args.a0 + 4).read());
    proc::Process& p = *proc::current_process();
    if (pid != 0 && pid != p.pid) return Error(EPERM);
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    TRY(copy_from_user(data, args.a1, words * sizeof(data[0])));
    u64 eff = 0, prm = 0, inh = 0;
    for (usize i = 0; i < words; ++i) {
        eff |= u64(data[i].effective) << (32 * i);
        prm |= u64(data[i].permitted) << (32 * i);
        inh |= u64(data[i].inheritable) << (32 * i);
    }
    proc::Cred& c = p.cred;
    if (!caps::has(c, CAP_SETPCAP) && (inh & ~(c.cap_inheritable | c.cap_permitted))) return Error(EPERM);
    if (inh & ~(c.cap_inheritable | c.cap_bset)) return Error(EPERM);
    if (prm & ~c.cap_permitted) return Error(EPERM);
    if (eff & ~prm) return Error(EPERM);
    c.cap_effective = eff;
    c.cap_permitted = prm;
    c.cap_inheritable = inh;
    c.cap_ambient &= prm & inh;  // ambient stays within permitted and inheritable
    return 0;
}

}  // namespace keel
