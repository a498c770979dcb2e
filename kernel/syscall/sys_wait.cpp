// wait4: reaping children.
#include <linux/resource.h>
#include <linux/wait.h>
#include <asm/siginfo.h>
#include <asm/signal.h>

#include "kernel/process/cputime.h"
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
    cputime::Times usage;
    int reaped = TRY(proc::wait_child(pid, options, &status, &usage));
    if (reaped > 0 && args.a1) TRY(UserOut<int>(args.a1).write(status));
    if (args.a3) TRY(UserOut<rusage>(args.a3).write(cputime::to_rusage(usage)));
    return static_cast<u64>(reaped);
}

// waitid: the same waits, reported as siginfo.
SYSCALL(waitid) {
    int idtype = static_cast<int>(args.a0);
    int id = static_cast<int>(args.a1);
    int options = static_cast<int>(args.a3);
    if (options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WCLONE | __WALL))
        return Error(EINVAL);
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return Error(EINVAL);
    int pid;
    switch (idtype) {
    case P_ALL: pid = -1; break;
    case P_PID: if (id <= 0) return Error(EINVAL); pid = id; break;
    case P_PGID: if (id < 0) return Error(EINVAL); pid = id ? -id : 0; break;
    default: return Error(EINVAL);
    }
    // WEXITED is implied by wait_child; WSTOPPED maps to WUNTRACED.
    int wopts = (options & (WNOHANG | WNOWAIT)) | ((options & WSTOPPED) ? WUNTRACED : 0) | (options & WCONTINUED);
    int status = 0;
    cputime::Times usage;
    int reaped = TRY(proc::wait_child(pid, wopts, &status, &usage));
    siginfo_t info{};
    if (reaped > 0) {
        info.si_signo = SIGCHLD;
        info.si_pid = reaped;
        if ((status & 0x7f) == 0) {
            info.si_code = CLD_EXITED;
            info.si_status = (status >> 8) & 0xff;
        } else if ((status & 0xff) == 0x7f) {
            info.si_code = CLD_STOPPED;
            info.si_status = (status >> 8) & 0xff;
        } else if (status == 0xffff) {
            info.si_code = CLD_CONTINUED;
            info.si_status = SIGCONT;
        } else {
            info.si_code = (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
            info.si_status = status & 0x7f;
        }
    }
    if (args.a2) TRY(UserOut<siginfo_t>(args.a2).write(info));  // zeroed when nothing was ready (WNOHANG)
    if (args.a4) TRY(UserOut<rusage>(args.a4).write(cputime::to_rusage(usage)));
    return 0;
}

}  // namespace keel
