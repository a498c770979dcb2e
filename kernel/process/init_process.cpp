// pid 1: the first user program, started from the initramfs.

#include "arch/x86_64/fpu.h"
#include "fs/console.h"
#include "fs/root.h"
#include "kernel/signal/handlers.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "kernel/process/exec.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/time.h"
#include "lib/alloc.h"
#include "lib/cpio.h"
#include "lib/string.h"
#include "mm/layout.h"

namespace keel::proc {

Status run_init(const char* path, const char* const* argv, const char* const* envp) {
    ExecFile file = TRY(open_exec(StringView(path)));
    Process* p = TRY(make<Process>());
    p->pid = TRY(alloc_pid());
    // Linux's init runs in the kernel's session and group, 0.
    p->pgid = p->sid = 0;
    p->thread = sched::current();
    default_rlimits(p->rlimits);
    p->sighand = TRY(make<sig::Handlers>());
    p->fs_root = fs::root_path();
    p->fs_cwd = fs::root_path();
    p->start_time_ns = time::monotonic_ns();
    attach_child(nullptr, p);
    p->fds = TRY(make<FdTable>());
    fs::console_init_input();
    fs::OpenFile* console = fs::console_open();
    for (int fd = 0; fd < 3; ++fd) {
        if (fd) console->get();
        MUST(p->fds->install(console, fd));
    }
    StringView base(path);
    usize slash = base.rfind('/');
    if (slash != StringView::npos) base = base.substr(slash + 1);
    str_lcpy(p->comm, base.data(), min<usize>(sizeof(p->comm), base.size() + 1));

    sched::Thread* self = sched::current();
    self->fpu = TRY(arch::fpu_state_alloc());
    TRY(add_thread(*p, *self, p->pid));

    StringView argv_views[64];
    StringView envp_views[64];
    usize argc = 0, envc = 0;
    for (; argv[argc] && argc < 64; ++argc) argv_views[argc] = StringView(argv[argc]);
    for (; envp[envc] && envc < 64; ++envc) envp_views[envc] = StringView(envp[envc]);
    exec::ExecArgs args{argv_views, argc, envp_views, envc, StringView(path)};

    arch::TrapFrame frame;
    Status st = exec_file(*p, file, args, frame);
    file.backing->put();
    TRY(st);
    pr_info("Run %s as init process", path);
    enter_user(frame);
}

}  // namespace keel::proc
