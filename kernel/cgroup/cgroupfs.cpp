// The cgroup2 file system. Each mount has its own superblock and dentry
// cache over the single hierarchy, so directories and files are inodes made
// on lookup that name a cgroup (with a reference) and, for files, a
// FileDef. Lookups revalidate: cgroups and controller files come and go
// through other mounts and through cgroup.subtree_control.
#include "kernel/cgroup/cgroupfs.h"

#include <linux/magic.h>
#include <linux/poll.h>

#include "fs/core/file.h"
#include "fs/core/mount.h"
#include "fs/file.h"
#include "kernel/cgroup/files.h"
#include "kernel/process/process.h"
#include "kernel/psi/psi.h"
#include "lib/alloc.h"
#include "lib/string.h"

namespace keel::cgroup {

namespace {

constexpr u64 CHILD_BASE = 1ull << 32;  // directory positions of child cgroups
constexpr usize MAX_WRITE = 4096;        // kernfs takes at most a page per write

class CgSuper final : public fs::Superblock {
public:
    CgSuper(const fs::FsType& type, fs::DevId dev) : Superblock(type, dev) {}
    Status init();
    Status statfs(fs::StatFs& out) override {
        out.type = CGROUP2_SUPER_MAGIC;
        out.bsize = 4096;
        out.frsize = 4096;
        out.namelen = NAME_MAX;
        return {};
    }
    u64 next_ino() { return __atomic_add_fetch(&next_ino_, 1, __ATOMIC_RELAXED); }

private:
    u64 next_ino_ = 1ull << 40;  // files; directories use their cgroup's id
};

class CgInode : public fs::Inode {
public:
    CgInode(CgSuper& sb, u64 ino, u32 mode, Cgroup& c) : Inode(sb, ino, mode), cg_(&c) {
        get(c);
        fs::InodeAttr& a = attr_locked();
        a.nlink = (mode & S_IFMT) == S_IFDIR ? 2 : 1;
        a.uid = c.owner_uid;
        a.gid = c.owner_gid;
        a.atime = a.mtime = a.ctime = fs::current_time();
    }
    ~CgInode() override { put(cg_); }
    Cgroup& cg() const { return *cg_; }
    CgSuper& csb() const { return static_cast<CgSuper&>(sb()); }

private:
    Cgroup* cg_;
};

class CgFile final : public CgInode {
public:
    CgFile(CgSuper& sb, Cgroup& c, const FileDef& def)
        : CgInode(sb, sb.next_ino(), S_IFREG | def.mode, c), def_(def) {}
    const FileDef& def() const { return def_; }
    bool generated() const override { return true; }
    Status truncate(u64) override { return {}; }

    Result<usize> read(u64 off, fs::DataBuffer& out, usize at, usize n) override {
        if (!def_.show) return Error(EINVAL);
        fs::SeqBuf text;
        {
            sched::MutexGuard g(tree_mutex());
            if (cg().removed) return Error(ENODEV);
            TRY(def_.show(text, cg()));
        }
        return text.copy_window(off, out, at, n);
    }

    Result<usize> write(u64, fs::DataBuffer& in, usize at, usize n) override {
        if (!def_.store) return Error(EINVAL);
        if (n == 0) return usize(0);
        usize len = min(n, MAX_WRITE);
        char* buf = static_cast<char*>(heap_alloc(len + 1));
        if (!buf) return Error(ENOMEM);
        usize got = in.copy_in(at, buf, len);
        Status st = got == len ? Status() : Status(Error(EFAULT));
        if (st.is_ok()) {
            sched::MutexGuard g(tree_mutex());
            st = cg().removed ? Status(Error(ENODEV)) : def_.store(cg(), StringView(buf, len));
        }
        heap_free(buf);
        if (st.is_error()) return st.error();
        return len;
    }

    // Pressure files: psi's description (a trigger per open file).
    Result<fs::OpenFile*> open_description(fs::File& file) override {
        if (def_.open) {
            sched::MutexGuard g(tree_mutex());
            if (cg().removed) return Error(ENODEV);
            return def_.open(file, cg());
        }
        if (def_.psi_res < 0) return static_cast<fs::OpenFile*>(nullptr);
        sched::MutexGuard g(tree_mutex());
        if (cg().removed) return Error(ENODEV);
        return psi::open_pressure_file(file, psi_of(cg()), static_cast<psi::Resource>(def_.psi_res),
                                       psi::WriteStyle::Kernfs);
    }

    // kernfs counts from 1, so a description that has not read yet sees a
    // change too.
    u64 event_count() const override {
        switch (def_.notify) {
        case Notify::Events: return 1 + __atomic_load_n(&cg().events_seq, __ATOMIC_RELAXED);
        case Notify::PidsEvents: return 1 + __atomic_load_n(&cg().pids_events_seq, __ATOMIC_RELAXED);
        case Notify::MemEvents: return 1 + __atomic_load_n(&cg().mem_events_seq, __ATOMIC_RELAXED);
        case Notify::MemEventsLocal: return 1 + __atomic_load_n(&cg().mem_events_local_seq, __ATOMIC_RELAXED);
        default: return 1;
        }
    }

    // Every kernfs file polls, so epoll takes any of them.
    bool has_poll() const override { return true; }
    // kernfs: readable and writable always; POLLERR|POLLPRI once the file
    // changed since this open file description last read it.
    u32 poll(void* table, u64 seen) override {
        if (table) static_cast<fs::PollTable*>(table)->add(cg().events_wq);
        u32 mask = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
        if (event_count() != seen) mask |= POLLERR | POLLPRI;
        return mask;
    }

private:
    const FileDef& def_;
};

class CgDir final : public CgInode {
public:
    CgDir(CgSuper& sb, Cgroup& c, u32 mode) : CgInode(sb, c.id, mode, c) {}

    // kernfs: 2 + the number of subdirectories.
    void getattr_extra(struct statx& out, u32) const override {
        out.stx_nlink = 2 + __atomic_load_n(&cg().nr_children, __ATOMIC_RELAXED);
    }

    Result<RefPtr<fs::Inode>> lookup(StringView name) override {
        sched::MutexGuard g(tree_mutex());
        if (const FileDef* f = find_file(cg(), name)) return file_inode(*f);
        if (Cgroup* child = find_child(cg(), name)) return dir_inode(*child, S_IFDIR | 0755);
        return Error(ENOENT);
    }

    bool revalidate(StringView name, fs::Inode* cached) override {
        if (!cached) return false;
        sched::MutexGuard g(tree_mutex());
        if (cached->is_dir()) return find_child(cg(), name) == &static_cast<CgInode*>(cached)->cg();
        return find_file(cg(), name) == &static_cast<CgFile*>(cached)->def();
    }

    Result<RefPtr<fs::Inode>> create(StringView name, const fs::CreateArgs& args) override {
        if ((args.mode & S_IFMT) != S_IFDIR) return Error(ENOSYS);
        sched::MutexGuard g(tree_mutex());
        if (find_file(cg(), name)) return Error(EEXIST);
        Cgroup* c = TRY(cgroup::create(cg(), name));
        c->owner_uid = args.uid;
        c->owner_gid = args.gid;
        auto inode = dir_inode(*c, args.mode);
        if (inode.is_error()) {
            (void)cgroup::remove(*c);
            return inode.error();
        }
        return inode;
    }

    Status rmdir(StringView, fs::Inode& victim) override {
        sched::MutexGuard g(tree_mutex());
        return cgroup::remove(static_cast<CgDir&>(victim).cg());
    }

    Status iterate(u64 pos, fs::DirEmitter& out) override {
        sched::MutexGuard g(tree_mutex());
        for (u64 i = pos < 2 ? 0 : pos - 2; i < nfiles() && pos < CHILD_BASE; ++i) {
            const FileDef& f = file_at(i);
            if (!file_visible(f, cg())) continue;
            if (!out.emit(f.name, (1ull << 40) + i, fs::DT_REG, i + 3)) return {};
        }
        u64 from = pos < CHILD_BASE ? 0 : pos - CHILD_BASE;
        // Children in creation order, which is the order of their ids.
        bool full = false;
        cg().children.for_each([&](Cgroup& c) {
            if (full || c.id < from) return;
            full = !out.emit(c.name, c.id, fs::DT_DIR, CHILD_BASE + c.id + 1);
        });
        return {};
    }

private:
    Result<RefPtr<fs::Inode>> file_inode(const FileDef& f) {
        fs::Inode* made = TRY(make<CgFile>(csb(), cg(), f));
        return RefPtr<fs::Inode>(made);
    }
    Result<RefPtr<fs::Inode>> dir_inode(Cgroup& c, u32 mode) {
        fs::Inode* made = TRY(make<CgDir>(csb(), c, S_IFDIR | (mode & 07777)));
        return RefPtr<fs::Inode>(made);
    }
};

Status CgSuper::init() {
    // The root directory is read-only to everyone but privileged users
    // (0555), as Linux shows it.
    auto made = make<CgDir>(*this, cgroup::root(), S_IFDIR | 0555);
    if (made.is_error()) return made.error();
    return set_root(RefPtr<fs::Inode>(made.value()));
}

// The one instance, kept mounted internally: as on Linux every mount shows
// the same superblock (a second mount on the same place is EBUSY) and the
// hierarchy outlives its mounts.
RefPtr<fs::Mount> g_internal;

Result<RefPtr<fs::Superblock>> cgroup2_mount(const fs::FsType& type, StringView, u32, StringView data) {
    // Linux's cgroup2 options; accepted (none changes what Keel does yet).
    while (!data.empty()) {
        usize comma = data.find(',');
        StringView opt = data.substr(0, comma);
        data.remove_prefix(comma == StringView::npos ? data.size() : comma + 1);
        if (opt.empty()) continue;
        if (opt != "nsdelegate" && opt != "favordynmods" && opt != "memory_localevents" &&
            opt != "memory_recursiveprot" && opt != "memory_hugetlb_accounting" && opt != "pids_localevents")
            return Error(EINVAL);
    }
    sched::MutexGuard g(tree_mutex());
    if (g_internal) return RefPtr<fs::Superblock>(&g_internal->sb());
    fs::DevId dev = TRY(fs::alloc_anon_dev());
    auto made = make<CgSuper>(type, dev);
    if (made.is_error()) {
        fs::free_anon_dev(dev);
        return made.error();
    }
    RefPtr<CgSuper> sb(made.value());
    TRY(sb->init());
    g_internal = TRY(make_ref<fs::Mount>(RefPtr<fs::Superblock>(sb.get()), RefPtr<fs::Dentry>(&sb->root()), 0u));
    return RefPtr<fs::Superblock>(move(sb));
}

fs::FsType g_cgroup2_type{"cgroup2", CGROUP2_SUPER_MAGIC, &cgroup2_mount};

}  // namespace

fs::FsType& cgroup2_type() { return g_cgroup2_type; }

Result<Cgroup*> cgroup_from_fd(int fd) {
    proc::Process* p = proc::current_process();
    fs::FileRef f = p->fds->get(fd);
    if (!f) return Error(EBADF);
    fs::File* vf = f->vfs_file();
    if (!vf) return Error(EBADF);
    fs::Inode& inode = vf->inode();
    if (&inode.sb().type() != &g_cgroup2_type || !inode.is_dir()) return Error(EBADF);
    Cgroup& c = static_cast<CgDir&>(inode).cg();
    sched::MutexGuard g(tree_mutex());
    if (c.removed) return Error(ENOENT);
    get(c);
    return &c;
}

Status may_write_procs(const Cgroup& c, const fs::Cred& cred) {
    char* path = static_cast<char*>(heap_alloc(PATH_MAX));
    if (!path) return Error(ENOMEM);
    path_of(c, path, PATH_MAX - 16);
    // Relative to the hierarchy's root: "a/b/cgroup.procs".
    const char* rel = path[1] ? path + 1 : "";
    usize n = str_len(rel);
    char* full = static_cast<char*>(heap_alloc(n + 16));
    if (!full) {
        heap_free(path);
        return Error(ENOMEM);
    }
    mem_copy(full, rel, n);
    if (n) full[n++] = '/';
    mem_copy(full + n, "cgroup.procs", 13);
    Status st = {};
    {
        RefPtr<fs::Mount> mnt;
        {
            sched::MutexGuard g(tree_mutex());
            mnt = g_internal;
        }
        if (!mnt) {
            st = Error(ENOENT);
        } else {
            fs::Path top(mnt, RefPtr<fs::Dentry>(&mnt->root()));
            fs::Cred kernel = fs::Cred::root();
            fs::LookupRequest req{kernel, top, top, StringView(full)};
            auto found = fs::lookup(req);
            if (found.is_error()) st = found.error();
            else st = fs::inode_permission(*found.value().inode(), cred, fs::MAY_WRITE);
        }
    }
    heap_free(full);
    heap_free(path);
    return st;
}

Status show_proc_cgroup(fs::SeqBuf& out, const Cgroup& c) {
    char* path = static_cast<char*>(heap_alloc(PATH_MAX));
    if (!path) return Error(ENOMEM);
    path_of(c, path, PATH_MAX);
    out.printf("0::%s\n", path);
    heap_free(path);
    return {};
}

}  // namespace keel::cgroup
