// Credentials: the get/set*id family with Linux's permission rules. A
// process with effective uid 0 holds CAP_SETUID/CAP_SETGID (Keel has no
// finer capability sets yet).
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

constexpr u32 KEEP = ~0u;  // (uid_t)-1: leave unchanged

proc::Cred& cred() { return proc::current_process()->cred; }
bool privileged() { return cred().euid == 0; }

bool one_of(u32 v, u32 a, u32 b, u32 c) { return v == a || v == b || v == c; }

template <u32 proc::Cred::*R, u32 proc::Cred::*E, u32 proc::Cred::*S, u32 proc::Cred::*F>
struct IdSet {
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

using Uids = IdSet<&proc::Cred::ruid, &proc::Cred::euid, &proc::Cred::suid, &proc::Cred::fsuid>;
using Gids = IdSet<&proc::Cred::rgid, &proc::Cred::egid, &proc::Cred::sgid, &proc::Cred::fsgid>;

}  // namespace

SYSCALL(getuid) { return cred().ruid; }
SYSCALL(geteuid) { return cred().euid; }
SYSCALL(getgid) { return cred().rgid; }
SYSCALL(getegid) { return cred().egid; }
SYSCALL(setuid) { return Uids::set_single(static_cast<u32>(args.a0)); }
SYSCALL(setgid) { return Gids::set_single(static_cast<u32>(args.a0)); }
SYSCALL(setreuid) { return Uids::set_re(static_cast<u32>(args.a0), static_cast<u32>(args.a1)); }
SYSCALL(setregid) { return Gids::set_re(static_cast<u32>(args.a0), static_cast<u32>(args.a1)); }
SYSCALL(setresuid) {
    return Uids::set_res(static_cast<u32>(args.a0), static_cast<u32>(args.a1), static_cast<u32>(args.a2));
}
SYSCALL(setresgid) {
    return Gids::set_res(static_cast<u32>(args.a0), static_cast<u32>(args.a1), static_cast<u32>(args.a2));
}
SYSCALL(getresuid) { return Uids::get_res(args.a0, args.a1, args.a2); }
SYSCALL(getresgid) { return Gids::get_res(args.a0, args.a1, args.a2); }
SYSCALL(setfsuid) { return Uids::set_fs(static_cast<u32>(args.a0)); }
SYSCALL(setfsgid) { return Gids::set_fs(static_cast<u32>(args.a0)); }

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
    if (!privileged()) return Error(EPERM);
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

}  // namespace keel
