// Allocation failure at every point of each operation: the result is
// ENOMEM with nothing changed, never a crash or a leak (run under ASan).
#include <cstdio>
#include <cstring>

#include "fs/core/initramfs.h"
#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

class FsEnomem : public FsTest {
protected:
    // Runs op with every allocation budget from 0 up until it succeeds;
    // each failure must be ENOMEM and leave `unchanged` true.
    template <typename Op, typename Check>
    void sweep(const char* what, Op op, Check unchanged) {
        for (long budget = 0; budget < 500; ++budget) {
            int e = with_alloc_budget(budget, op);
            if (e == 0) {
                SUCCEED() << what << " succeeded with " << budget << " allocations";
                return;
            }
            ASSERT_EQ(e, ENOMEM) << what << " at budget " << budget;
            ASSERT_TRUE(unchanged()) << what << " changed state at budget " << budget;
        }
        FAIL() << what << " never succeeded";
    }
    void drop_cache() {
        FsLockGuard g(root.mnt->sb().lock());
        root.mnt->sb().shrink_dcache_locked(0);
    }
};

TEST_F(FsEnomem, Create) {
    ASSERT_EQ(md("/d"), 0);
    sweep("open(O_CREAT)", [&] { drop_cache(); return touch("/d/f"); }, [&] { return look("/d/f") == ENOENT; });
    EXPECT_EQ(look("/d/f"), 0);
    sweep("mkdir", [&] { drop_cache(); return md("/d/sub"); }, [&] { return look("/d/sub") == ENOENT; });
    EXPECT_EQ(nlink_of("/d"), 3u);
    sweep("symlink", [&] { drop_cache(); return sym(std::string(300, 'l').c_str(), "/d/l"); },
          [&] { return look("/d/l", 0) == ENOENT; });
    sweep("mknod", [&] { return err(fs::mknod(at("/d/p"), S_IFIFO | 0600, 0)); },
          [&] { return look("/d/p", 0) == ENOENT; });
    sweep("link", [&] { drop_cache(); return err(fs::link(at("/d/f"), at("/d/f2"))); },
          [&] { return look("/d/f2") == ENOENT && nlink_of("/d/f") == 1; });
    EXPECT_EQ(nlink_of("/d/f"), 2u);
    sweep("O_TMPFILE", [&] { return err(fs::open(at("/d"), O_TMPFILE | O_RDWR, 0600)); }, [] { return true; });
    EXPECT_EQ(st("/d").stx_size, 40u + 20u * 5);
}

TEST_F(FsEnomem, Lookup) {
    ASSERT_EQ(md("/a"), 0);
    ASSERT_EQ(md("/a/b"), 0);
    ASSERT_EQ(sym("/a/b", "/a/l"), 0);
    sweep("lookup", [&] { drop_cache(); return look("/a/l/../b/."); }, [] { return true; });
}

TEST_F(FsEnomem, Rename) {
    ASSERT_EQ(md("/x"), 0);
    ASSERT_EQ(md("/y"), 0);
    ASSERT_EQ(write_file("/x/a", "A"), 0);
    ASSERT_EQ(write_file("/y/b", "B"), 0);
    std::string long_name(100, 'n');  // needs heap storage in the dentry
    std::string target = "/y/" + long_name;
    sweep("rename to a new name",
          [&] { drop_cache(); return mv("/x/a", target.c_str()); },
          [&] { return read_file("/x/a") == "A" && look(target.c_str()) == ENOENT; });
    EXPECT_EQ(read_file(target.c_str()), "A");
    sweep("rename over", [&] { drop_cache(); return mv(target.c_str(), "/y/b"); },
          [&] { return read_file("/y/b") == "B" && read_file(target.c_str()) == "A"; });
    EXPECT_EQ(read_file("/y/b"), "A");
    ASSERT_EQ(write_file("/x/c", "C"), 0);
    sweep("exchange", [&] { drop_cache(); return err(fs::rename(at("/x/c"), at("/y/b"), RENAME_EXCHANGE)); },
          [&] { return read_file("/x/c") == "C" && read_file("/y/b") == "A"; });
    EXPECT_EQ(read_file("/x/c"), "A");
    sweep("whiteout", [&] { drop_cache(); return err(fs::rename(at("/x/c"), at("/x/w"), RENAME_WHITEOUT)); },
          [&] { return read_file("/x/c") == "A" && look("/x/w") == ENOENT; });
    EXPECT_EQ(mode_of("/x/c", 0), u32(S_IFCHR));
    EXPECT_EQ(st("/x").stx_size, 40u + 40u);
}

TEST_F(FsEnomem, WritesAreAllOrPartial) {
    auto f = openf("/f", O_CREAT | O_RDWR);
    ASSERT_TRUE(f);
    std::string data(5 * 4096, 'w');
    for (long budget = 0; budget < 20; ++budget) {
        ASSERT_TRUE(fs::ftruncate(*f, 0, rootc).is_ok());
        KernelDataBuffer b(data.data(), data.size());
        auto n = with_alloc_budget(budget, [&] { return fs::pwrite(*f, b, 0, rootc); });
        if (n.is_error()) {
            EXPECT_EQ(n.error().code(), ENOMEM);
            EXPECT_EQ(st("/f").stx_size, 0u);
            continue;
        }
        EXPECT_EQ(st("/f").stx_size, n.value());  // a partial write is a valid outcome
        EXPECT_EQ(st("/f").stx_blocks, align_up<u64>(n.value(), 4096) / 512);
        if (n.value() == data.size()) return;
    }
    FAIL() << "the write never completed";
}

TEST_F(FsEnomem, FallocateUndoes) {
    auto f = openf("/f", O_CREAT | O_RDWR);
    ASSERT_TRUE(f);
    sweep("fallocate", [&] { return err(fs::fallocate(*f, 0, 0, 8 * 4096, rootc)); },
          [&] { return st("/f").stx_blocks == 0 && st("/f").stx_size == 0; });
    EXPECT_EQ(st("/f").stx_blocks, 64u);
}

TEST_F(FsEnomem, MountAndNamespace) {
    ASSERT_EQ(md("/mnt"), 0);
    usize n = ns->size();
    sweep("mount", [&] { return mount_tmpfs("/mnt"); }, [&] { return ns->size() == n; });
    EXPECT_EQ(ns->size(), n + 1);
    sweep("namespace", [&] {
        auto sb = tmpfs_create({});
        if (sb.is_error()) return sb.error().code();
        return err(MountNamespace::create(sb.release_value(), "x", 0));
    }, [] { return true; });
    sweep("snapshot", [&] { return err(ns->snapshot()); }, [] { return true; });
}

TEST_F(FsEnomem, Initramfs) {
    // An archive of a directory, a file, a symlink and a hard link pair.
    std::string a;
    auto add = [&](const char* name, u32 mode, const std::string& data, u32 nlink, u32 ino) {
        char h[111];
        snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode, 0, 0,
                 nlink, 0, unsigned(data.size()), 0, 0, 0, 0, unsigned(strlen(name) + 1), 0);
        a.append(h, 110);
        a.append(name);
        a.push_back('\0');
        while (a.size() % 4) a.push_back('\0');
        a.append(data);
        while (a.size() % 4) a.push_back('\0');
    };
    add("etc", S_IFDIR | 0755, "", 2, 1);
    add("etc/conf", S_IFREG | 0644, std::string(6000, 'c'), 2, 2);
    add("etc/conf2", S_IFREG | 0644, "", 2, 2);
    add("etc/link", S_IFLNK | 0777, "conf", 1, 3);
    add("TRAILER!!!", 0, "", 1, 0);
    for (long budget = 0; budget < 400; ++budget) {
        InitramfsReport r;
        auto s = with_alloc_budget(budget, [&] {
            return unpack_initramfs(reinterpret_cast<const u8*>(a.data()), a.size(), root, r);
        });
        // Running out of memory may fail the unpack or skip members, as
        // Linux's unpacker skips what it cannot create; it never crashes.
        if (s.is_ok() && r.skipped == 0 && read_file("/etc/conf2") == std::string(6000, 'c')) {
            EXPECT_EQ(nlink_of("/etc/conf"), 2u);
            return;
        }
        if (s.is_error()) {
            EXPECT_EQ(s.error().code(), ENOMEM);
        }
    }
    FAIL() << "never unpacked";
}

}  // namespace
