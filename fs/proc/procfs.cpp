// procfs: the instance, the inode kinds and the directory logic.
#include "fs/proc/procfs.h"

#include <linux/magic.h>

#include "fs/proc/procfs_internal.h"
#include "kernel/process/proc_info.h"
#include "kernel/sched/scheduler.h"
#include "lib/alloc.h"
#include "lib/format.h"
#include "lib/string.h"
#include "fs/core/vfs.h"

namespace keel::fs::procfs {

// ---- Instances --------------------------------------------------------------

ProcSuper::ProcSuper(const FsType& type, DevId dev, u64 magic, u32 file_size)
    : Superblock(type, dev), magic_(magic), file_size_(file_size) {
    block_size_ = file_size ? 4096 : 1024;  // st_blksize as Linux's procfs and sysfs show it
}

Status ProcSuper::init(const ProcEntry* table, usize n, DirKind kind) {
    Target none;
    auto made = make<ProcDir>(*this, S_IFDIR | 0555, none, table, n, kind);
    if (made.is_error()) return made.error();
    RefPtr<Inode> root(made.value());
    u32 subdirs = 0;
    for (usize i = 0; i < n; ++i)
        if ((table[i].mode & S_IFMT) == S_IFDIR) ++subdirs;
    root->attr_locked().nlink = 2 + subdirs;
    return set_root(move(root));
}

Status ProcSuper::statfs(StatFs& out) {
    out.type = magic_;
    out.bsize = 4096;  // simple_statfs: PAGE_SIZE
    out.frsize = 4096;
    out.namelen = NAME_MAX;
    return {};
}

// ---- Inodes -----------------------------------------------------------------

ProcInode::ProcInode(ProcSuper& sb, u32 mode, const Target& t) : Inode(sb, sb.next_ino(), mode), target_(t) {
    InodeAttr& a = attr_locked();
    a.nlink = (mode & S_IFMT) == S_IFDIR ? 2 : 1;
    a.atime = a.mtime = a.ctime = current_time();
}

void set_owner(Inode& inode, const Target& t) {
    if (!t.tgid) return;
    proc::TaskInfo info;
    if (proc::task_info(t.tgid, 0, info).is_error()) return;
    InodeAttr& a = inode.attr_locked();
    a.uid = info.cred.euid;
    a.gid = info.cred.egid;
}

Result<usize> ProcFile::read(u64 off, DataBuffer& out, usize at, usize n) {
    if (target_.tgid && !proc::process_alive(target_.tgid, target_.start_ns)) return Error(ESRCH);
    if (raw_read_) return raw_read_(target_, off, out, at, n);
    SeqBuf text;
    TRY(show_(text, target_));
    return text.copy_window(off, out, at, n);
}

Result<usize> ProcFile::write(u64 off, DataBuffer& in, usize at, usize n) {
    if (!store_) return Error(EINVAL);
    if (target_.tgid && !proc::process_alive(target_.tgid, target_.start_ns)) return Error(ESRCH);
    return store_(target_, off, in, at, n);
}

Result<usize> ProcLink::get_link(char* buf, usize size, void*) {
    if (target_.tgid && !proc::process_alive(target_.tgid, target_.start_ns)) return Error(ENOENT);
    SeqBuf text;
    TRY(link_(text, target_));
    TRY(text.status());
    usize n = min(size, text.size());
    if (n) mem_copy(buf, text.view().data(), n);
    return text.size();
}

Result<Path> ProcLink::jump_link(void*) {
    if (target_.tgid && !proc::process_alive(target_.tgid, target_.start_ns)) return Error(ENOENT);
    return jump_(target_);
}

Result<RefPtr<Inode>> make_entry(ProcSuper& sb, const ProcEntry& e, const Target& t) {
    Inode* made = nullptr;
    switch (e.mode & S_IFMT) {
    case S_IFDIR: {
        u32 nchild = 0;
        const ProcEntry* table = e.children;
        usize n = e.nchildren;
        if (e.kind == DirKind::Pid) table = PID_ENTRIES, n = PID_COUNT;
        if (e.kind == DirKind::Task && t.tid) table = TID_ENTRIES, n = TID_COUNT;
        for (usize i = 0; i < n; ++i)
            if ((table[i].mode & S_IFMT) == S_IFDIR) ++nchild;
        made = TRY(make<ProcDir>(sb, e.mode, t, table, n, e.kind));
        made->attr_locked().nlink = 2 + nchild;
        break;
    }
    case S_IFLNK:
        made = TRY(make<ProcLink>(sb, e.mode, t, e.link, e.jump));
        break;
    default:
        made = TRY(make<ProcFile>(sb, e.mode, t, e));
        made->attr_locked().size = sb.file_size();
        break;
    }
    RefPtr<Inode> inode(made);
    set_owner(*inode, t);
    return inode;
}

// ---- Directories ------------------------------------------------------------
//
// Positions: 0 and 1 are "." and ".." (the VFS's); 2.. the table's entries;
// past them, dynamic entries at DYN_BASE + number (pid, tid or fd), so a
// position survives entries coming and going.

namespace {

constexpr u64 DYN_BASE = 1ull << 20;

const ProcEntry PID_DIR{"", S_IFDIR | 0555, nullptr, nullptr, nullptr, nullptr, 0, DirKind::Pid};
const ProcEntry TID_DIR{"", S_IFDIR | 0555, nullptr, nullptr, nullptr, nullptr, 0, DirKind::Task};
const ProcEntry FD_LINK{"", S_IFLNK | 0700, nullptr, link_fd, jump_fd};
const ProcEntry FDINFO_FILE{"", S_IFREG | 0444, show_fdinfo};

u8 dtype_of_entry(const ProcEntry& e) { return dtype_of(e.mode); }

}  // namespace

int parse_number(StringView name) {
    if (name.empty() || name.size() > 9 || (name[0] == '0' && name.size() > 1)) return -1;
    int n = 0;
    for (char c : name) {
        if (c < '0' || c > '9') return -1;
        n = n * 10 + (c - '0');
    }
    return n;
}

Result<RefPtr<Inode>> ProcDir::lookup(StringView name) {
    for (usize i = 0; i < n_; ++i)
        if (name == StringView(table_[i].name)) return make_entry(psb(), table_[i], target_);
    return lookup_dynamic(name);
}

Result<RefPtr<Inode>> ProcDir::lookup_dynamic(StringView name) {
    int n = parse_number(name);
    if (n < 0) return Error(ENOENT);
    Target t = target_;
    switch (kind_) {
    case DirKind::Root: {
        // Thread ids are found too (Linux's hidden tid entries), but never listed.
        int tgid = proc::tgid_of(n);
        if (!tgid && proc::process_alive(n)) tgid = n;  // a zombie
        if (!tgid) return Error(ENOENT);
        if (tgid != n) {
            t.tgid = tgid;
            t.tid = n;
            t.start_ns = proc::process_start_time(tgid);
            return make_entry(psb(), PID_DIR, t);
        }
        t.tgid = n;
        t.start_ns = proc::process_start_time(n);
        return make_entry(psb(), PID_DIR, t);
    }
    case DirKind::Task: {
        if (t.tid) return Error(ENOENT);
        if (proc::next_tid(t.tgid, n) != n) return Error(ENOENT);
        t.tid = n;
        return make_entry(psb(), TID_DIR, t);
    }
    case DirKind::Fd:
    case DirKind::FdInfo: {
        if (proc::next_fd(t.tgid, n) != n) return Error(ENOENT);
        t.fd = n;
        return make_entry(psb(), kind_ == DirKind::Fd ? FD_LINK : FDINFO_FILE, t);
    }
    default:
        return Error(ENOENT);
    }
}

bool ProcDir::revalidate(StringView name, Inode*) {
    if (kind_ == DirKind::Table || kind_ == DirKind::Pid) return true;
    if (kind_ == DirKind::Root) return parse_number(name) < 0;
    return false;
}

Status ProcDir::iterate(u64 pos, DirEmitter& out) {
    if (target_.tgid && !proc::process_alive(target_.tgid, target_.start_ns)) return Error(ENOENT);
    for (u64 i = pos < 2 ? 0 : pos - 2; i < n_ && pos < DYN_BASE; ++i) {
        const ProcEntry& e = table_[i];
        if (!out.emit(e.name, 0x1000 + i, dtype_of_entry(e), i + 3)) return {};
    }
    return iterate_dynamic(pos < DYN_BASE ? DYN_BASE : pos, out);
}

Status ProcDir::iterate_dynamic(u64 pos, DirEmitter& out) {
    int from = static_cast<int>(pos - DYN_BASE);
    char name[16];
    for (;;) {
        int n;
        u8 dtype;
        switch (kind_) {
        case DirKind::Root: n = proc::next_tgid(from), dtype = DT_DIR; break;
        case DirKind::Task: n = target_.tid ? 0 : proc::next_tid(target_.tgid, from), dtype = DT_DIR; break;
        case DirKind::Fd: n = proc::next_fd(target_.tgid, from), dtype = DT_LNK; break;
        case DirKind::FdInfo: n = proc::next_fd(target_.tgid, from), dtype = DT_REG; break;
        default: return {};
        }
        if (n <= 0 && !(n == 0 && (kind_ == DirKind::Fd || kind_ == DirKind::FdInfo))) return {};
        format(name, sizeof(name), "%d", n);
        if (!out.emit(name, DYN_BASE + static_cast<u64>(n), dtype, DYN_BASE + static_cast<u64>(n) + 1)) return {};
        from = n + 1;
    }
}

// ---- Helpers ----------------------------------------------------------------

int reader_tgid() {
    proc::Process* p = proc::current_process();
    return p ? p->pid : 0;
}

int reader_tid() {
    sched::Thread* t = sched::current();
    return t ? t->user_tid : 0;
}

Path reader_root() {
    auto r = proc::get_path(reader_tgid(), proc::PathKind::Root);
    return r.is_ok() ? r.release_value() : Path();
}

Status put_path(SeqBuf& out, const Path& path) {
    char* buf = static_cast<char*>(heap_alloc(PATH_MAX));
    if (!buf) return Error(ENOMEM);
    Path root = reader_root();
    auto text = root ? path_for_link(path, root, buf, PATH_MAX) : Result<StringView>(Error(ENOENT));
    if (text.is_ok()) out.puts(text.value());
    heap_free(buf);
    return text.is_ok() ? Status() : Status(text.error());
}

// ---- The file system type ---------------------------------------------------

namespace {

Result<RefPtr<Superblock>> proc_mount(const FsType& type, StringView, u32 flags, StringView data) {
    // Linux's procfs options: hidepid=, gid=, subset=. Accepted; Keel has a
    // single user so far and shows everything.
    while (!data.empty()) {
        usize comma = data.find(',');
        StringView opt = data.substr(0, comma);
        data.remove_prefix(comma == StringView::npos ? data.size() : comma + 1);
        if (opt.empty()) continue;
        usize eq = opt.find('=');
        StringView key = opt.substr(0, eq);
        if (key != "hidepid" && key != "gid" && key != "subset") return Error(EINVAL);
    }
    DevId dev = TRY(alloc_anon_dev());
    auto made = make<ProcSuper>(type, dev, PROC_SUPER_MAGIC, 0u);
    if (made.is_error()) {
        free_anon_dev(dev);
        return made.error();
    }
    RefPtr<ProcSuper> sb(made.value());
    sb->set_read_only(flags & MS_RDONLY);
    TRY(sb->init(ROOT_ENTRIES, ROOT_COUNT, DirKind::Root));
    return RefPtr<Superblock>(move(sb));
}

FsType g_proc_type{"proc", PROC_SUPER_MAGIC, &proc_mount};

}  // namespace

}  // namespace keel::fs::procfs

namespace keel::fs {

FsType& proc_fs_type() { return procfs::g_proc_type; }

}  // namespace keel::fs
