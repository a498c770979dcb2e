#include "fs/vfs_file.h"

#include <linux/poll.h>
#include <linux/resource.h>
#include <linux/stat.h>

#include "fs/core/vfs.h"
#include "kernel/process/process.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"

namespace keel::fs {

namespace {

// A write that fails with EFBIG because it starts at or past RLIMIT_FSIZE
// also raises SIGXFSZ, as Linux does.
Result<usize> fsize_signal(Result<usize> r) {
    if (r.is_error() && r.error().code() == EFBIG) {
        proc::Process& p = *proc::current_process();
        if (p.rlimits[RLIMIT_FSIZE].cur != RLIM_INFINITY) (void)sig::send_to_process(p, SIGXFSZ, nullptr);
    }
    return r;
}

class VfsFile final : public OpenFile {
public:
    explicit VfsFile(RefPtr<File> f) : file_(move(f)) {}
    FileKind kind() const override { return FileKind::Vfs; }
    File* vfs_file() override { return file_.get(); }

    Result<usize> read(const IoBuffer& buf, u64*) override {
        IoData d(buf);
        u64 events = file_->inode().event_count();
        u64 start = file_->pos_locked();  // unlocked: only to compare, as below
        auto r = fs::read(*file_, d);
        if (r.is_ok()) saw_read(start, r.value(), events);
        return r;
    }
    u32 poll(PollTable* pt) override { return file_->inode().poll(pt, seen_events_); }
    Result<usize> write(const IoBuffer& buf, u64*) override {
        IoData d(buf);
        return fsize_signal(fs::write(*file_, d, cred_of(*proc::current_process())));
    }
    bool seekable() const override { return true; }
    Result<u64> lseek(i64 off, int whence) override { return fs::lseek(*file_, off, whence); }
    Result<usize> pread(const IoBuffer& buf, u64 off) override {
        IoData d(buf);
        u64 events = file_->inode().event_count();
        auto r = fs::pread(*file_, d, off);
        if (r.is_ok()) saw_read(off, r.value(), events);
        return r;
    }
    Result<usize> pwrite(const IoBuffer& buf, u64 off) override {
        IoData d(buf);
        return fsize_signal(fs::pwrite(*file_, d, off, cred_of(*proc::current_process())));
    }

    Status stat(struct stat& st) override { return stat_path(file_->path(), st); }

protected:
    void release() override { destroy(this); }

private:
    // A read consumes the change (poll's POLLPRI) when it makes the text
    // again, as kernfs's seq_file does: at the start, or anywhere but
    // where the previous read of this description ended.
    void saw_read(u64 start, usize n, u64 events) {
        if (start == 0 || start != read_end_) seen_events_ = events;
        read_end_ = start + n;
    }

    RefPtr<File> file_;
    u64 read_end_ = 0;
    // The inode's event_count() when last read (poll's POLLPRI); 0 before
    // the first read, which file systems that count from 1 report as a
    // change, as kernfs does.
    u64 seen_events_ = 0;
};

}  // namespace

Status stat_path(const Path& path, struct stat& st) {
    struct statx sx {};
    TRY(getattr(path, STATX_BASIC_STATS, sx));
    st = {};
    // Linux's new_encode_dev: minor's low byte, major, then minor's rest.
    auto dev = [](u32 major, u32 minor) -> u64 { return (minor & 0xff) | (major << 8) | (static_cast<u64>(minor & ~0xffu) << 12); };
    st.st_dev = dev(sx.stx_dev_major, sx.stx_dev_minor);
    st.st_ino = sx.stx_ino;
    st.st_mode = sx.stx_mode;
    st.st_nlink = sx.stx_nlink;
    st.st_uid = sx.stx_uid;
    st.st_gid = sx.stx_gid;
    st.st_rdev = dev(sx.stx_rdev_major, sx.stx_rdev_minor);
    st.st_size = static_cast<long>(sx.stx_size);
    st.st_blksize = sx.stx_blksize;
    st.st_blocks = static_cast<long>(sx.stx_blocks);
    st.st_atime = sx.stx_atime.tv_sec;
    st.st_atime_nsec = sx.stx_atime.tv_nsec;
    st.st_mtime = sx.stx_mtime.tv_sec;
    st.st_mtime_nsec = sx.stx_mtime.tv_nsec;
    st.st_ctime = sx.stx_ctime.tv_sec;
    st.st_ctime_nsec = sx.stx_ctime.tv_nsec;
    return {};
}

Cred cred_of(const proc::Process& p) {
    u64 fsize = p.rlimits[RLIMIT_FSIZE].cur;
    return Cred{p.cred.fsuid, p.cred.fsgid, p.cred.groups, p.cred.ngroups, p.cred.cap_effective,
                fsize == RLIM_INFINITY ? ~0ull : fsize};
}

Result<OpenFile*> wrap_vfs_file(RefPtr<File> f) {
    VfsFile* v = TRY(make_accounted<VfsFile>(move(f)));
    return v;
}

File* vfs_file_of(OpenFile* f) { return f ? f->vfs_file() : nullptr; }

}  // namespace keel::fs
