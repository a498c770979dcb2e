#include "fs/core/initramfs.h"

#include "fs/core/file.h"
#include "lib/cpio.h"
#include "lib/string.h"

namespace keel::fs {

namespace {

constexpr usize CPIO_HEADER = 110;
constexpr usize LINK_BUCKETS = 32;

// The inode number field of the header an entry came from. CpioEntry does
// not carry it, so it is read back from the header, which sits right
// before the name (fields of 8 hex digits after the 6-byte magic; the
// inode number is the first).
u32 header_ino(const CpioEntry& e) {
    const char* h = e.name.data() - CPIO_HEADER + 6;
    u32 v = 0;
    for (int i = 0; i < 8; ++i) {
        char c = h[i];
        u32 d = (c >= '0' && c <= '9') ? u32(c - '0') : (c >= 'a' && c <= 'f') ? u32(c - 'a' + 10) : u32(c - 'A' + 10);
        v = (v << 4) | (d & 0xf);
    }
    return v;
}

// Up to the first NUL, as the C strings Linux works with.
StringView c_string(StringView s) {
    usize nul = s.find('\0');
    return nul == StringView::npos ? s : s.substr(0, nul);
}

// A name remembered for later: a hard link source or a directory whose
// mtime is set at the end.
struct Record {
    Record* next;
    u32 major, minor, ino, type;
    i64 mtime;
    usize len;
    char* name() { return reinterpret_cast<char*>(this + 1); }
    StringView view() { return StringView(name(), len); }

    static Record* create(StringView name) {
        auto* r = static_cast<Record*>(heap_alloc(sizeof(Record) + name.size() + 1));
        if (!r) return nullptr;
        r->len = name.size();
        mem_copy(r->name(), name.data(), name.size());
        return r;
    }
};

void free_list(Record*& head) {
    while (Record* r = head) {
        head = r->next;
        heap_free(r);
    }
}

class Unpacker {
public:
    Unpacker(const Path& root, InitramfsReport& report, const InitramfsOptions& opts)
        : root_(root), report_(report), opts_(opts) {}
    ~Unpacker() {
        free_links();
        free_list(dirs_);
    }

    Status archive(const u8* data, usize size);
    void finish();

private:
    LookupRequest at(StringView name, u32 flags = 0) const { return LookupRequest{cred_, root_, root_, name, flags}; }
    Status fail(const char* why, int err = EINVAL) {
        report_.error = why;
        return Error(err);
    }

    Status entry(const CpioEntry& e);
    Status regular(const CpioEntry& e, StringView name);
    void directory(const CpioEntry& e, StringView name);
    void special(const CpioEntry& e, StringView name);
    void symlink_entry(const CpioEntry& e, StringView name);
    Result<int> maybe_link(const CpioEntry& e, StringView name);
    void clean_path(StringView name, u32 mode);
    void ensure_parents(StringView name);
    void set_owner_mode(StringView name, const CpioEntry& e);
    void set_mtime(StringView name, i64 mtime, u32 follow);
    void free_links() {
        for (auto& b : links_) free_list(b);
    }

    const Path& root_;
    Cred cred_ = Cred::root();
    InitramfsReport& report_;
    const InitramfsOptions& opts_;
    Record* links_[LINK_BUCKETS] = {};
    Record* dirs_ = nullptr;
};

void Unpacker::clean_path(StringView name, u32 mode) {
    auto p = lookup(at(name));
    if (p.is_error()) return;
    Inode& inode = *p.value().inode();
    if (!((inode.type() ^ mode) & S_IFMT)) return;
    if (inode.is_dir())
        (void)rmdir(at(name));
    else
        (void)unlink(at(name));
}

void Unpacker::ensure_parents(StringView name) {
    if (!opts_.create_parents) return;
    for (usize i = 1; i < name.size(); ++i)
        if (name[i] == '/' && name[i - 1] != '/') (void)mkdir(at(name.substr(0, i)), 0755);
}

void Unpacker::set_owner_mode(StringView name, const CpioEntry& e) {
    auto p = lookup(at(name, LOOKUP_FOLLOW));
    if (p.is_error()) return;
    (void)chown(p.value(), e.uid, e.gid, cred_);
    (void)chmod(p.value(), e.mode, cred_);
}

void Unpacker::set_mtime(StringView name, i64 mtime, u32 follow) {
    auto p = lookup(at(name, follow));
    if (p.is_error()) return;
    Timespec t[2] = {{mtime, 0}, {mtime, 0}};
    (void)utimes(p.value(), t, cred_);
}

Result<int> Unpacker::maybe_link(const CpioEntry& e, StringView name) {
    if (e.nlink < 2) return 0;
    u32 ino = header_ino(e);
    u32 type = e.mode & S_IFMT;
    Record*& bucket = links_[(ino ^ e.dev_major ^ (e.dev_minor << 3)) % LINK_BUCKETS];
    for (Record* r = bucket; r; r = r->next) {
        if (r->ino == ino && r->major == e.dev_major && r->minor == e.dev_minor && r->type == type) {
            clean_path(name, 0);
            return link(at(r->view()), at(name)).is_ok() ? 1 : -1;
        }
    }
    Record* r = Record::create(name);
    if (!r) return Error(ENOMEM);
    r->major = e.dev_major;
    r->minor = e.dev_minor;
    r->ino = ino;
    r->type = type;
    r->next = bucket;
    bucket = r;
    return 0;
}

Status Unpacker::regular(const CpioEntry& e, StringView name) {
    int ml = TRY(maybe_link(e, name));
    if (ml < 0) {
        ++report_.skipped;
        return {};
    }
    u32 oflags = O_WRONLY | O_CREAT | O_LARGEFILE | (ml == 1 ? 0 : O_TRUNC);
    auto opened = open(at(name), oflags, e.mode & S_IALLUGO);
    if (opened.is_error()) {
        if (opened.error().code() == ENOMEM) return opened.error();
        ++report_.skipped;
        return {};
    }
    File& f = *opened.value();
    (void)chown(f.path(), e.uid, e.gid, cred_);
    (void)chmod(f.path(), e.mode, cred_);
    if (e.size) (void)truncate(f.path(), e.size, cred_);
    usize done = 0;
    while (done < e.size) {
        KernelDataBuffer buf(e.data + done, e.size - done);
        auto n = write(f, buf, cred_);
        if (n.is_error()) return fail("write error", n.error().code());
        done += n.value();
    }
    Timespec t[2] = {{e.mtime, 0}, {e.mtime, 0}};
    (void)utimes(f.path(), t, cred_);
    return {};
}

void Unpacker::directory(const CpioEntry& e, StringView name) {
    (void)mkdir(at(name), e.mode & 07777);
    set_owner_mode(name, e);
    // Its mtime is set at the very end: creating its entries changes it.
    if (Record* r = Record::create(name)) {
        r->mtime = e.mtime;
        r->next = dirs_;
        dirs_ = r;
    }
}

void Unpacker::special(const CpioEntry& e, StringView name) {
    auto ml = maybe_link(e, name);
    if (ml.is_error() || ml.value() != 0) return;
    DevId dev = make_dev(e.rdev_major, e.rdev_minor);
    if (mknod(at(name), e.mode & (S_IFMT | S_IALLUGO), dev).is_error()) ++report_.skipped;
    set_owner_mode(name, e);
    set_mtime(name, e.mtime, 0);
}

void Unpacker::symlink_entry(const CpioEntry& e, StringView name) {
    StringView target = c_string(StringView(reinterpret_cast<const char*>(e.data), e.size));
    clean_path(name, 0);
    if (symlink(target, at(name)).is_error()) ++report_.skipped;
    auto p = lookup(at(name));
    if (p.is_ok()) (void)chown(p.value(), e.uid, e.gid, cred_);
    set_mtime(name, e.mtime, 0);
}

Status Unpacker::entry(const CpioEntry& e) {
    ++report_.entries;
    StringView name = c_string(e.name);
    u32 type = e.mode & S_IFMT;
    // Linux skips over-long names and symlink bodies.
    if (name.empty() || name.size() >= PATH_MAX || (type == S_IFLNK && e.size > PATH_MAX)) {
        ++report_.skipped;
        return {};
    }
    ensure_parents(name);
    if (type == S_IFLNK) {
        symlink_entry(e, name);
        return {};
    }
    clean_path(name, e.mode);
    switch (type) {
    case S_IFREG:
        return regular(e, name);
    case S_IFDIR:
        directory(e, name);
        return {};
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        special(e, name);
        return {};
    default:
        ++report_.skipped;
        return {};
    }
}

Status Unpacker::archive(const u8* data, usize size) {
    usize off = 0;
    while (off < size) {
        // Zero padding may separate archives.
        if (data[off] == 0) {
            ++off;
            continue;
        }
        if (off & 3) return fail("broken padding");
        if (data[off] != '0') return fail("compressed initramfs is not supported");
        CpioReader r(data + off, size - off);
        for (;;) {
            usize at_off = off + r.offset();
            // An archive may also just end, or be followed by padding,
            // without a trailer.
            if (at_off >= size || data[at_off] == 0) break;
            auto e = r.next();
            if (e.is_ok()) {
                TRY(entry(e.value()));
                continue;
            }
            int err = e.error().code();
            if (err == ENOENT) break;  // TRAILER!!!: the hard link table ends with it
            if (err == ENODATA) return fail("truncated archive");
            const u8* h = data + at_off;
            if (size - at_off >= 6 && mem_cmp(h, "070707", 6) == 0)
                return fail("incorrect cpio method used: use -H newc option");
            if (size - at_off < 6 || (mem_cmp(h, "070701", 6) != 0 && mem_cmp(h, "070702", 6) != 0))
                return fail("no cpio magic");
            return fail("malformed archive");
        }
        free_links();
        off += r.offset();
    }
    return {};
}

void Unpacker::finish() {
    for (Record* r = dirs_; r; r = r->next) set_mtime(r->view(), r->mtime, 0);
}

}  // namespace

Status unpack_initramfs(const u8* data, usize size, const Path& root, InitramfsReport& report,
                        const InitramfsOptions& opts) {
    report = InitramfsReport{};
    Unpacker u(root, report, opts);
    Status s = u.archive(data, size);
    u.finish();
    return s;
}

}  // namespace keel::fs
