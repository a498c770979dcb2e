// tmpfs instances, inodes, mount options and the file system type.
#include <linux/magic.h>

#include "fs/core/tmpfs_internal.h"
#include "lib/format.h"
#include "lib/string.h"

namespace keel::fs {

// ---- Inodes -------------------------------------------------------------

TmpfsInode::TmpfsInode(TmpfsSuper& sb, u64 ino, u32 mode) : Inode(sb, ino, mode) {}

TmpfsInode::~TmpfsInode() {
    drop_all_entries();
    free_pages_from(0);
    if (target_) {
        if (target_len_ >= SHORT_SYMLINK_LEN) tsb().release_pages(1);
        heap_free(target_);
    }
    tsb().release_inode();
}

TmpfsSuper& TmpfsInode::tsb() const { return static_cast<TmpfsSuper&>(sb()); }

Status TmpfsInode::set_link_target(StringView target) {
    if (target.size() >= SHORT_SYMLINK_LEN) TRY(tsb().reserve_pages(1));
    target_ = static_cast<char*>(heap_alloc_accounted(target.size() + 1));
    if (!target_) {
        if (target.size() >= SHORT_SYMLINK_LEN) tsb().release_pages(1);
        return Error(ENOMEM);
    }
    mem_copy(target_, target.data(), target.size());
    target_len_ = target.size();
    InodeAttr& a = attr_locked();
    a.size = target.size();
    a.blocks = target.size() >= SHORT_SYMLINK_LEN ? TMPFS_PAGE / 512 : 0;
    return {};
}

void TmpfsInode::getattr_extra(struct statx& out, u32 request_mask) const {
    out.stx_attributes_mask |= STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE | STATX_ATTR_NODUMP;
    if (request_mask & STATX_BTIME) {
        const InodeAttr& a = attr_locked();
        out.stx_mask |= STATX_BTIME;
        out.stx_btime = {a.btime.sec, static_cast<u32>(a.btime.nsec), 0};
    }
}

// ---- Instances ------------------------------------------------------------

TmpfsSuper::TmpfsSuper(const FsType& type, DevId dev, const TmpfsOptions& opts) : Superblock(type, dev), opts_(opts) {}

TmpfsSuper::~TmpfsSuper() {
    // Never mounted (or a failed setup): nothing killed the tree yet.
    if (!killed_) kill();
}

Status TmpfsSuper::init(u32 ms_flags) {
    set_read_only(ms_flags & MS_RDONLY);
    CreateArgs a;
    a.mode = S_IFDIR | (opts_.mode & 07777);
    a.uid = opts_.uid;
    a.gid = opts_.gid;
    root_inode_ = TRY(new_inode(a));
    return set_root(root_inode_);
}

Result<RefPtr<TmpfsInode>> TmpfsSuper::new_inode(const CreateArgs& args) {
    TRY(reserve_inode());
    auto made = make_accounted<TmpfsInode>(*this, __atomic_fetch_add(&next_ino_, 1, __ATOMIC_RELAXED), args.mode);
    if (made.is_error()) {
        release_inode();
        return made.error();
    }
    RefPtr<TmpfsInode> inode(made.value());
    Timespec now = current_time();
    InodeAttr& a = inode->attr_locked();
    a.uid = args.uid;
    a.gid = args.gid;
    a.rdev = args.rdev;
    bool dir = (args.mode & S_IFMT) == S_IFDIR;
    a.nlink = dir ? 2 : 1;
    a.size = dir ? 2 * BOGO_DIRENT_SIZE : 0;
    a.atime = a.mtime = a.ctime = a.btime = now;
    return inode;
}

Status TmpfsSuper::reserve_inode() {
    u64 cur = __atomic_load_n(&used_inodes_, __ATOMIC_RELAXED);
    do {
        if (opts_.max_inodes && cur >= opts_.max_inodes) return Error(ENOSPC);
    } while (!__atomic_compare_exchange_n(&used_inodes_, &cur, cur + 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return {};
}

void TmpfsSuper::release_inode() { __atomic_sub_fetch(&used_inodes_, 1, __ATOMIC_RELAXED); }

Status TmpfsSuper::reserve_pages(u64 n) {
    u64 max = opts_.max_bytes / TMPFS_PAGE;
    u64 cur = __atomic_load_n(&used_pages_, __ATOMIC_RELAXED);
    do {
        if (opts_.max_bytes && cur + n > max) return Error(ENOSPC);
    } while (!__atomic_compare_exchange_n(&used_pages_, &cur, cur + n, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return {};
}

void TmpfsSuper::release_pages(u64 n) { __atomic_sub_fetch(&used_pages_, n, __ATOMIC_RELAXED); }

Status TmpfsSuper::statfs(StatFs& out) {
    out.type = opts_.ramfs ? RAMFS_MAGIC : TMPFS_MAGIC;
    out.bsize = TMPFS_PAGE;
    out.namelen = NAME_MAX;
    u64 used = __atomic_load_n(&used_pages_, __ATOMIC_RELAXED);
    if (opts_.max_bytes) {
        out.blocks = opts_.max_bytes / TMPFS_PAGE;
        out.bfree = out.bavail = out.blocks > used ? out.blocks - used : 0;
    }
    if (opts_.max_inodes) {
        u64 inodes = __atomic_load_n(&used_inodes_, __ATOMIC_RELAXED);
        out.files = opts_.max_inodes;
        out.ffree = opts_.max_inodes > inodes ? opts_.max_inodes - inodes : 0;
    }
    out.fsid[0] = dev();
    return {};
}

usize TmpfsSuper::show_options(char* buf, usize size) const {
    BufferSink s(buf, size);
    if (opts_.ramfs) {
        if ((opts_.mode & 07777) != 0755) format_to(s, ",mode=%o", opts_.mode & 07777);
        s.terminate();
        return s.count();
    }
    if (opts_.max_bytes) format_to(s, ",size=%lluk", static_cast<unsigned long long>(opts_.max_bytes / 1024));
    if (opts_.max_inodes) format_to(s, ",nr_inodes=%llu", static_cast<unsigned long long>(opts_.max_inodes));
    if ((opts_.mode & 07777) != 01777) format_to(s, ",mode=%03o", opts_.mode & 07777);
    if (opts_.uid) format_to(s, ",uid=%u", opts_.uid);
    if (opts_.gid) format_to(s, ",gid=%u", opts_.gid);
    s.terminate();
    return s.count();
}

void TmpfsSuper::kill() {
    killed_ = true;
    Superblock::kill();
    if (root_inode_) {
        // Nothing can reach the tree any more: free it.
        root_inode_->drop_all_entries();
        root_inode_ = nullptr;
    }
}

// ---- Options and the file system type --------------------------------------

namespace {

Result<u64> parse_number(StringView v, int base) {
    if (v.empty()) return Error(EINVAL);
    u64 n = 0;
    usize i = 0;
    for (; i < v.size(); ++i) {
        char c = v[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else break;
        if (d >= base) return Error(EINVAL);
        if (n > (~0ull - static_cast<u64>(d)) / static_cast<u64>(base)) return Error(EINVAL);
        n = n * static_cast<u64>(base) + static_cast<u64>(d);
    }
    if (i == 0) return Error(EINVAL);
    v.remove_prefix(i);
    if (!v.empty()) return Error(EINVAL);
    return n;
}

// "64m", "1G", "512k", plain bytes, or "N%" of RAM.
Result<u64> parse_size(StringView v, u64 ram_bytes) {
    if (v.empty()) return Error(EINVAL);
    u64 mult = 1;
    bool percent = false;
    switch (v.back()) {
    case 'k': case 'K': mult = KiB; break;
    case 'm': case 'M': mult = MiB; break;
    case 'g': case 'G': mult = GiB; break;
    case 't': case 'T': mult = GiB << 10; break;
    case 'p': case 'P': mult = GiB << 20; break;
    case 'e': case 'E': mult = GiB << 30; break;
    case '%': percent = true; break;
    default: break;
    }
    if (mult != 1 || percent) v.remove_suffix(1);
    u64 n = TRY(parse_number(v, 10));
    if (percent) {
        if (!ram_bytes) return Error(EINVAL);
        return align_up<u64>(ram_bytes / 100 * n, TMPFS_PAGE);
    }
    if (n > ~0ull / mult) return Error(EINVAL);
    return align_up<u64>(n * mult, TMPFS_PAGE);
}

// The machine's RAM, which sizes new tmpfs mounts (0: unknown, unlimited).
u64 g_ram_bytes = 0;

Result<RefPtr<Superblock>> tmpfs_mount(const FsType&, StringView, u32 flags, StringView data) {
    TmpfsOptions opts = TRY(parse_tmpfs_options(data, __atomic_load_n(&g_ram_bytes, __ATOMIC_RELAXED)));
    return tmpfs_create(opts, flags);
}

FsType g_tmpfs_type{"tmpfs", TMPFS_MAGIC, &tmpfs_mount};

// ramfs takes mode= and ignores every other option, as on Linux.
Result<RefPtr<Superblock>> ramfs_mount(const FsType& type, StringView, u32 flags, StringView data) {
    TmpfsOptions o;
    o.ramfs = true;
    o.mode = 0755;
    while (!data.empty()) {
        usize comma = data.find(',');
        StringView opt = data.substr(0, comma);
        data.remove_prefix(comma == StringView::npos ? data.size() : comma + 1);
        usize eq = opt.find('=');
        if (eq == StringView::npos || opt.substr(0, eq) != "mode") continue;
        o.mode = static_cast<u32>(TRY(parse_number(opt.substr(eq + 1), 8))) & 07777;
    }
    return tmpfs_create(o, flags, &type);
}

FsType g_ramfs_type{"ramfs", RAMFS_MAGIC, &ramfs_mount};

}  // namespace

FsType& tmpfs_type() { return g_tmpfs_type; }
FsType& ramfs_type() { return g_ramfs_type; }

void set_tmpfs_ram_bytes(u64 bytes) { __atomic_store_n(&g_ram_bytes, bytes, __ATOMIC_RELAXED); }

const TmpfsCharge* g_tmpfs_charge = nullptr;

void set_tmpfs_charge(const TmpfsCharge* hooks) { __atomic_store_n(&g_tmpfs_charge, hooks, __ATOMIC_RELEASE); }

Result<TmpfsOptions> parse_tmpfs_options(StringView data, u64 ram_bytes) {
    TmpfsOptions o;
    // Linux's defaults: half the RAM, and as many inodes as half its pages.
    if (ram_bytes) {
        o.max_bytes = align_up<u64>(ram_bytes / 2, TMPFS_PAGE);
        o.max_inodes = ram_bytes / TMPFS_PAGE / 2;
    }
    while (!data.empty()) {
        usize comma = data.find(',');
        StringView opt = data.substr(0, comma);
        data.remove_prefix(comma == StringView::npos ? data.size() : comma + 1);
        if (opt.empty()) continue;
        usize eq = opt.find('=');
        StringView key = opt.substr(0, eq);
        StringView val = eq == StringView::npos ? StringView() : opt.substr(eq + 1);
        if (key == "size") {
            o.max_bytes = TRY(parse_size(val, ram_bytes));
        } else if (key == "nr_blocks") {
            o.max_bytes = TRY(parse_number(val, 10)) * TMPFS_PAGE;
        } else if (key == "nr_inodes") {
            o.max_inodes = TRY(parse_number(val, 10));
        } else if (key == "mode") {
            o.mode = static_cast<u32>(TRY(parse_number(val, 8))) & 07777;
        } else if (key == "uid") {
            o.uid = static_cast<u32>(TRY(parse_number(val, 10)));
        } else if (key == "gid") {
            o.gid = static_cast<u32>(TRY(parse_number(val, 10)));
        } else if (key == "inode32" || key == "inode64" || key == "noswap" || key == "huge" || key == "mpol") {
            // Accepted and without effect here.
        } else {
            return Error(EINVAL);
        }
    }
    return o;
}

Result<RefPtr<Superblock>> tmpfs_create(const TmpfsOptions& opts, u32 ms_flags, const FsType* type) {
    DevId dev = TRY(alloc_anon_dev());
    auto made = make<TmpfsSuper>(type ? *type : tmpfs_type(), dev, opts);
    if (made.is_error()) {
        free_anon_dev(dev);
        return made.error();
    }
    RefPtr<TmpfsSuper> sb(made.value());
    TRY(sb->init(ms_flags));
    return RefPtr<Superblock>(move(sb));
}

}  // namespace keel::fs
