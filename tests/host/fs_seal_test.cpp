// What fs/core does for the memory manager: memfd seals on write, truncate,
// fallocate and chmod, and the PageMapHook calls made before tmpfs frees
// pages (so mappings can drop them first).
#include <linux/falloc.h>

#include <vector>

#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

struct Call {
    u64 first, end;
    bool private_copies;
};

struct RecordingHook final : PageMapHook {
    std::vector<Call>* calls;
    bool* released;
    void unmap_pages(u64 first, u64 end, bool private_copies) override {
        calls->push_back({first, end, private_copies});
    }
    void release() override {
        *released = true;
        delete this;
    }
};

class FsSeal : public FsTest {
protected:
    Result<usize> pw(File& f, const std::string& s, u64 off) {
        KernelDataBuffer b(s.data(), s.size());
        return fs::pwrite(f, b, off, rootc);
    }
    void seal(File& f, u32 seals) {
        FsLockGuard g(f.inode().lock());
        f.inode().set_seals_locked(seals);
    }
};

TEST_F(FsSeal, WriteSealsRefuseWritesAndPunches) {
    auto f = openf("/s", O_CREAT | O_RDWR);
    ASSERT_TRUE(f);
    ASSERT_TRUE(pw(*f, "data", 0).is_ok());
    seal(*f, F_SEAL_WRITE);
    EXPECT_EQ(pw(*f, "x", 0).error().code(), EPERM);
    EXPECT_EQ(fs::fallocate(*f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096, rootc).error().code(), EPERM);
    seal(*f, F_SEAL_FUTURE_WRITE);
    EXPECT_EQ(pw(*f, "x", 0).error().code(), EPERM);
}

TEST_F(FsSeal, SizeSeals) {
    auto f = openf("/s", O_CREAT | O_RDWR);
    ASSERT_TRUE(f);
    ASSERT_TRUE(fs::ftruncate(*f, 8192, rootc).is_ok());
    seal(*f, F_SEAL_SHRINK);
    EXPECT_EQ(fs::ftruncate(*f, 4096, rootc).error().code(), EPERM);
    EXPECT_TRUE(fs::ftruncate(*f, 12288, rootc).is_ok());
    seal(*f, F_SEAL_SHRINK | F_SEAL_GROW);
    EXPECT_EQ(fs::ftruncate(*f, 16384, rootc).error().code(), EPERM);
    EXPECT_EQ(fs::fallocate(*f, 0, 0, 16384, rootc).error().code(), EPERM);
    EXPECT_TRUE(fs::fallocate(*f, 0, 0, 4096, rootc).is_ok());
    EXPECT_EQ(pw(*f, "ab", 100).value(), 2u);
    // A write reaching past the end fails whole within one 2 MiB piece.
    EXPECT_EQ(pw(*f, "abc", 12287).error().code(), EPERM);
    EXPECT_EQ(pw(*f, "abc", 12288).error().code(), EPERM);
    EXPECT_EQ(f->inode().attr().size, 12288u);
}

TEST_F(FsSeal, ExecSealFreezesExecBits) {
    auto f = openf("/s", O_CREAT | O_RDWR, 0755);
    ASSERT_TRUE(f);
    seal(*f, 0x20);
    EXPECT_EQ(fs::chmod(f->path(), 0644, rootc).error().code(), EPERM);
    EXPECT_TRUE(fs::chmod(f->path(), 0711, rootc).is_ok());
}

TEST_F(FsSeal, HookSeesPagesBeforeTheyGo) {
    std::vector<Call> calls;
    bool released = false;
    {
        auto f = openf("/m", O_CREAT | O_RDWR);
        ASSERT_TRUE(f);
        auto* hook = new RecordingHook;
        hook->calls = &calls;
        hook->released = &released;
        {
            FsLockGuard g(f->inode().lock());
            f->inode().set_page_map_locked(hook);
        }
        ASSERT_TRUE(fs::ftruncate(*f, 5 * 4096, rootc).is_ok());
        EXPECT_TRUE(calls.empty());  // growing frees nothing
        ASSERT_TRUE(fs::ftruncate(*f, 4096 + 10, rootc).is_ok());
        ASSERT_EQ(calls.size(), 1u);
        EXPECT_EQ(calls[0].first, 2u);  // the partial page stays
        EXPECT_EQ(calls[0].end, ~0ull);
        EXPECT_TRUE(calls[0].private_copies);
        ASSERT_TRUE(fs::fallocate(*f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 3 * 4096, rootc).is_ok());
        ASSERT_EQ(calls.size(), 2u);
        EXPECT_EQ(calls[1].first, 0u);
        EXPECT_EQ(calls[1].end, 3u);
        EXPECT_FALSE(calls[1].private_copies);
        // A punch inside one page frees nothing.
        ASSERT_TRUE(fs::fallocate(*f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10, 100, rootc).is_ok());
        EXPECT_EQ(calls.size(), 2u);
        ASSERT_EQ(rm("/m"), 0);
    }
    EXPECT_TRUE(released);  // the inode owns its hook
}

}  // namespace
