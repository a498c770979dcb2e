// cgroup.procs and cgroup.threads descriptions: they keep the opener's
// credentials, because Linux (since 5.16) checks a migration's delegation
// rule with the credentials of whoever opened the file, not of whoever
// writes to it: a privileged opener may hand the descriptor to an
// unprivileged writer, and an unprivileged opener cannot get a privileged
// (setuid) writer to migrate for it. Everything else goes to the file
// (CgFile in cgroupfs.cpp) as through an ordinary description.
#include <linux/poll.h>

#include "fs/core/vfs.h"
#include "fs/vfs_file.h"
#include "kernel/cgroup/cgroupfs.h"
#include "kernel/process/process.h"
#include "lib/alloc.h"

namespace keel::cgroup {

namespace {

constexpr usize KERNFS_WRITE_MAX = 4096;

class ProcsFile final : public fs::OpenFile {
public:
    ProcsFile(RefPtr<fs::File> file, Cgroup& c, bool threads, const fs::Cred& cred)
        : file_(move(file)), cg_(&c), threads_(threads), cred_(cred) {
        cgroup::get(c);
        ngroups_ = min<u32>(cred.ngroups, sizeof(groups_) / sizeof(groups_[0]));
        for (u32 i = 0; i < ngroups_; ++i) groups_[i] = cred.groups[i];
        cred_.groups = groups_;
        cred_.ngroups = ngroups_;
    }

    fs::File* vfs_file() override { return file_.get(); }
    bool seekable() const override { return true; }
    bool polls_regular_file() const override { return true; }
    Status stat(struct stat& st) override { return fs::stat_path(file_->path(), st); }
    Result<u64> lseek(i64 off, int whence) override { return fs::lseek(*file_, off, whence); }

    Result<usize> read(const IoBuffer& buf, u64*) override {
        fs::IoData d(buf);
        u64 events = file_->inode().event_count();
        u64 start = file_->pos_locked();  // unlocked: only compared
        auto r = fs::read(*file_, d);
        if (r.is_ok()) saw_read(start, r.value(), events);
        return r;
    }
    Result<usize> pread(const IoBuffer& buf, u64 off) override {
        fs::IoData d(buf);
        u64 events = file_->inode().event_count();
        auto r = fs::pread(*file_, d, off);
        if (r.is_ok()) saw_read(off, r.value(), events);
        return r;
    }
    u32 poll(fs::PollTable* pt) override { return file_->inode().poll(pt, seen_events_); }

    Result<usize> write(const IoBuffer& buf, u64*) override { return migrate(buf, nullptr); }
    Result<usize> pwrite(const IoBuffer& buf, u64 off) override { return migrate(buf, &off); }

protected:
    void release() override {
        cgroup::put(cg_);
        destroy(this);
    }

private:
    // The delegation check with the opener's credentials, then the write
    // itself (parsing, the other rules, the move) as the file does it.
    Result<usize> migrate(const IoBuffer& buf, u64* off) {
        usize len = min(buf.size(), KERNFS_WRITE_MAX);
        if (len) {
            char* text = static_cast<char*>(heap_alloc(len));
            if (!text) return Error(ENOMEM);
            Status st = buf.read_from(0, text, len);
            if (st.is_ok()) st = migration_permission(*cg_, StringView(text, len), threads_, cred_);
            heap_free(text);
            TRY(st);
        }
        fs::IoData d(buf);
        fs::Cred writer = fs::cred_of(*proc::current_process());
        return off ? fs::pwrite(*file_, d, *off, writer) : fs::write(*file_, d, writer);
    }

    // As fs/vfs_file.cpp: a read that makes the text again consumes a change.
    void saw_read(u64 start, usize n, u64 events) {
        if (start == 0 || start != read_end_) seen_events_ = events;
        read_end_ = start + n;
    }

    RefPtr<fs::File> file_;
    Cgroup* cg_;  // a reference
    bool threads_;
    fs::Cred cred_;
    u32 groups_[64] = {};
    u32 ngroups_ = 0;
    u64 seen_events_ = 0;
    u64 read_end_ = 0;
};

Result<fs::OpenFile*> open_migration_file(fs::File& file, Cgroup& c, bool threads) {
    fs::Cred cred = fs::cred_of(*proc::current_process());
    ProcsFile* f = TRY(make<ProcsFile>(RefPtr<fs::File>(&file), c, threads, cred));
    return static_cast<fs::OpenFile*>(f);
}

}  // namespace

Result<fs::OpenFile*> open_procs(fs::File& file, Cgroup& c) { return open_migration_file(file, c, false); }
Result<fs::OpenFile*> open_threads(fs::File& file, Cgroup& c) { return open_migration_file(file, c, true); }

}  // namespace keel::cgroup
