// execve and execveat: copying the arguments in, then exec_file.
#include <linux/fcntl.h>
#include <linux/limits.h>

#include "kernel/exec/user_stack.h"
#include "kernel/process/caps.h"
#include "kernel/process/exec.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "kernel/syscall/path_args.h"
#include "kernel/process/posix_timers.h"
#include "kernel/process/rseq.h"
#include "kernel/sched/scheduler.h"
#include "kernel/syscall/syscall.h"
#include "lib/alloc.h"
#include "kernel/uaccess.h"
#include "lib/format.h"
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

namespace {

// execve and execveat: `dirfd` and `flags` (AT_EMPTY_PATH,
// AT_SYMLINK_NOFOLLOW) as execveat takes them.
// The path-sized buffers of one exec: on the heap, since together they
// would take most of a 16 KiB kernel stack that exec_file also needs.
struct ExecNames {
    sysarg::PathArg path;
    char name[PATH_MAX + 32];
    char link[PATH_MAX];
};

Result<u64> do_exec_with(ExecNames& names, int dirfd, uptr upath, uptr uargv, uptr uenvp, u32 flags,
                         arch::TrapFrame& frame) {
    sysarg::PathArg& path = names.path;
    TRY(sysarg::copy_path(upath, path, flags & AT_EMPTY_PATH));
    if (flags & ~static_cast<u32>(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) return Error(EINVAL);
    proc::Process& p = *proc::current_process();
    // The name the new image sees (AT_EXECFN, comm): a path relative to a
    // descriptor becomes "/dev/fd/N[/path]", as Linux's bprm->filename.
    char* name = names.name;
    StringView execfn = path.view();
    bool by_fd = dirfd != AT_FDCWD && (path.len == 0 || path.buf[0] != '/');
    if (by_fd) {
        int n = path.len ? format(name, sizeof(names.name), "/dev/fd/%d/%s", dirfd, path.buf) : format(name, sizeof(names.name), "/dev/fd/%d", dirfd);
        execfn = StringView(name, static_cast<usize>(n));
    }

    ArgCopy copy;
    TRY(copy.grow_arena());
    TRY(copy.grow_views());
    copy.argc = TRY(copy.copy_vector(uargv, 0));
    copy.envc = TRY(copy.copy_vector(uenvp, copy.argc));
    exec::ExecArgs ea{copy.views, copy.argc, copy.views + copy.argc, copy.envc, execfn};

    // Relative paths start at the cwd or dirfd; absolute ones ignore dirfd.
    proc::ExecFile file;
    if (by_fd) {
        fs::Path base = TRY(sysarg::base_for(dirfd));
        if (path.len == 0) {
            file = TRY(proc::open_exec_path(base));
        } else {
            u32 lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : fs::LOOKUP_FOLLOW;
            file = TRY(proc::open_exec(path.view(), &base, lf));
        }
    } else {
        file = TRY(proc::open_exec(path.view(), nullptr, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : fs::LOOKUP_FOLLOW));
    }
    // comm is the last part of execfn, except for a descriptor itself
    // (AT_EMPTY_PATH): then the file's own name (Linux's comm_from_dentry).
    StringView comm = execfn;
    if (by_fd && path.len == 0) {
        fs::Path root = p.root();
        if (auto r = fs::path_for_link(file.path, root, names.link, sizeof(names.link)); r.is_ok()) comm = r.value();
    }
    Status st = proc::exec_file(p, file, ea, frame);
    file.backing->put();
    TRY(st);

    // Past the point of no return: handlers reset, descriptors marked
    // close-on-exec go.
    sig::exec_reset_handlers(p);
    ptimer::exec(p);
    rseq::exec(*sched::current());
    // The robust list and the CLONE_CHILD_CLEARTID word named the old image.
    sched::current()->robust_list = 0;
    sched::current()->clear_child_tid = 0;
    caps::exec(p);  // capability sets, KEEP_CAPS and dumpability after execve
    p.fds->close_on_exec();
    StringView base = comm;
    usize slash = base.rfind('/');
    if (slash != StringView::npos) base = base.substr(slash + 1);
    usize n = min<usize>(base.size(), sizeof(p.comm) - 1);
    __builtin_memcpy(p.comm, base.data(), n);
    p.comm[n] = 0;
    return 0;  // rax of the new image
}

Result<u64> do_exec(int dirfd, uptr upath, uptr uargv, uptr uenvp, u32 flags, arch::TrapFrame& frame) {
    ExecNames* names = TRY(make<ExecNames>());
    Result<u64> r = do_exec_with(*names, dirfd, upath, uargv, uenvp, flags, frame);
    destroy(names);
    return r;
}

}  // namespace

SYSCALL(execve) { return do_exec(AT_FDCWD, args.a0, args.a1, args.a2, 0, *args.frame); }

SYSCALL(execveat) {
    return do_exec(static_cast<int>(args.a0), args.a1, args.a2, args.a3, static_cast<u32>(args.a4), *args.frame);
}

}  // namespace keel
