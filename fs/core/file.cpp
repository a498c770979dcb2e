// Reading, writing, seeking, directory iteration and space management on
// open files.
#include "fs/core/file.h"

#include <linux/falloc.h>

#include "fs/core/vfs_internal.h"
#include "lib/string.h"

namespace keel::fs {

// ---- Reading and writing ------------------------------------------------

namespace {

Result<usize> read_at(File& f, DataBuffer& buf, u64 off) {
    Inode& inode = f.inode();
    if (inode.is_dir()) return Error(EISDIR);
    if (!inode.is_reg()) return Error(EINVAL);
    usize n = 0;
    if (inode.generated()) {
        if (buf.size()) n = TRY(inode.read(off, buf, 0, buf.size()));
    } else {
        FsLockGuard g(inode.lock());
        u64 size = inode.attr_locked().size;
        if (off < size && buf.size()) n = TRY(inode.read(off, buf, 0, static_cast<usize>(min<u64>(buf.size(), size - off))));
    }
    if (!(f.flags() & O_NOATIME)) touch_atime(f.path());
    return n;
}

Result<usize> write_at(File& f, DataBuffer& buf, u64* pos, bool append, const Cred& cred) {
    Inode& inode = f.inode();
    if (!inode.is_reg()) return Error(EINVAL);
    if (buf.size() == 0) return usize(0);
    FsLockGuard g(inode.lock());
    InodeAttr& a = inode.attr_locked();
    u64 off = append ? a.size : *pos;
    u64 max = inode.sb().max_file_size();
    // RLIMIT_FSIZE first: a write that starts below it is cut short there
    // (the caller raises SIGXFSZ for the EFBIG of one that starts at it).
    if (off >= cred.fsize_limit) return Error(EFBIG);
    if (off >= max) return Error(EFBIG);
    usize count = static_cast<usize>(min<u64>(min<u64>(buf.size(), max - off), cred.fsize_limit - off));
    if (u32 seals = inode.seals_locked()) {
        if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return Error(EPERM);
        // Sealed against growth: Linux 6.12 writes tmpfs files in pieces of
        // up to 2 MiB (its largest folio); pieces ending within the file
        // are written, the one that would extend it fails (a short write).
        if ((seals & F_SEAL_GROW) && off + count > a.size) {
            constexpr u64 piece = 2 * 1024 * 1024;
            u64 first_end = min<u64>(off + count, align_down<u64>(off, piece) + piece);
            if (first_end > a.size) return Error(EPERM);
            count = static_cast<usize>(align_down<u64>(a.size, piece) - off);
        }
    }
    // file_remove_privs, then file_update_time.
    if (u32 kill = kill_privs_locked(inode, cred)) {
        SetAttr at;
        at.valid = kill | ATTR_FORCE;
        TRY(setattr_locked(inode, at, cred));
    }
    Timespec now = current_time();
    a.mtime = now;
    a.ctime = now;
    usize n = TRY(inode.write(off, buf, 0, count));
    *pos = off + n;
    return n;
}

}  // namespace

Result<usize> read(File& f, DataBuffer& buf) {
    if (!f.readable()) return Error(EBADF);
    FsLockGuard g(f.pos_lock());
    u64 pos = f.pos_locked();
    if (f.ops) {
        if (!f.ops->read) return Error(EINVAL);
        usize n = TRY(f.ops->read(f, buf, &pos));
        f.set_pos_locked(pos);
        return n;
    }
    if (special_type(f.inode().type())) return Error(ENXIO);
    usize n = TRY(read_at(f, buf, pos));
    f.set_pos_locked(pos + n);
    return n;
}

Result<usize> pread(File& f, DataBuffer& buf, u64 off) {
    if (!f.readable()) return Error(EBADF);
    if (f.ops) {
        if (!f.ops->read) return Error(EINVAL);
        return f.ops->read(f, buf, &off);
    }
    if (special_type(f.inode().type())) return Error(ENXIO);
    return read_at(f, buf, off);
}

Result<usize> write(File& f, DataBuffer& buf, const Cred& cred) {
    if (!f.writable()) return Error(EBADF);
    FsLockGuard g(f.pos_lock());
    u64 pos = f.pos_locked();
    if (f.ops) {
        if (!f.ops->write) return Error(EINVAL);
        usize n = TRY(f.ops->write(f, buf, &pos));
        f.set_pos_locked(pos);
        return n;
    }
    if (special_type(f.inode().type())) return Error(ENXIO);
    usize n = TRY(write_at(f, buf, &pos, f.flags() & O_APPEND, cred));
    f.set_pos_locked(pos);
    return n;
}

Result<usize> pwrite(File& f, DataBuffer& buf, u64 off, const Cred& cred) {
    if (!f.writable()) return Error(EBADF);
    if (f.ops) {
        if (!f.ops->write) return Error(EINVAL);
        return f.ops->write(f, buf, &off);
    }
    if (special_type(f.inode().type())) return Error(ENXIO);
    // pwrite on an O_APPEND file appends anyway (a documented Linux bug).
    return write_at(f, buf, &off, f.flags() & O_APPEND, cred);
}

Result<u64> lseek(File& f, i64 off, int whence) {
    if (f.is_path_only()) return Error(EBADF);
    Inode& inode = f.inode();
    FsLockGuard g(f.pos_lock());
    i64 pos = static_cast<i64>(f.pos_locked());
    i64 target;
    if (inode.is_dir()) {
        // Directory positions are cookies: only SEEK_SET and SEEK_CUR.
        if (whence == SEEK_CUR) off += pos;
        else if (whence != SEEK_SET) return Error(EINVAL);
        if (off < 0) return Error(EINVAL);
        if (off == 0) {
            // A rewind shows what was created since the open.
            FsLockGuard sg(inode.sb().lock());
            f.set_dir_end_locked(inode.dir_snapshot());
        }
        f.set_pos_locked(static_cast<u64>(off));
        return static_cast<u64>(off);
    }
    switch (whence) {
    case SEEK_SET:
        target = off;
        break;
    case SEEK_CUR:
        if (off == 0) return static_cast<u64>(pos);
        target = pos + off;
        break;
    case SEEK_END:
        target = static_cast<i64>(inode.attr().size) + off;
        break;
    case SEEK_DATA:
    case SEEK_HOLE: {
        if (off < 0) return Error(ENXIO);
        FsLockGuard ig(inode.lock());
        if (static_cast<u64>(off) >= inode.attr_locked().size) return Error(ENXIO);
        target = static_cast<i64>(TRY(inode.seek_data(static_cast<u64>(off), whence == SEEK_HOLE)));
        break;
    }
    default:
        return Error(EINVAL);
    }
    if (target < 0 || static_cast<u64>(target) > inode.sb().max_file_size()) return Error(EINVAL);
    f.set_pos_locked(static_cast<u64>(target));
    return static_cast<u64>(target);
}

// ---- Directories ----------------------------------------------------------

namespace {

// Forwards entries and remembers where the next iteration resumes; stops
// at the description's snapshot end.
class PosTracker final : public DirEmitter {
public:
    PosTracker(DirEmitter& out, u64& pos, u64 end) : out_(out), pos_(pos), end_(end) {}
    bool emit(StringView name, u64 ino, u8 dtype, u64 next_pos) override {
        if (next_pos > end_) return false;
        if (!out_.emit(name, ino, dtype, next_pos)) return false;
        pos_ = next_pos;
        return true;
    }

private:
    DirEmitter& out_;
    u64& pos_;
    u64 end_;
};

}  // namespace

Status iterate_dir(File& f, DirEmitter& out) {
    if (f.is_path_only()) return Error(EBADF);
    Inode& inode = f.inode();
    if (!inode.is_dir()) return Error(ENOTDIR);
    FsLockGuard pg(f.pos_lock());
    u64 pos = f.pos_locked();
    {
        Dentry& d = *f.path().dentry;
        FsLockGuard g(inode.sb().lock());
        if (inode.dead()) return Error(ENOENT);
        PosTracker track(out, pos, f.dir_end_locked());
        // "." and ".." first; ".." of a file system root is itself.
        if (pos == 0) track.emit(".", inode.ino(), DT_DIR, 1);
        if (pos == 1) {
            Dentry* parent = d.parent() ? d.parent() : &d;
            track.emit("..", parent->inode()->ino(), DT_DIR, 2);
        }
        if (pos >= 2) {
            auto r = inode.iterate(pos, track);
            if (r.is_error()) {
                f.set_pos_locked(pos);
                return r.error();
            }
        }
    }
    f.set_pos_locked(pos);
    if (!(f.flags() & O_NOATIME)) touch_atime(f.path());
    return {};
}

bool Dirent64Writer::emit(StringView name, u64 ino, u8 dtype, u64 next_pos) {
    // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1),
    // d_name with its NUL, padded to 8 bytes.
    usize reclen = align_up<usize>(19 + name.size() + 1, 8);
    if (reclen > size_ - used_) {
        overflowed_ = true;
        return false;
    }
    u8* p = buf_ + used_;
    mem_set(p, 0, reclen);
    i64 off = static_cast<i64>(next_pos);
    u16 rl = static_cast<u16>(reclen);
    mem_copy(p, &ino, 8);
    mem_copy(p + 8, &off, 8);
    mem_copy(p + 16, &rl, 2);
    p[18] = dtype;
    mem_copy(p + 19, name.data(), name.size());
    used_ += reclen;
    return true;
}

// ---- fallocate, ftruncate -------------------------------------------------

Status fallocate(File& f, int mode, i64 off, i64 len, const Cred& cred) {
    constexpr int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_NO_HIDE_STALE |
                          FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE |
                          FALLOC_FL_UNSHARE_RANGE;
    if (off < 0 || len <= 0) return Error(EINVAL);
    if (mode & ~known) return Error(EOPNOTSUPP);
    if ((mode & FALLOC_FL_PUNCH_HOLE) && (mode & FALLOC_FL_ZERO_RANGE)) return Error(EOPNOTSUPP);
    if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)) return Error(EOPNOTSUPP);
    if ((mode & FALLOC_FL_COLLAPSE_RANGE) && (mode & ~FALLOC_FL_COLLAPSE_RANGE)) return Error(EINVAL);
    if ((mode & FALLOC_FL_INSERT_RANGE) && (mode & ~FALLOC_FL_INSERT_RANGE)) return Error(EINVAL);
    if ((mode & FALLOC_FL_UNSHARE_RANGE) && (mode & ~(FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE)))
        return Error(EINVAL);
    if (!f.writable()) return Error(EBADF);
    Inode& inode = f.inode();
    if (inode.type() == S_IFIFO) return Error(ESPIPE);
    if (inode.is_dir()) return Error(EISDIR);
    if (!inode.is_reg() && inode.type() != S_IFBLK) return Error(ENODEV);
    u64 end = static_cast<u64>(off) + static_cast<u64>(len);
    if (end > inode.sb().max_file_size()) return Error(EFBIG);
    if (!inode.is_reg()) return Error(EOPNOTSUPP);
    FsLockGuard g(inode.lock());
    if (u32 seals = inode.seals_locked()) {
        if ((mode & FALLOC_FL_PUNCH_HOLE) && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) return Error(EPERM);
        if (!(mode & FALLOC_FL_PUNCH_HOLE) && (seals & F_SEAL_GROW) && end > inode.attr_locked().size)
            return Error(EPERM);
    }
    TRY(inode.fallocate(mode, static_cast<u64>(off), static_cast<u64>(len)));
    // file_modified: drop privileges, update the times.
    if (u32 kill = kill_privs_locked(inode, cred)) {
        SetAttr at;
        at.valid = kill | ATTR_FORCE;
        TRY(setattr_locked(inode, at, cred));
    }
    Timespec now = current_time();
    inode.attr_locked().mtime = now;
    inode.attr_locked().ctime = now;
    return {};
}

Status ftruncate(File& f, i64 length, const Cred& cred) {
    if (f.is_path_only()) return Error(EBADF);
    if (length < 0) return Error(EINVAL);
    Inode& inode = f.inode();
    if (!inode.is_reg() || !f.writable()) return Error(EINVAL);
    FsLockGuard g(inode.lock());
    SetAttr at;
    at.valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME;
    at.size = static_cast<u64>(length);
    if (u32 kill = kill_privs_locked(inode, cred)) at.valid |= kill | ATTR_FORCE;
    return setattr_locked(inode, at, cred);
}

}  // namespace keel::fs
