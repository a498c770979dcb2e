// devtmpfs: the tmpfs instance the kernel fills with a node for every
// device it registers, and that init mounts on /dev. As in Linux there is
// one instance: every mount shows the same tree, and what user space
// creates there survives an unmount.
#include "fs/dev/devtmpfs.h"

#include "fs/core/tmpfs.h"
#include "fs/root.h"

namespace keel::fs {

namespace {

// The nodes Linux 6.12's devtmpfs shows for the devices Keel has, with the
// modes their drivers ask for (0600 when a driver says nothing).
struct Node {
    const char* name;
    u32 major, minor, mode;
};
constexpr Node kNodes[] = {
    {"console", 5, 1, 0600}, {"tty", 5, 0, 0666},    {"ptmx", 5, 2, 0666},   {"ttyS0", 4, 64, 0600},
    {"null", 1, 3, 0666},    {"zero", 1, 5, 0666},   {"full", 1, 7, 0666},   {"random", 1, 8, 0666},
    {"urandom", 1, 9, 0666}, {"kmsg", 1, 11, 0644},
};

Result<RefPtr<Superblock>> devtmpfs_mount(const FsType&, StringView, u32, StringView);
FsType g_devtmpfs_type{"devtmpfs", 0x01021994 /* TMPFS_MAGIC */, &devtmpfs_mount};

// Keeps the instance alive (and its contents) between mounts.
RefPtr<Mount> g_internal;

Status populate(const Path& root) {
    const Cred& cred = kernel_cred();
    for (const Node& n : kNodes) {
        LookupRequest at{cred, root, root, n.name};
        TRY(mknod(at, S_IFCHR | n.mode, make_dev(n.major, n.minor)));
    }
    LookupRequest pts{cred, root, root, "pts"};
    TRY(mkdir(pts, 0755));
    LookupRequest shm{cred, root, root, "shm"};
    TRY(mkdir(shm, 01777));
    return {};
}

Result<RefPtr<Superblock>> devtmpfs_mount(const FsType&, StringView, u32, StringView) {
    // Mount options are ignored, as Linux ignores them for devtmpfs.
    if (g_internal) return RefPtr<Superblock>(&g_internal->sb());
    TmpfsOptions opts;
    opts.mode = 0755;
    RefPtr<Superblock> sb = TRY(tmpfs_create(opts, 0, &g_devtmpfs_type));
    RefPtr<Mount> mnt = TRY(make_ref<Mount>(sb, RefPtr<Dentry>(&sb->root()), 0u));
    TRY(populate(mnt->root_path()));
    g_internal = move(mnt);
    return sb;
}

}  // namespace

FsType& devtmpfs_type() { return g_devtmpfs_type; }

}  // namespace keel::fs
