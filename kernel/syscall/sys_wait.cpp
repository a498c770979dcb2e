// wait4: reaping children.
#include <linux/resource.h>
#include <linux/wait.h>

#include "kernel/process/process.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

SYSCALL(wait4) {
    int pid = static_cast<int>(args.a0);
    int options = static_cast<int>(args.a2);
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) return Error(EINVAL);
    if (pid == static_cast<int>(0x80000000)) return Error(ESRCH);  // -INT_MIN does not exist
    int status = 0;
    int reaped = TRY(proc::wait_child(pid, options, &status));
    if (reaped > 0 && args.a1) TRY(UserOut<int>(args.a1).write(status));
    if (args.a3) TRY(UserOut<rusage>(args.a3).write(rusage{}));
    return static_cast<u64>(reaped);
}

}  // namespace keel
