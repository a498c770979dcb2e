// devpts over a tmpfs instance under another name: the kernel makes the
// ptmx node and one character node per pty (136:N), owned by whoever
// opened /dev/ptmx unless uid=/gid= say otherwise.
#include "drivers/tty/devpts.h"

#include "drivers/tty/pty.h"
#include "fs/core/tmpfs.h"
#include "fs/core/vfs.h"
#include "fs/root.h"
#include "kernel/process/process.h"
#include "lib/alloc.h"
#include "lib/format.h"

namespace keel::tty {

constexpr u64 kDevptsMagic = 0x1cd1;
constexpr u32 kPtsMajor = 136;

struct DevptsInstance {
    fs::Superblock* sb = nullptr;  // identity only; `internal` keeps it alive
    RefPtr<fs::Mount> internal;
    u32 mode = 0600;
    u32 ptmxmode = 0;
    u32 uid = 0, gid = 0;
    bool set_uid = false, set_gid = false;
    u32 max = kMaxPtys;
    Spinlock lock{LockRank::Device};
    Pty* ptys[kMaxPtys] = {};
    bool taken[kMaxPtys] = {};
};

namespace {

constexpr usize kMaxInstances = 16;
DevptsInstance* g_instances[kMaxInstances];
Spinlock g_instances_lock{LockRank::Device};

Result<RefPtr<fs::Superblock>> devpts_mount(const fs::FsType&, StringView, u32, StringView);
fs::FsType g_devpts_type{"devpts", kDevptsMagic, &devpts_mount};

DevptsInstance* instance_of(const fs::Superblock& sb) {
    SpinlockGuard g(g_instances_lock);
    for (DevptsInstance* i : g_instances)
        if (i && i->sb == &sb) return i;
    return nullptr;
}

bool parse_number(StringView v, int base, u32& out) {
    if (v.empty()) return false;
    u64 n = 0;
    for (char c : v) {
        int d = c - '0';
        if (d < 0 || d >= base) return false;
        n = n * base + d;
        if (n > 0xffffffffu) return false;
    }
    out = static_cast<u32>(n);
    return true;
}

// mode=, ptmxmode= (octal), uid=, gid=, max= (decimal), newinstance.
Status parse_options(StringView data, DevptsInstance& inst) {
    while (!data.empty()) {
        usize comma = data.find(',');
        StringView opt = data.substr(0, comma);
        data = comma == StringView::npos ? StringView() : data.substr(comma + 1);
        if (opt.empty() || opt == "newinstance") continue;
        usize eq = opt.find('=');
        if (eq == StringView::npos) return Error(EINVAL);
        StringView key = opt.substr(0, eq), val = opt.substr(eq + 1);
        u32 n;
        bool octal = key == "mode" || key == "ptmxmode";
        if (!parse_number(val, octal ? 8 : 10, n)) return Error(EINVAL);
        if (key == "mode") inst.mode = n & 07777;
        else if (key == "ptmxmode") inst.ptmxmode = n & 07777;
        else if (key == "uid") inst.uid = n, inst.set_uid = true;
        else if (key == "gid") inst.gid = n, inst.set_gid = true;
        else if (key == "max") inst.max = min<u32>(n, kMaxPtys);
        else return Error(EINVAL);
    }
    return {};
}

Result<RefPtr<fs::Superblock>> devpts_mount(const fs::FsType&, StringView, u32 flags, StringView data) {
    DevptsInstance* inst = TRY(make<DevptsInstance>());
    if (Status st = parse_options(data, *inst); st.is_error()) {
        destroy(inst);
        return st.error();
    }
    fs::TmpfsOptions opts;
    opts.mode = 0755;
    auto sb = fs::tmpfs_create(opts, flags & MS_RDONLY, &g_devpts_type);
    if (sb.is_error()) {
        destroy(inst);
        return sb.error();
    }
    auto mnt = make_ref<fs::Mount>(sb.value(), RefPtr<fs::Dentry>(&sb.value()->root()), 0u);
    if (mnt.is_error()) {
        destroy(inst);
        return mnt.error();
    }
    inst->sb = sb.value().get();
    inst->internal = move(mnt.value());
    fs::Path root = inst->internal->root_path();
    fs::LookupRequest at{fs::kernel_cred(), root, root, "ptmx"};
    Status st = fs::mknod(at, S_IFCHR | inst->ptmxmode, fs::make_dev(5, 2));
    SpinlockGuard g(g_instances_lock);
    usize slot = 0;
    while (slot < kMaxInstances && g_instances[slot]) ++slot;
    if (st.is_error() || slot == kMaxInstances) {
        // The instance is dropped; its superblock dies with the last mount.
        inst->internal = RefPtr<fs::Mount>();
        destroy(inst);
        return st.is_error() ? st.error() : Error(ENOSPC);
    }
    g_instances[slot] = inst;
    return sb.value();
}

}  // namespace

fs::FsType& devpts_type() { return g_devpts_type; }

Result<DevptsInstance*> devpts_for_ptmx(const fs::File& ptmx) {
    const fs::Path& path = ptmx.path();
    if (DevptsInstance* inst = instance_of(path.mnt->sb())) return inst;
    // /dev/ptmx elsewhere: the devpts mounted on "pts" in the same directory.
    fs::Dentry* parent = path.dentry->parent();
    if (!parent) return Error(ENODEV);
    fs::Path dir(path.mnt, RefPtr<fs::Dentry>(parent));
    proc::Process* p = proc::current_process();
    fs::Path root = p->root();
    fs::LookupRequest at{fs::kernel_cred(), root, dir, "pts", fs::LOOKUP_FOLLOW};
    fs::Path pts = TRY(fs::lookup(at));
    DevptsInstance* inst = instance_of(pts.mnt->sb());
    if (!inst || pts.dentry.get() != &pts.mnt->root()) return Error(ENODEV);
    return inst;
}

Result<u32> devpts_add(DevptsInstance& inst, Pty& pty) {
    u32 index = 0;
    {
        SpinlockGuard g(inst.lock);
        while (index < inst.max && inst.taken[index]) ++index;
        if (index == inst.max) return Error(ENOSPC);
        inst.taken[index] = true;
    }
    proc::Process* p = proc::current_process();
    char name[16];
    format(name, sizeof(name), "%u", index);
    fs::Path root = inst.internal->root_path();
    fs::LookupRequest at{fs::kernel_cred(), root, root, name};
    Status st = fs::mknod(at, S_IFCHR | inst.mode, fs::make_dev(kPtsMajor, index));
    if (st.is_ok()) {
        fs::Path node = TRY(fs::lookup(at));
        st = fs::chown(node, inst.set_uid ? inst.uid : p->cred.fsuid, inst.set_gid ? inst.gid : p->cred.fsgid,
                       fs::kernel_cred());
    }
    if (st.is_error()) {
        devpts_kill_node(inst, index);
        devpts_release_index(inst, index);
        return st.error();
    }
    SpinlockGuard g(inst.lock);
    inst.ptys[index] = &pty;
    return index;
}

void devpts_kill_node(DevptsInstance& inst, u32 index) {
    {
        SpinlockGuard g(inst.lock);
        inst.ptys[index] = nullptr;
    }
    char name[16];
    format(name, sizeof(name), "%u", index);
    fs::Path root = inst.internal->root_path();
    fs::LookupRequest at{fs::kernel_cred(), root, root, name};
    (void)fs::unlink(at);
}

void devpts_release_index(DevptsInstance& inst, u32 index) {
    SpinlockGuard g(inst.lock);
    inst.taken[index] = false;
}

Pty* devpts_lookup(const fs::File& node, u32 index) {
    DevptsInstance* inst = instance_of(node.path().mnt->sb());
    if (!inst || index >= kMaxPtys) return nullptr;
    SpinlockGuard g(inst->lock);
    Pty* pty = inst->ptys[index];
    if (pty) pty->get();
    return pty;
}

Result<RefPtr<fs::File>> devpts_open_node(DevptsInstance& inst, u32 index, u32 oflags) {
    char name[16];
    format(name, sizeof(name), "%u", index);
    fs::Path root = inst.internal->root_path();
    fs::LookupRequest at{fs::kernel_cred(), root, root, name};
    fs::Path node = TRY(fs::lookup(at));
    proc::Process* p = proc::current_process();
    (void)p;
    return fs::open_path(node, oflags, fs::kernel_cred());
}

}  // namespace keel::tty
