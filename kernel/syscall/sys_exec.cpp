// execve: copying the arguments in, then exec_file.
#include <linux/limits.h>

#include "kernel/exec/user_stack.h"
#include "kernel/process/exec.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "lib/string.h"
#include "mm/vmalloc.h"

namespace keel {

namespace {

// The strings of argv and envp, copied into one arena. Linux's total limit
// is 2 MiB with the default stack rlimit (exec_args_check applies it
// exactly); the arena is that big.
constexpr usize ARENA = 2 * MiB + PATH_MAX;
constexpr usize MAX_STRINGS = ARENA / 8;

struct ArgCopy {
    char* arena = nullptr;
    usize used = 0;
    StringView* views = nullptr;
    usize argc = 0, envc = 0;

    ~ArgCopy() {
        mm::vfree(arena);
        mm::vfree(views);
    }

    // Copies the NULL-terminated array of strings at `user` (0: none).
    Result<usize> copy_vector(uptr user, usize first) {
        usize n = 0;
        for (; user; ++n) {
            if (first + n >= MAX_STRINGS) return Error(E2BIG);
            u64 ptr = TRY(UserIn<u64>(user).offset(n).read());
            if (!ptr) break;
            usize room = ARENA - used;
            if (room == 0) return Error(E2BIG);
            usize len = TRY(strncpy_from_user(arena + used, ptr, min<usize>(room, exec::kMaxArgStrlen), E2BIG));
            views[first + n] = StringView(arena + used, len);
            used += len + 1;
        }
        return n;
    }
};

}  // namespace

SYSCALL(execve) {
    char path[PATH_MAX];
    usize path_len = TRY(strncpy_from_user(path, args.a0, sizeof(path), ENAMETOOLONG));
    if (path_len == 0) return Error(ENOENT);

    ArgCopy copy;
    copy.arena = static_cast<char*>(TRY(mm::vmalloc(ARENA)));
    copy.views = static_cast<StringView*>(TRY(mm::vmalloc(MAX_STRINGS * sizeof(StringView))));
    copy.argc = TRY(copy.copy_vector(args.a1, 0));
    copy.envc = TRY(copy.copy_vector(args.a2, copy.argc));
    exec::ExecArgs ea{copy.views, copy.argc, copy.views + copy.argc, copy.envc, StringView(path, path_len)};

    proc::ExecFile file = TRY(proc::open_exec(StringView(path, path_len)));
    proc::Process& p = *proc::current_process();
    Status st = proc::exec_file(p, file, ea, *args.frame);
    file.backing->put();
    TRY(st);

    // Past the point of no return: handlers reset, descriptors marked
    // close-on-exec go.
    sig::exec_reset_handlers(p);
    for (int fd = 0; fd < proc::MAX_FDS; ++fd)
        if (p.fds->cloexec[fd / 64] & (1ull << (fd % 64))) {
            (void)p.fds->close(fd);
            p.fds->cloexec[fd / 64] &= ~(1ull << (fd % 64));
        }
    StringView base(path, path_len);
    usize slash = base.rfind('/');
    if (slash != StringView::npos) base = base.substr(slash + 1);
    usize n = min<usize>(base.size(), sizeof(p.comm) - 1);
    __builtin_memcpy(p.comm, base.data(), n);
    p.comm[n] = 0;
    return 0;  // rax of the new image
}

}  // namespace keel
