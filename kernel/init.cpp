#include "kernel/init.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/debug_exit.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/crashtest.h"
#include "drivers/tty/tty.h"
#include "fs/dev/chrdev.h"
#include "kernel/ktest.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/process/process.h"
#include "kernel/psi/psi.h"
#include "kernel/sched/scheduler.h"
#include "kernel/time.h"
#include "fs/dev/chrdev.h"
#include "fs/root.h"
#include "kernel/initramfs.h"
#include "lib/cpio.h"
#include "mm/layout.h"

namespace keel {

extern Cmdline kernel_cmdline;
extern u64 boot_tsc_kmain;

namespace {

// Nanoseconds since reset, as the TSC counts them (it starts near 0 at reset
// in QEMU; under -icount it counts one per instruction).
unsigned long long since_reset_ns() { return time::tsc_to_ns(arch::rdtsc()); }

void check_initramfs() {
    auto img = initramfs_image();
    if (img.is_error() && img.error().code() == ENOENT) {
        pr_err("No initramfs found: the boot loader passed no initrd");
        panic("No working init found. Try passing an initramfs (-initrd) or init= option to kernel.");
    }
    auto r = img.is_ok() ? cpio_validate(img.value().data, img.value().size) : Result<CpioSummary>(img.error());
    if (r.is_error()) {
        pr_err("initramfs is %s (%llu bytes at %llx): cannot unpack it",
               r.error().code() == ENODATA ? "truncated" : "not a valid (compressed) cpio newc archive",
               static_cast<unsigned long long>(boot_info.initrd_size),
               static_cast<unsigned long long>(boot_info.initrd_phys));
        panic("VFS: Unable to mount root fs: bad initramfs");
    }
    pr_info("initramfs: %zu files, %zu bytes of data", r.value().files, r.value().bytes);
}

// Linux's rules: init= names the program, else /init from the initramfs
// (rdinit= overrides that name); unknown parameters are its arguments and
// environment, after HOME=/ and TERM=linux.
[[noreturn]] void start_init() {
    const char* path = "/init";
    if (auto v = kernel_cmdline.get("rdinit"); v.has_value()) path = v.value().data();
    if (auto v = kernel_cmdline.get("init"); v.has_value()) path = v.value().data();
    const char* argv[Cmdline::kMaxInitArgs + 2] = {path};
    usize argc = 1;
    for (usize i = 0; i < kernel_cmdline.init_argc(); ++i) argv[argc++] = kernel_cmdline.init_argv()[i];
    argv[argc] = nullptr;
    const char* envp[Cmdline::kMaxInitEnvs + 3] = {"HOME=/", "TERM=linux"};
    usize envc = 2;
    for (usize i = 0; i < kernel_cmdline.init_envc(); ++i) envp[envc++] = kernel_cmdline.init_envp()[i];
    envp[envc] = nullptr;
    Status st = proc::run_init(path, argv, envp);
    panic("Requested init %s failed (error %d).", path, st.error().code());
}

void kinit(void*) {
    unsigned long long first = since_reset_ns();
    pr_info("boot: first kernel thread at %llu ns since reset", first);
    psi::init();  // before the ktests: they use psimon
    if (auto spec = kernel_cmdline.get("ktest"); spec.has_value()) ktest_run(spec.value().data());
    if (auto crash = kernel_cmdline.get("keel.crashtest"); crash.has_value()) crashtest_run(crash.value());

    if (kernel_cmdline.has("keel.bench")) {
        if (boot_info.initrd_size) check_initramfs();
        unsigned long long ready = since_reset_ns();
        printk(LOG_EMERG, "keel-bench: kmain_ns=%llu first_kthread_ns=%llu init_ready_ns=%llu\n",
               static_cast<unsigned long long>(time::tsc_to_ns(boot_tsc_kmain)), first, ready);
        arch::qemu_debug_exit(arch::DEBUG_EXIT_PASS);
    }
    check_initramfs();
    fs::register_mem_devices();
    tty::register_tty_devices();
    if (Status st = fs::mount_root(); st.is_error())
        panic("VFS: Unable to mount root fs (error %d)", st.error().code());
    pr_info("boot: ready to start init at %llu ns since reset", since_reset_ns());
    start_init();
}

}  // namespace

void start_kernel_threads() {
    auto t = sched::spawn_kthread("kinit", kinit, nullptr);
    if (t.is_error()) panic("cannot create the first kernel thread: error %d", t.error().code());
}

}  // namespace keel
