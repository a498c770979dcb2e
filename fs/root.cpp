#include "fs/root.h"

#include "kernel/cgroup/cgroupfs.h"
#include "kernel/cgroup/memcg.h"

#include "fs/core/initramfs.h"
#include "fs/core/tmpfs.h"
#include "fs/core/vfs.h"
#include "fs/proc/procfs.h"
#include "fs/sysfs/sysfs.h"
#include "fs/dev/devtmpfs.h"
#include "drivers/tty/devpts.h"
#include "kernel/initramfs.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "mm/page_alloc.h"

namespace keel::fs {

namespace {

RefPtr<MountNamespace> root_ns;
Cred full_cred{0, 0, nullptr, 0, Cred::ALL_CAPS};

Timespec now() {
    u64 ns = time::realtime_ns();
    return {static_cast<i64>(ns / 1000000000), static_cast<i64>(ns % 1000000000)};
}

// What Linux's built-in initramfs (usr/default_cpio_list) puts in rootfs
// before the external image is unpacked over it: /dev, /dev/console and
// /root, so that init always has a console to open.
Status make_builtin_nodes() {
    Path root = root_path();
    LookupRequest dev{full_cred, root, root, "/dev"};
    TRY(mkdir(dev, 0755));
    LookupRequest console{full_cred, root, root, "/dev/console"};
    TRY(mknod(console, S_IFCHR | 0600, make_dev(5, 1)));
    LookupRequest home{full_cred, root, root, "/root"};
    TRY(mkdir(home, 0700));
    return {};
}

}  // namespace

const Cred& kernel_cred() { return full_cred; }

Path root_path() { return root_ns->root(); }

MountNamespace& root_namespace() { return *root_ns; }

Status mount_root() {
    set_clock(now);
    set_tmpfs_ram_bytes(mm::mem_stats().total_pages * 4096);
    memcg::init();  // tmpfs pages are charged to cgroups
    register_fs_type(tmpfs_type());
    register_fs_type(ramfs_type());
    register_fs_type(proc_fs_type());
    register_fs_type(sysfs_type());
    register_fs_type(cgroup::cgroup2_type());
    register_fs_type(devtmpfs_type());
    register_fs_type(tty::devpts_type());
    TmpfsOptions opts;
    opts.mode = 0755;  // Linux's rootfs
    auto sb = TRY(tmpfs_create(opts));
    root_ns = TRY(MountNamespace::create(move(sb), "rootfs", 0));
    TRY(make_builtin_nodes());
    auto image = initramfs_image();
    if (image.is_error()) return {};  // no initramfs: an empty root
    InitramfsReport report;
    Status st = unpack_initramfs(image.value().data, image.value().size, root_path(), report);
    if (st.is_error()) {
        pr_err("initramfs: %s", report.error ? report.error : "cannot unpack");
        return st;
    }
    pr_info("rootfs: %zu entries unpacked (%zu skipped)", report.entries, report.skipped);
    return {};
}

}  // namespace keel::fs
