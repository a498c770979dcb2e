// uname(2), sethostname(2), setdomainname(2).
#include <linux/capability.h>

#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "kernel/uts.h"

namespace keel {

namespace {

template <typename Set>
Result<u64> set_name(uptr user, u64 len, Set set) {
    if (!fs::cred_of(*proc::current_process()).capable(CAP_SYS_ADMIN)) return Error(EPERM);
    if (static_cast<i64>(len) < 0 || len > __NEW_UTS_LEN) return Error(EINVAL);
    char buf[__NEW_UTS_LEN];
    TRY(copy_from_user(buf, user, len));
    TRY(set(buf, static_cast<usize>(len)));
    return 0;
}

}  // namespace

SYSCALL(uname) {
    new_utsname u = uts::snapshot();
    TRY(UserOut<new_utsname>(args.a0).write(u));
    return 0;
}

SYSCALL(sethostname) { return set_name(args.a0, args.a1, uts::set_hostname); }
SYSCALL(setdomainname) { return set_name(args.a0, args.a1, uts::set_domainname); }

}  // namespace keel
