// mount, bind mounts, umount (busy rules, MNT_DETACH), the mount list for
// /proc/mounts, and rendering paths for getcwd and /proc/<pid>/fd links.
#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

class FsMount : public FsTest {
protected:
    void SetUp() override {
        FsTest::SetUp();
        ASSERT_EQ(md("/mnt"), 0);
        ASSERT_EQ(touch("/file"), 0);
    }
    std::string mp_text(Mount& m, const Path& r) {
        char buf[PATH_MAX];
        auto s = path_for_mounts(m.root_path(), r, buf, sizeof(buf));
        if (s.is_error()) return "<errno " + std::to_string(s.error().code()) + ">";
        return std::string(s.value().data(), s.value().size());
    }
};

TEST_F(FsMount, MountRules) {
    auto sb = tmpfs_create({});
    ASSERT_TRUE(sb.is_ok());
    EXPECT_EQ(err(mount_at(path("/file"), sb.release_value(), "t", 0)), ENOTDIR);
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    // The same superblock again on its own root: EBUSY.
    Path m = path("/mnt");
    RefPtr<Superblock> same(&m.mnt->sb());
    EXPECT_EQ(err(mount_at(m, same, "t", 0)), EBUSY);
    // A deleted directory cannot become a mount point.
    ASSERT_EQ(md("/gone"), 0);
    Path gone = path("/gone");
    ASSERT_EQ(rd("/gone"), 0);
    auto sb2 = tmpfs_create({});
    EXPECT_EQ(err(mount_at(gone, sb2.release_value(), "t", 0)), ENOENT);
}

TEST_F(FsMount, UmountBusyRules) {
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(md("/mnt/sub"), 0);
    EXPECT_EQ(umount_path("/mnt/sub"), EINVAL);  // not a mount root
    EXPECT_EQ(umount_path("/"), EINVAL);         // the namespace root stays
    {
        auto f = openf("/mnt/sub", O_RDONLY);
        EXPECT_EQ(umount_path("/mnt"), EBUSY);   // an open file inside
    }
    cwd = path("/mnt/sub");
    EXPECT_EQ(umount_path("/mnt"), EBUSY);       // a working directory inside
    cwd = root;
    ASSERT_EQ(mount_tmpfs("/mnt/sub"), 0);
    EXPECT_EQ(umount_path("/mnt"), EBUSY);       // something mounted below
    EXPECT_EQ(umount_path("/mnt/sub"), 0);
    EXPECT_EQ(umount_path("/mnt"), 0);
    EXPECT_EQ(look("/mnt/sub"), ENOENT);         // the tmpfs and its contents are gone
    EXPECT_EQ(umount_path("/mnt"), EINVAL);      // nothing mounted there now
}

TEST_F(FsMount, LazyDetach) {
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(md("/mnt/sub"), 0);
    ASSERT_EQ(write_file("/mnt/sub/data", "kept"), 0);
    ASSERT_EQ(mount_tmpfs("/mnt/sub"), 0);
    ASSERT_EQ(touch("/mnt/sub/top"), 0);
    usize before = ns->size();
    cwd = path("/mnt");
    auto f = openf("/mnt/sub/top", O_RDONLY);
    Path top_root = path("/mnt/sub");
    EXPECT_EQ(umount_path("/mnt", MNT_DETACH), 0);
    EXPECT_EQ(ns->size(), before - 2);
    EXPECT_EQ(look("/mnt/sub"), ENOENT);  // the namespace sees the directory below
    // What was open or current keeps working, cut off from the tree.
    EXPECT_EQ(read_file("sub/data"), "kept");  // sub is no longer covered
    EXPECT_EQ(st("..").stx_ino, 1u);           // ".." at a detached root stays
    EXPECT_EQ(cwd_text(cwd, root), "(unreachable)/");
    EXPECT_EQ(link_text(f->path(), root), "/top");
    EXPECT_EQ(umount_path("/mnt"), EINVAL);
}

TEST_F(FsMount, Stacking) {
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(touch("/mnt/lower"), 0);
    Path lower = path("/mnt");
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    EXPECT_EQ(look("/mnt/lower"), ENOENT);
    // Mounting through a path taken before still lands on top.
    auto sb = tmpfs_create({});
    ASSERT_TRUE(mount_at(lower, sb.release_value(), "t3", 0).is_ok());
    ASSERT_EQ(touch("/mnt/third"), 0);
    EXPECT_EQ(umount_path("/mnt"), 0);
    EXPECT_EQ(look("/mnt/third"), ENOENT);
    EXPECT_EQ(umount_path("/mnt"), 0);
    EXPECT_EQ(look("/mnt/lower"), 0);
}

TEST_F(FsMount, BindMounts) {
    ASSERT_EQ(md("/src"), 0);
    ASSERT_EQ(md("/src/inner"), 0);
    ASSERT_EQ(write_file("/src/inner/x", "X"), 0);
    ASSERT_TRUE(bind_mount(path("/src/inner"), path("/mnt"), MS_BIND).is_ok());
    EXPECT_EQ(read_file("/mnt/x"), "X");
    EXPECT_EQ(st("/mnt/x").stx_ino, st("/src/inner/x").stx_ino);
    EXPECT_NE(st("/mnt/x").stx_mnt_id, st("/src/inner/x").stx_mnt_id);
    EXPECT_EQ(err(fs::link(at("/src/inner/x"), at("/mnt/y"))), EXDEV);  // another mount
    EXPECT_EQ(mv("/src/inner/x", "/mnt/z"), EXDEV);
    EXPECT_EQ(st("/mnt/..").stx_ino, st("/").stx_ino);
    // A file bound over a file.
    ASSERT_EQ(write_file("/over", "over"), 0);
    ASSERT_TRUE(bind_mount(path("/src/inner/x"), path("/over"), MS_BIND).is_ok());
    EXPECT_EQ(read_file("/over"), "X");
    EXPECT_EQ(rm("/over"), EBUSY);
    EXPECT_EQ(mv("/file", "/over"), EBUSY);
    EXPECT_EQ(err(bind_mount(path("/src"), path("/file"), MS_BIND)), ENOTDIR);
    auto snap = ns->snapshot();
    ASSERT_TRUE(snap.is_ok());
    ASSERT_EQ(snap.value().count, 3u);
    char buf[PATH_MAX];
    auto r = mount_root_path(*snap.value().mounts[1], buf, sizeof(buf));
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(std::string(r.value().data(), r.value().size()), "/src/inner");
    EXPECT_EQ(std::string(mount_root_path(*snap.value().mounts[0], buf, sizeof(buf)).value().data()), "/");
}

TEST_F(FsMount, MountListForProc) {
    ASSERT_EQ(mount_tmpfs("/mnt", MS_NOSUID | MS_NODEV), 0);
    ASSERT_EQ(md("/mnt/a"), 0);
    ASSERT_EQ(mount_tmpfs("/mnt/a", MS_RDONLY | MS_NOATIME), 0);
    ASSERT_EQ(md("/jail"), 0);
    ASSERT_EQ(mount_tmpfs("/jail"), 0);
    auto snap = ns->snapshot();
    ASSERT_TRUE(snap.is_ok());
    auto& s = snap.value();
    ASSERT_EQ(s.count, 4u);
    Mount& rootm = *s.mounts[0];
    Mount& mnt = *s.mounts[1];
    Mount& a = *s.mounts[2];
    EXPECT_EQ(rootm.parent_id(), rootm.id());
    EXPECT_EQ(mnt.parent_id(), rootm.id());
    EXPECT_EQ(a.parent_id(), mnt.id());
    EXPECT_LT(rootm.id(), mnt.id());
    EXPECT_LT(mnt.unique_id(), a.unique_id());
    EXPECT_EQ(mp_text(rootm, root), "/");
    EXPECT_EQ(mp_text(mnt, root), "/mnt");
    EXPECT_EQ(mp_text(a, root), "/mnt/a");
    EXPECT_EQ(mnt.flags(), u32(MS_NOSUID | MS_NODEV | MS_RELATIME));
    EXPECT_EQ(a.flags(), u32(MS_RDONLY | MS_NOATIME));
    EXPECT_TRUE(a.sb().read_only());
    EXPECT_EQ(std::string(a.sb().type_name().data(), a.sb().type_name().size()), "tmpfs");
    EXPECT_EQ(std::string(a.source().data(), a.source().size()), "tmpfs");
    // Seen from a chroot into /jail, only the jail's own mount is reachable.
    Path jail = path("/jail");
    EXPECT_EQ(mp_text(*s.mounts[3], jail), "/");
    EXPECT_EQ(mp_text(mnt, jail), "<errno 2>");
    EXPECT_EQ(mp_text(rootm, jail), "<errno 2>");
}

TEST_F(FsMount, PathRendering) {
    ASSERT_EQ(md("/a"), 0);
    ASSERT_EQ(md("/a/b"), 0);
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(md("/mnt/in"), 0);
    EXPECT_EQ(cwd_text(path("/a/b"), root), "/a/b");
    EXPECT_EQ(cwd_text(root, root), "/");
    EXPECT_EQ(cwd_text(path("/mnt/in"), root), "/mnt/in");
    EXPECT_EQ(cwd_text(path("/mnt"), root), "/mnt");
    Path jail = path("/a");
    EXPECT_EQ(cwd_text(path("/a/b"), jail), "/b");
    EXPECT_EQ(cwd_text(jail, jail), "/");
    EXPECT_EQ(cwd_text(path("/mnt/in"), jail), "(unreachable)/mnt/in");
    EXPECT_EQ(link_text(path("/mnt/in"), jail), "/mnt/in");  // links show the full path
    EXPECT_TRUE(path_is_under(path("/a/b"), jail));
    EXPECT_FALSE(path_is_under(path("/mnt/in"), jail));
    EXPECT_TRUE(path_is_under(path("/mnt/in"), root));
    auto f = openf("/a/b/doomed", O_CREAT | O_RDWR);
    ASSERT_EQ(rm("/a/b/doomed"), 0);
    EXPECT_EQ(link_text(f->path(), root), "/a/b/doomed (deleted)");
    char small[4];
    EXPECT_EQ(err(path_for_link(path("/a/b"), root, small, sizeof(small))), ENAMETOOLONG);
    char fits[5];
    EXPECT_TRUE(path_for_link(path("/a/b"), root, fits, sizeof(fits)).is_ok());
}

TEST_F(FsMount, RemountFlags) {
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(touch("/mnt/f"), 0);
    ASSERT_TRUE(fs::remount(path("/mnt"), MS_BIND | MS_RDONLY).is_ok());
    EXPECT_EQ(touch("/mnt/g"), EROFS);
    EXPECT_FALSE(path("/mnt").mnt->sb().read_only());
    EXPECT_EQ(err(fs::remount(path("/mnt/f"), MS_BIND)), EINVAL);
    ASSERT_TRUE(fs::remount(path("/mnt"), MS_BIND).is_ok());
    EXPECT_EQ(touch("/mnt/g"), 0);
    ASSERT_TRUE(fs::remount(path("/mnt"), MS_RDONLY).is_ok());
    EXPECT_TRUE(path("/mnt").mnt->sb().read_only());
    EXPECT_EQ(touch("/mnt/h"), EROFS);
}

TEST_F(FsMount, NamespaceTeardownFreesEverything) {
    // Run under ASan: dropping the namespace must free every mount,
    // superblock, dentry, inode and page (the leak checker would complain).
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    for (int i = 0; i < 20; ++i) {
        std::string d = "/mnt/d" + std::to_string(i);
        ASSERT_EQ(md(d.c_str()), 0);
        ASSERT_EQ(write_file((d + "/f").c_str(), std::string(10000, 'x')), 0);
    }
    std::string deep = "/mnt";
    for (int i = 0; i < 2000; ++i) {  // deep enough to overflow a recursive teardown
        deep += "/x";
        ASSERT_EQ(md(deep.c_str()), 0);
    }
    ASSERT_EQ(mount_tmpfs("/mnt/d3"), 0);
}

}  // namespace
