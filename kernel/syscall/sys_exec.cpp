// execve: copying the arguments in, then exec_file.
#include <linux/limits.h>

#include "kernel/exec/user_stack.h"
#include "kernel/process/exec.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "kernel/process/posix_timers.h"
#include "kernel/process/rseq.h"
#include "kernel/sched/scheduler.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"
#include "lib/string.h"
#include "mm/slab.h"

namespace keel {

namespace {

// The strings of argv and envp, copied into one arena. Linux's total limit
// is 2 MiB with the default stack rlimit (exec_args_check applies it
// exactly); the arena and the string table start small and double as
// needed, since nearly every exec passes a few hundred bytes.
constexpr usize ARENA_MAX = 2 * MiB + PATH_MAX;
constexpr usize MAX_STRINGS = ARENA_MAX / 8;

struct ArgCopy {
    char* arena = nullptr;
    usize arena_size = 0;
    usize used = 0;
    StringView* views = nullptr;
    usize views_size = 0;
    usize argc = 0, envc = 0;

    ~ArgCopy() {
        mm::kfree(arena);
        mm::kfree(views);
    }

    // Doubles a buffer, keeping its contents; views into the arena move too.
    Status grow_arena() {
        if (arena_size >= ARENA_MAX) return Error(E2BIG);
        usize n = arena_size ? min(arena_size * 2, ARENA_MAX) : 16 * 1024;
        char* bigger = static_cast<char*>(TRY(mm::kmalloc(n)));
        if (arena) {
            __builtin_memcpy(bigger, arena, used);
            for (usize i = 0; i < argc + envc + pending_; ++i)
                views[i] = StringView(bigger + (views[i].data() - arena), views[i].size());
            mm::kfree(arena);
        }
        arena = bigger;
        arena_size = n;
        return {};
    }

    Status grow_views() {
        if (views_size >= MAX_STRINGS) return Error(E2BIG);
        usize n = views_size ? min(views_size * 2, MAX_STRINGS) : 64;
        auto* bigger = static_cast<StringView*>(TRY(mm::kmalloc(n * sizeof(StringView))));
        for (usize i = 0; i < views_size; ++i) bigger[i] = views[i];
        mm::kfree(views);
        views = bigger;
        views_size = n;
        return {};
    }

    // Copies the NULL-terminated array of strings at `user` (0: none).
    Result<usize> copy_vector(uptr user, usize first) {
        usize n = 0;
        for (; user; ++n) {
            if (first + n >= views_size) TRY(grow_views());
            u64 ptr = TRY(UserIn<u64>(user).offset(n).read());
            if (!ptr) break;
            for (;;) {
                usize room = arena_size - used;
                auto len = room ? strncpy_from_user(arena + used, ptr, min<usize>(room, exec::kMaxArgStrlen), E2BIG)
                                : Result<usize>(Error(E2BIG));
                if (len.is_ok()) {
                    views[first + n] = StringView(arena + used, len.value());
                    used += len.value() + 1;
                    break;
                }
                // Out of room in the arena (not the string's own limit): grow.
                if (len.error().code() != E2BIG || room >= exec::kMaxArgStrlen) return len.error();
                pending_ = n;
                TRY(grow_arena());
                pending_ = 0;
            }
        }
        return n;
    }

private:
    usize pending_ = 0;  // views of the vector being copied, for grow_arena
};

}  // namespace

SYSCALL(execve) {
    char path[PATH_MAX];
    usize path_len = TRY(strncpy_from_user(path, args.a0, sizeof(path), ENAMETOOLONG));
    if (path_len == 0) return Error(ENOENT);

    ArgCopy copy;
    TRY(copy.grow_arena());
    TRY(copy.grow_views());
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
    ptimer::exec(p);
    rseq::exec(*sched::current());
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
