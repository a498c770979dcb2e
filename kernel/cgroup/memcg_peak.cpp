// memory.peak's open descriptions. Each one that was written shows the
// highest usage since its own write; the others show the highest ever, as
// Linux 6.12 keeps a peak per open file.
//
// One "local" watermark per cgroup (PageCounter::local_watermark) restarts
// at each write; a written description keeps what the local watermark had
// reached when another description restarted it, so its peak is the larger
// of that and the local watermark now.
#include <linux/fs.h>

#include "fs/core/vfs.h"
#include "fs/vfs_file.h"
#include "kernel/cgroup/cgroup.h"
#include "kernel/cgroup/memcg.h"
#include "lib/alloc.h"
#include "lib/format.h"

namespace keel::memcg {

namespace {

constexpr u64 PAGE = 4096;
constexpr u64 UNSET = ~0ull;
constexpr usize KERNFS_WRITE_MAX = 4096;

sched::Mutex g_peaks;  // every PeakFile's value and the list of written ones

class PeakFile final : public fs::OpenFile {
public:
    PeakFile(RefPtr<fs::File> file, cgroup::Cgroup& c) : file_(move(file)), cg_(&c) { cgroup::get(c); }

    ListNode node;  // on g_written once written

    fs::File* vfs_file() override { return file_.get(); }
    bool seekable() const override { return true; }
    bool polls_regular_file() const override { return true; }
    Status stat(struct stat& st) override { return fs::stat_path(file_->path(), st); }

    Result<usize> read(const IoBuffer& buf, u64*) override {
        sched::MutexGuard g(pos_lock_);
        usize n = TRY(read_at(buf, pos_));
        pos_ += n;
        return n;
    }
    Result<usize> pread(const IoBuffer& buf, u64 off) override { return read_at(buf, off); }
    // kernfs's generic lseek, over a size of 0.
    Result<u64> lseek(i64 off, int whence) override {
        sched::MutexGuard g(pos_lock_);
        i64 base = whence == SEEK_SET || whence == SEEK_END ? 0 : whence == SEEK_CUR ? static_cast<i64>(pos_) : -1;
        if (base < 0 || base + off < 0) return Error(EINVAL);
        pos_ = static_cast<u64>(base + off);
        return pos_;
    }

    Result<usize> write(const IoBuffer& buf, u64*) override;

    // g_peaks held.
    u64 value = UNSET;
    cgroup::Cgroup& cg() const { return *cg_; }

protected:
    void release() override;

private:
    Result<usize> read_at(const IoBuffer& buf, u64 off);

    RefPtr<fs::File> file_;
    cgroup::Cgroup* cg_;  // a reference
    sched::Mutex pos_lock_;
    u64 pos_ = 0;
};

IntrusiveList<PeakFile, &PeakFile::node> g_written;

bool removed(cgroup::Cgroup& c) {
    sched::MutexGuard g(cgroup::tree_mutex());
    return c.removed;
}

Result<usize> PeakFile::read_at(const IoBuffer& buf, u64 off) {
    if (removed(cg())) return Error(ENODEV);
    u64 pages;
    {
        sched::MutexGuard g(g_peaks);
        u64 local = cg().memory.local_peak();
        pages = value == UNSET ? cg().memory.peak() : (value > local ? value : local);
    }
    char text[24];
    auto len = static_cast<usize>(format(text, sizeof(text), "%llu\n", static_cast<unsigned long long>(pages * PAGE)));
    if (off >= len) return usize(0);
    usize n = min<usize>(len - off, buf.size());
    TRY(buf.write_to(0, text + off, n));
    return n;
}

Result<usize> PeakFile::write(const IoBuffer& buf, u64*) {
    usize n = buf.size();
    if (n == 0) return usize(0);
    usize len = min(n, KERNFS_WRITE_MAX);
    // kernfs copies the text in before looking at it (EFAULT first).
    char* scratch = static_cast<char*>(heap_alloc(len));
    if (!scratch) return Error(ENOMEM);
    Status st = buf.read_from(0, scratch, len);
    heap_free(scratch);
    TRY(st);
    if (removed(cg())) return Error(ENODEV);
    sched::MutexGuard g(g_peaks);
    // The other written descriptions keep the peak they have seen so far.
    u64 local = cg().memory.local_peak();
    g_written.for_each([&](PeakFile& f) {
        if (&f.cg() == &cg() && f.value < local) f.value = local;
    });
    u64 now = reset_local_peak(cg().memory);
    if (value == UNSET) g_written.push_back(*this);
    value = now;
    return len;
}

void PeakFile::release() {
    {
        sched::MutexGuard g(g_peaks);
        if (value != UNSET) g_written.remove(*this);
    }
    cgroup::put(cg_);
    destroy(this);
}

}  // namespace

Result<fs::OpenFile*> open_peak(fs::File& file, cgroup::Cgroup& c) {
    PeakFile* f = TRY(make<PeakFile>(RefPtr<fs::File>(&file), c));
    return static_cast<fs::OpenFile*>(f);
}

}  // namespace keel::memcg
