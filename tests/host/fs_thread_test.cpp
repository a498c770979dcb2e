// Several threads changing and reading one tree at once: under ASan this
// catches reference counting and locking mistakes; afterwards the tree
// must be consistent (link counts, sizes, names).
#include <atomic>
#include <thread>

#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

class FsThreads : public FsTest {};

TEST_F(FsThreads, ConcurrentNamespaceChanges) {
    ASSERT_EQ(md("/shared"), 0);
    ASSERT_EQ(md("/other"), 0);
    root.mnt->sb().set_dcache_limit(64);  // keep eviction busy too
    constexpr int kThreads = 4;
    constexpr int kRounds = 300;
    std::atomic<int> failures{0};
    auto worker = [&](int id) {
        Cred c = Cred::root();
        Path r = root;
        char a[64], b[64], d[64];
        for (int i = 0; i < kRounds; ++i) {
            snprintf(a, sizeof(a), "/shared/t%d-%d", id, i % 7);
            snprintf(b, sizeof(b), "/other/t%d-%d", id, i % 5);
            snprintf(d, sizeof(d), "/shared/dir%d", i % 3);
            LookupRequest ra{c, r, r, a, 0}, rb{c, r, r, b, 0}, rd{c, r, r, d, 0};
            switch (i % 6) {
            case 0: {
                auto f = fs::open(ra, O_CREAT | O_RDWR, 0644);
                if (f.is_ok()) {
                    KernelDataBuffer buf("abcdefgh", 8);
                    if (fs::write(*f.value(), buf, c).is_error()) ++failures;
                }
                break;
            }
            case 1:
                (void)fs::rename(ra, rb, 0);
                break;
            case 2:
                (void)fs::mkdir(rd, 0755);
                break;
            case 3:
                (void)fs::rmdir(rd);
                break;
            case 4:
                (void)fs::unlink(rb);
                break;
            case 5: {
                auto f = fs::open(LookupRequest{c, r, r, "/shared", 0}, O_RDONLY | O_DIRECTORY, 0);
                if (f.is_error()) {
                    ++failures;
                    break;
                }
                Collect col;
                if (iterate_dir(*f.value(), col).is_error()) ++failures;
                for (auto& e : col.ents) {
                    std::string p = "/shared/" + e.name;
                    (void)lookup(LookupRequest{c, r, r, p.c_str(), LOOKUP_FOLLOW});
                }
                break;
            }
            }
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);

    // Consistency: every listed name resolves, sizes and link counts add up.
    for (const char* dir : {"/shared", "/other"}) {
        auto names = ls(dir);
        ASSERT_GE(names.size(), 2u);
        u32 subdirs = 0;
        for (usize i = 2; i < names.size(); ++i) {
            std::string p = std::string(dir) + "/" + names[i];
            auto s = st(p.c_str(), 0);
            if ((s.stx_mode & S_IFMT) == S_IFDIR) ++subdirs;
            else EXPECT_EQ(s.stx_nlink, 1u) << p;
        }
        auto s = st(dir);
        EXPECT_EQ(s.stx_size, 20u * names.size()) << dir;
        EXPECT_EQ(s.stx_nlink, 2u + subdirs) << dir;
    }
}

TEST_F(FsThreads, ConcurrentIoOnOneFile) {
    auto f = openf("/f", O_CREAT | O_RDWR);
    ASSERT_TRUE(f);
    constexpr int kThreads = 4;
    auto worker = [&](int id) {
        std::string block(4096, char('a' + id));
        for (int i = 0; i < 200; ++i) {
            KernelDataBuffer b(block.data(), block.size());
            (void)fs::pwrite(*f, b, u64(i % 16) * 4096 * kThreads + u64(id) * 4096, Cred::root());
            std::string out(4096, '?');
            KernelDataBuffer r(out.data(), out.size());
            (void)fs::pread(*f, r, u64(id) * 4096);
            if (i % 50 == 0) (void)fs::ftruncate(*f, 4096 * 8, Cred::root());
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
    for (auto& t : threads) t.join();
    auto s = st("/f");
    EXPECT_LE(s.stx_blocks, align_up<u64>(s.stx_size, 4096) / 512);
    EXPECT_EQ(s.stx_blocks % 8, 0u);
    // Every whole block holds one thread's letter throughout: writes of a
    // page never tear against each other.
    for (u64 off = 0; off + 4096 <= s.stx_size; off += 4096) {
        std::string out(4096, '?');
        KernelDataBuffer r(out.data(), out.size());
        ASSERT_TRUE(fs::pread(*f, r, off).is_ok());
        EXPECT_EQ(out, std::string(4096, out[0])) << off;
    }
}

}  // namespace
