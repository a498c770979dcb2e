// rename/renameat2: the type matrix, ancestry rules, flags, and what
// happens to link counts, directory sizes, cookies and cached names.
#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

class FsRename : public FsTest {
protected:
    void SetUp() override {
        FsTest::SetUp();
        ASSERT_EQ(md("/a"), 0);
        ASSERT_EQ(md("/a/sub"), 0);
        ASSERT_EQ(md("/b"), 0);
        ASSERT_EQ(md("/empty"), 0);
        ASSERT_EQ(write_file("/f", "F"), 0);
        ASSERT_EQ(write_file("/g", "G"), 0);
    }
    u64 ino(const char* p) { return st(p, 0).stx_ino; }
};

TEST_F(FsRename, FileToNewName) {
    u64 i = ino("/f");
    EXPECT_EQ(mv("/f", "/a/f2"), 0);
    EXPECT_EQ(look("/f"), ENOENT);
    EXPECT_EQ(ino("/a/f2"), i);
    EXPECT_EQ(read_file("/a/f2"), "F");
    EXPECT_EQ(mv("/missing", "/x"), ENOENT);
    EXPECT_EQ(mv("/a/f2", "/missing/x"), ENOENT);
}

TEST_F(FsRename, FileOverFile) {
    auto held = openf("/g", O_RDONLY);
    ASSERT_TRUE(held);
    u64 fi = ino("/f");
    EXPECT_EQ(mv("/f", "/g"), 0);
    EXPECT_EQ(ino("/g"), fi);
    EXPECT_EQ(read_file("/g"), "F");
    struct statx s {};
    ASSERT_TRUE(getattr(held->path(), STATX_BASIC_STATS, s).is_ok());
    EXPECT_EQ(s.stx_nlink, 0u);  // the replaced file lives on while open
    EXPECT_EQ(link_text(held->path(), root), "/g (deleted)");
    EXPECT_EQ(st("/").stx_size, 40u + 20u * 4);  // a, b, empty, g
}

TEST_F(FsRename, TypeMatrix) {
    ASSERT_EQ(md("/full"), 0);
    ASSERT_EQ(touch("/full/x"), 0);
    EXPECT_EQ(mv("/f", "/empty"), EISDIR);      // file over directory
    EXPECT_EQ(mv("/empty", "/f"), ENOTDIR);     // directory over file
    EXPECT_EQ(mv("/b", "/full"), ENOTEMPTY);    // over a non-empty directory
    EXPECT_EQ(mv("/b", "/empty"), 0);           // over an empty one
    EXPECT_EQ(look("/b"), ENOENT);
    EXPECT_EQ(mv("/f/", "/h"), ENOTDIR);        // trailing slash on a file
    EXPECT_EQ(mv("/f", "/h/"), ENOTDIR);
    EXPECT_EQ(mv("/empty/", "/e2/"), 0);        // fine for directories
    EXPECT_EQ(mv("/e2", "/e3/"), 0);
}

TEST_F(FsRename, SameInodeIsANoOp) {
    ASSERT_EQ(err(fs::link(at("/f"), at("/f2"))), 0);
    EXPECT_EQ(mv("/f", "/f2"), 0);
    EXPECT_EQ(look("/f"), 0);  // both names stay
    EXPECT_EQ(look("/f2"), 0);
    EXPECT_EQ(nlink_of("/f"), 2u);
    EXPECT_EQ(mv("/f", "/f"), 0);
    EXPECT_EQ(mv("/a", "/a"), 0);
}

TEST_F(FsRename, Ancestry) {
    ASSERT_EQ(md("/a/sub/deep"), 0);
    EXPECT_EQ(mv("/a", "/a/sub/x"), EINVAL);        // under itself
    EXPECT_EQ(mv("/a", "/a/sub/deep/x"), EINVAL);
    EXPECT_EQ(mv("/a/sub/deep", "/a"), ENOTEMPTY);  // over its own ancestor
    EXPECT_EQ(err(fs::rename(at("/a/sub/deep"), at("/a"), RENAME_EXCHANGE)), EINVAL);
    EXPECT_EQ(mv("/a/sub", "/b/sub"), 0);
    EXPECT_EQ(look("/b/sub/deep"), 0);
}

TEST_F(FsRename, DotsAndFlags) {
    EXPECT_EQ(mv("/a/.", "/x"), EBUSY);
    EXPECT_EQ(mv("/a/..", "/x"), EBUSY);
    EXPECT_EQ(mv("/f", "/a/."), EBUSY);
    EXPECT_EQ(err(fs::rename(at("/f"), at("/a/."), RENAME_NOREPLACE)), EEXIST);
    EXPECT_EQ(err(fs::rename(at("/f"), at("/g"), RENAME_NOREPLACE)), EEXIST);
    EXPECT_EQ(err(fs::rename(at("/f"), at("/h"), RENAME_NOREPLACE)), 0);
    EXPECT_EQ(err(fs::rename(at("/h"), at("/g"), RENAME_NOREPLACE | RENAME_EXCHANGE)), EINVAL);
    EXPECT_EQ(err(fs::rename(at("/h"), at("/g"), RENAME_WHITEOUT | RENAME_EXCHANGE)), EINVAL);
    EXPECT_EQ(err(fs::rename(at("/h"), at("/g"), 1u << 5)), EINVAL);
}

TEST_F(FsRename, Exchange) {
    u64 fi = ino("/f"), ai = ino("/a");
    u32 root_links = nlink_of("/"), b_links = nlink_of("/b");
    EXPECT_EQ(err(fs::rename(at("/f"), at("/b/none"), RENAME_EXCHANGE)), ENOENT);
    ASSERT_EQ(err(fs::rename(at("/f"), at("/a"), RENAME_EXCHANGE)), 0);
    EXPECT_EQ(ino("/a"), fi);
    EXPECT_EQ(ino("/f"), ai);
    EXPECT_EQ(look("/f/sub"), 0);
    // A directory swapped with a file across directories moves a link.
    ASSERT_EQ(err(fs::rename(at("/f"), at("/b/none2"), 0)), 0);  // /f (dir) into /b
    EXPECT_EQ(nlink_of("/"), root_links - 1);
    EXPECT_EQ(nlink_of("/b"), b_links + 1);
    ASSERT_EQ(touch("/b/file"), 0);
    ASSERT_EQ(err(fs::rename(at("/b/none2"), at("/g"), RENAME_EXCHANGE)), 0);
    EXPECT_EQ(nlink_of("/"), root_links);
    EXPECT_EQ(nlink_of("/b"), b_links);
    EXPECT_EQ(mode_of("/g") & S_IFMT, u32(S_IFDIR));
    // Exchange does not care about types.
    EXPECT_EQ(err(fs::rename(at("/g"), at("/b/file"), RENAME_EXCHANGE)), 0);
    EXPECT_EQ(err(fs::rename(at("/g"), at("/b/file/"), RENAME_EXCHANGE)), 0);  // target now a dir
    EXPECT_EQ(err(fs::rename(at("/g"), at("/b/file/"), RENAME_EXCHANGE)), ENOTDIR);
}

TEST_F(FsRename, Whiteout) {
    ASSERT_EQ(err(fs::rename(at("/f"), at("/b/f"), RENAME_WHITEOUT)), 0);
    auto s = st("/f", 0);
    EXPECT_EQ(s.stx_mode, u32(S_IFCHR));  // mode 0, device 0:0
    EXPECT_EQ(s.stx_rdev_major, 0u);
    EXPECT_EQ(s.stx_rdev_minor, 0u);
    EXPECT_EQ(read_file("/b/f"), "F");
    // Unprivileged whiteouts are allowed (since Linux 5.8).
    ASSERT_EQ(md("/pub", 0777), 0);
    ASSERT_EQ(touch_as(user, "/pub/u"), 0);
    EXPECT_EQ(err(fs::rename(as(user, "/pub/u"), as(user, "/pub/v"), RENAME_WHITEOUT)), 0);
    EXPECT_EQ(st("/pub/u", 0).stx_uid, 1000u);
}

TEST_F(FsRename, DirectoryLinkCounts) {
    u32 r = nlink_of("/"), b = nlink_of("/b"), a = nlink_of("/a");
    ASSERT_EQ(mv("/a/sub", "/b/sub"), 0);
    EXPECT_EQ(nlink_of("/a"), a - 1);
    EXPECT_EQ(nlink_of("/b"), b + 1);
    ASSERT_EQ(md("/b/victim"), 0);
    ASSERT_EQ(mv("/b/sub", "/b/victim"), 0);  // dir over empty dir, same parent
    EXPECT_EQ(nlink_of("/b"), b + 1);
    ASSERT_EQ(mv("/b/victim", "/empty"), 0);  // over an empty dir elsewhere
    EXPECT_EQ(nlink_of("/b"), b);
    EXPECT_EQ(nlink_of("/"), r);
    EXPECT_EQ(st("/b").stx_size, 40u);
}

TEST_F(FsRename, CrossMountAndBusy) {
    ASSERT_EQ(md("/mnt"), 0);
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(touch("/mnt/x"), 0);
    EXPECT_EQ(mv("/f", "/mnt/f"), EXDEV);
    EXPECT_EQ(mv("/mnt/x", "/x"), EXDEV);
    EXPECT_EQ(mv("/mnt", "/mnt2"), EBUSY);    // a mount point
    EXPECT_EQ(mv("/empty", "/mnt"), EBUSY);
    EXPECT_EQ(mv("/mnt/x", "/mnt/y"), 0);
}

TEST_F(FsRename, Permissions) {
    ASSERT_EQ(md("/pub", 0777), 0);
    ASSERT_EQ(md("/pub/rootdir", 0755), 0);
    ASSERT_EQ(md("/pub/other", 0777), 0);
    ASSERT_EQ(md_as(user, "/pub/mine", 0755), 0);
    // Moving a directory to another parent needs write permission on it
    // (its ".." changes); renaming it in place does not.
    EXPECT_EQ(err(fs::rename(as(user, "/pub/rootdir"), as(user, "/pub/other/r"), 0)), EACCES);
    EXPECT_EQ(err(fs::rename(as(user, "/pub/rootdir"), as(user, "/pub/renamed"), 0)), 0);
    EXPECT_EQ(err(fs::rename(as(user, "/pub/mine"), as(user, "/pub/other/m"), 0)), 0);
    // "/" is tmpfs's default 1777: the sticky bit protects root's file.
    EXPECT_EQ(err(fs::rename(as(user, "/f"), as(user, "/pub/f"), 0)), EPERM);
    EXPECT_EQ(err(fs::rename(as(user, "/pub/renamed"), as(user, "/b/r"), 0)), EACCES);  // /b is 0755
}

TEST_F(FsRename, CachedNamesFollow) {
    ASSERT_EQ(md("/a/sub/w"), 0);
    auto f = openf("/a/sub/file", O_CREAT | O_RDWR);
    ASSERT_TRUE(f);
    cwd = path("/a/sub/w");
    ASSERT_EQ(mv("/a/sub", "/b/moved"), 0);
    EXPECT_EQ(link_text(f->path(), root), "/b/moved/file");
    EXPECT_EQ(cwd_text(cwd, root), "/b/moved/w");
    EXPECT_EQ(look("../file"), 0);
    ASSERT_EQ(err(fs::rename(at("/b/moved"), at("/a"), RENAME_EXCHANGE)), 0);
    EXPECT_EQ(link_text(f->path(), root), "/a/file");
    EXPECT_EQ(ls("/b/moved"), (std::vector<std::string>{".", ".."}));  // the old, now empty, /a
}

TEST_F(FsRename, ReplacedTargetTakesItsCookie) {
    ASSERT_EQ(touch("/b/1"), 0);
    ASSERT_EQ(touch("/b/2"), 0);
    ASSERT_EQ(touch("/b/3"), 0);
    EXPECT_EQ(ls("/b"), (std::vector<std::string>{".", "..", "1", "2", "3"}));
    ASSERT_EQ(mv("/b/3", "/b/1"), 0);  // replaces 1 in its place
    EXPECT_EQ(ls("/b"), (std::vector<std::string>{".", "..", "1", "2"}));
    ASSERT_EQ(mv("/b/1", "/b/0"), 0);  // a new name goes at the end
    EXPECT_EQ(ls("/b"), (std::vector<std::string>{".", "..", "2", "0"}));
}

}  // namespace
