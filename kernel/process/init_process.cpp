// pid 1: the first user program, started from the initramfs.
//
// Until the VFS is in place the program is found directly in the cpio
// archive the boot loader passed (symbolic links followed); exec itself
// goes through the same ExecFile interface the VFS will provide.
#include <linux/stat.h>

#include "arch/x86_64/fpu.h"
#include "fs/console.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "kernel/process/exec.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "lib/alloc.h"
#include "lib/cpio.h"
#include "lib/string.h"
#include "mm/layout.h"

namespace keel::proc {

namespace {

class StaticBacking final : public mm::VmBacking {
public:
    StaticBacking(const u8* data, u64 size) : data_(data), size_(size) {}
    Status read_page(u64 offset, void* page) override {
        __builtin_memset(page, 0, mm::PAGE_SIZE);
        if (offset < size_) __builtin_memcpy(page, data_ + offset, min<u64>(mm::PAGE_SIZE, size_ - offset));
        return {};
    }
    void get() override {}
    void put() override {}

private:
    const u8* data_;
    u64 size_;
};

StringView normalize(StringView p) {
    while (!p.empty() && (p[0] == '/' || (p.size() > 1 && p[0] == '.' && p[1] == '/')))
        p = p.substr(p[0] == '/' ? 1 : 2);
    return p;
}

// Finds `path` in the initramfs, following symbolic links (40 at most,
// Linux's limit). Relative link targets are taken from the link's directory.
Result<CpioEntry> find_in_initramfs(StringView path) {
    if (!boot_info.initrd_size) return Error(ENOENT);
    const u8* data = mm::phys_to_ptr<const u8>(boot_info.initrd_phys);
    char buf[512];
    for (int links = 0; links <= 40; ++links) {
        StringView want = normalize(path);
        CpioReader r(data, boot_info.initrd_size);
        bool found = false;
        CpioEntry e;
        for (;;) {
            auto next = r.next();
            if (next.is_error()) break;
            if (normalize(next.value().name) == want) {
                e = next.value();
                found = true;  // keep going: a later entry replaces an earlier one
            }
        }
        if (!found) return Error(ENOENT);
        if ((e.mode & S_IFMT) != S_IFLNK) return e;
        StringView target(reinterpret_cast<const char*>(e.data), e.size);
        usize n = 0;
        if (!target.empty() && target[0] != '/') {
            usize slash = want.rfind('/');
            if (slash != StringView::npos) {
                n = min<usize>(slash + 1, sizeof(buf) - 1);
                __builtin_memcpy(buf, want.data(), n);
            }
        }
        usize k = min<usize>(target.size(), sizeof(buf) - 1 - n);
        __builtin_memcpy(buf + n, target.data(), k);
        path = StringView(buf, n + k);
    }
    return Error(ELOOP);
}

}  // namespace

Status run_init(const char* path, const char* const* argv, const char* const* envp) {
    CpioEntry e = TRY(find_in_initramfs(StringView(path)));
    if ((e.mode & S_IFMT) != S_IFREG) return Error(EACCES);

    Process* p = TRY(make<Process>());
    p->pid = 1;
    p->fds = TRY(make<FdTable>());
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
    self->process = p;

    StringView argv_views[64];
    StringView envp_views[64];
    usize argc = 0, envc = 0;
    for (; argv[argc] && argc < 64; ++argc) argv_views[argc] = StringView(argv[argc]);
    for (; envp[envc] && envc < 64; ++envc) envp_views[envc] = StringView(envp[envc]);
    exec::ExecArgs args{argv_views, argc, envp_views, envc, StringView(path)};

    static StaticBacking backing(nullptr, 0);
    backing = StaticBacking(e.data, e.size);
    ExecFile file{e.data, e.size, &backing};
    arch::TrapFrame frame;
    TRY(exec_image(*p, file, args, frame));
    pr_info("Run %s as init process", path);
    enter_user(frame);
}

}  // namespace keel::proc
