// mkdir, mknod, symlink, readlink, link, unlink, rmdir and O_TMPFILE: the
// errno of every rule, in Linux's order.
#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

class FsOps : public FsTest {
protected:
    void SetUp() override {
        FsTest::SetUp();
        ASSERT_EQ(md("/d"), 0);
        ASSERT_EQ(touch("/f"), 0);
    }
    int mknod_(const char* p, u32 mode, DevId dev = 0, const Cred* c = nullptr) {
        return err(fs::mknod(as(c ? *c : rootc, p), mode, dev));
    }
    int ln(const char* a, const char* b, u32 flags = 0) { return err(fs::link(at(a, flags), at(b))); }
};

TEST_F(FsOps, MkdirErrors) {
    EXPECT_EQ(md("/d"), EEXIST);
    EXPECT_EQ(md("/f"), EEXIST);
    EXPECT_EQ(md("/d/."), EEXIST);
    EXPECT_EQ(md("/d/.."), EEXIST);
    EXPECT_EQ(md("/"), EEXIST);
    EXPECT_EQ(md("/missing/x"), ENOENT);
    EXPECT_EQ(md("/f/x"), ENOTDIR);
    EXPECT_EQ(md("/d/new/"), 0);  // mkdir accepts a trailing slash
    EXPECT_EQ(md(""), ENOENT);
    std::string n256(256, 'n');
    EXPECT_EQ(md(("/d/" + n256).c_str()), ENAMETOOLONG);
}

TEST_F(FsOps, MkdirPermissionsAndAttributes) {
    ASSERT_EQ(md("/ro", 0555), 0);
    EXPECT_EQ(md_as(user, "/ro/x"), EACCES);
    EXPECT_EQ(md_as(user, "/ro"), EEXIST);  // existence is reported before permission
    EXPECT_EQ(md("/ro/x"), 0);              // root overrides
    u32 links = nlink_of("/d");
    ASSERT_EQ(md("/d/sub", 07777), 0);
    EXPECT_EQ(nlink_of("/d"), links + 1);
    auto s = st("/d/sub");
    EXPECT_EQ(s.stx_mode, u32(S_IFDIR | 01777));  // setuid/setgid bits are not taken from mkdir's mode
    EXPECT_EQ(s.stx_nlink, 2u);
    EXPECT_EQ(s.stx_size, 40u);  // tmpfs: 20 bytes per entry, "." and ".." included
    EXPECT_EQ(st("/d").stx_size, 40u + 20u);
}

TEST_F(FsOps, SetgidDirectoryInheritance) {
    ASSERT_EQ(md("/g", 0777), 0);
    ASSERT_EQ(fs::chown(path("/g"), 0, 50, rootc).is_ok(), true);
    ASSERT_EQ(fs::chmod(path("/g"), 02777, rootc).is_ok(), true);
    ASSERT_EQ(md_as(user, "/g/sub"), 0);
    auto s = st("/g/sub");
    EXPECT_EQ(s.stx_gid, 50u);
    EXPECT_TRUE(s.stx_mode & S_ISGID);  // directories inherit the bit
    EXPECT_EQ(s.stx_uid, 1000u);
    // A group-executable setgid file keeps the bit only if the creator is
    // in the directory's group.
    ASSERT_EQ(touch_as(user, "/g/exe", 02755), 0);
    EXPECT_EQ(st("/g/exe").stx_mode, u32(S_IFREG | 0755));
    EXPECT_EQ(st("/g/exe").stx_gid, 50u);
    u32 groups[] = {50};
    Cred member = user;
    member.groups = groups;
    member.ngroups = 1;
    ASSERT_EQ(touch_as(member, "/g/exe2", 02755), 0);
    EXPECT_EQ(st("/g/exe2").stx_mode, u32(S_IFREG | 02755));
}

TEST_F(FsOps, ReadOnlyMountReportsLast) {
    ASSERT_EQ(md("/mnt"), 0);
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(md("/mnt/d"), 0);
    ASSERT_EQ(touch("/mnt/f"), 0);
    ASSERT_TRUE(fs::remount(path("/mnt"), MS_RDONLY | MS_BIND).is_ok());
    EXPECT_EQ(md("/mnt/new"), EROFS);
    EXPECT_EQ(md("/mnt/d"), EEXIST);         // EEXIST before EROFS
    EXPECT_EQ(md("/mnt/no/x"), ENOENT);
    EXPECT_EQ(touch("/mnt/g"), EROFS);
    EXPECT_EQ(rm("/mnt/f"), EROFS);
    EXPECT_EQ(rm("/mnt/missing"), EROFS);    // unlink checks the mount before the name
    EXPECT_EQ(rd("/mnt/d"), EROFS);
    EXPECT_EQ(rd("/mnt/."), EINVAL);         // but not before the "." rules
    EXPECT_EQ(sym("x", "/mnt/l"), EROFS);
    EXPECT_EQ(mv("/mnt/f", "/mnt/g"), EROFS);
}

TEST_F(FsOps, MknodRules) {
    EXPECT_EQ(mknod_("/n1", S_IFDIR | 0755), EPERM);
    EXPECT_EQ(mknod_("/n1", 0170000 | 0644), EINVAL);
    EXPECT_EQ(mknod_("/n1", 0644), 0);  // type 0 is a regular file
    EXPECT_EQ(mode_of("/n1"), u32(S_IFREG | 0644));
    EXPECT_EQ(mknod_("/d/fifo", S_IFIFO | 0600, make_dev(1, 2), &user), EACCES);  // root's, 0755
    ASSERT_EQ(md("/pub", 0777), 0);
    EXPECT_EQ(mknod_("/pub/fifo", S_IFIFO | 0600, make_dev(1, 2), &user), 0);
    EXPECT_EQ(st("/pub/fifo").stx_rdev_major, 0u);  // FIFOs get no device number
    EXPECT_EQ(mknod_("/pub/sock", S_IFSOCK | 0600, 0, &user), 0);
    EXPECT_EQ(mknod_("/pub/chr", S_IFCHR | 0600, make_dev(1, 3), &user), EPERM);
    EXPECT_EQ(mknod_("/pub/blk", S_IFBLK | 0600, make_dev(8, 0), &user), EPERM);
    EXPECT_EQ(mknod_("/pub/wh", S_IFCHR | 0600, WHITEOUT_DEV, &user), 0);  // whiteouts are free
    EXPECT_EQ(mknod_("/null", S_IFCHR | 0666, make_dev(1, 3)), 0);
    auto s = st("/null");
    EXPECT_EQ(s.stx_mode, u32(S_IFCHR | 0666));
    EXPECT_EQ(s.stx_rdev_major, 1u);
    EXPECT_EQ(s.stx_rdev_minor, 3u);
    EXPECT_EQ(mknod_("/null", S_IFCHR | 0666, make_dev(1, 3)), EEXIST);
    EXPECT_EQ(mknod_("/x/", S_IFIFO | 0666), ENOENT);  // a trailing slash asks for a directory
    EXPECT_EQ(mknod_("/f/", S_IFIFO | 0666), EEXIST);
    EXPECT_EQ(encode_dev(make_dev(1, 3)), 0x103u);
    EXPECT_EQ(decode_dev(encode_dev(make_dev(259, 70000))), make_dev(259, 70000));
}

TEST_F(FsOps, SymlinkAndReadlink) {
    EXPECT_EQ(sym("", "/l"), ENOENT);
    EXPECT_EQ(sym(std::string(4096, 'x').c_str(), "/l"), ENAMETOOLONG);
    ASSERT_EQ(sym("target/path", "/l"), 0);
    EXPECT_EQ(sym("x", "/l"), EEXIST);
    EXPECT_EQ(sym("x", "/d"), EEXIST);
    EXPECT_EQ(sym("x", "/new/"), ENOENT);
    auto s = st("/l", 0);
    EXPECT_EQ(s.stx_mode, u32(S_IFLNK | 0777));
    EXPECT_EQ(s.stx_size, 11u);
    EXPECT_EQ(s.stx_blocks, 0u);
    char buf[64];
    auto n = fs::readlink(at("/l"), buf, sizeof(buf));
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(std::string(buf, n.value()), "target/path");
    auto n2 = fs::readlink(at("/l"), buf, 4);
    ASSERT_TRUE(n2.is_ok());
    EXPECT_EQ(std::string(buf, n2.value()), "targ");
    EXPECT_EQ(err(fs::readlink(at("/f"), buf, 64)), EINVAL);
    EXPECT_EQ(err(fs::readlink(at("/missing"), buf, 64)), ENOENT);
    // Long bodies take a block, as in Linux's tmpfs.
    ASSERT_EQ(sym(std::string(200, 'y').c_str(), "/long"), 0);
    EXPECT_EQ(st("/long", 0).stx_blocks, 8u);
    // readlinkat(fd, "") on an O_PATH|O_NOFOLLOW descriptor of the link.
    Path lp = path("/l", 0);
    auto n3 = fs::readlink(LookupRequest{rootc, root, lp, "", LOOKUP_EMPTY}, buf, sizeof(buf));
    ASSERT_TRUE(n3.is_ok());
    EXPECT_EQ(n3.value(), 11u);
}

TEST_F(FsOps, HardLinks) {
    ASSERT_EQ(write_file("/f", "data"), 0);
    EXPECT_EQ(ln("/f", "/f2"), 0);
    EXPECT_EQ(nlink_of("/f"), 2u);
    EXPECT_EQ(st("/f2").stx_ino, st("/f").stx_ino);
    EXPECT_EQ(read_file("/f2"), "data");
    EXPECT_EQ(ln("/f", "/f2"), EEXIST);
    EXPECT_EQ(ln("/d", "/d2"), EPERM);
    EXPECT_EQ(ln("/missing", "/x"), ENOENT);
    EXPECT_EQ(ln("/f", "/missing/x"), ENOENT);
    EXPECT_EQ(ln("/f", "/d/."), EEXIST);
    ASSERT_EQ(rm("/f"), 0);
    EXPECT_EQ(nlink_of("/f2"), 1u);
    EXPECT_EQ(read_file("/f2"), "data");
    // Without AT_SYMLINK_FOLLOW the link itself is linked.
    ASSERT_EQ(sym("f2", "/sl"), 0);
    EXPECT_EQ(ln("/sl", "/sl2"), 0);
    EXPECT_EQ(mode_of("/sl2", 0) & S_IFMT, u32(S_IFLNK));
    EXPECT_EQ(ln("/sl", "/f3", LOOKUP_FOLLOW), 0);
    EXPECT_EQ(st("/f3").stx_ino, st("/f2").stx_ino);
    EXPECT_EQ(nlink_of("/f2"), 2u);
    // Across mounts, even of the same file system: EXDEV.
    ASSERT_EQ(md("/mnt"), 0);
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    EXPECT_EQ(ln("/f2", "/mnt/x"), EXDEV);
    // Permission to create in the target directory is needed.
    ASSERT_EQ(md("/ro", 0555), 0);
    EXPECT_EQ(err(fs::link(as(user, "/f2"), as(user, "/ro/x"))), EACCES);
}

TEST_F(FsOps, LinkOfUnlinkedFileAndEmlink) {
    auto f = openf("/f", O_RDWR);
    ASSERT_TRUE(f);
    ASSERT_EQ(rm("/f"), 0);
    LookupRequest from{rootc, root, f->path(), "", LOOKUP_EMPTY};
    EXPECT_EQ(err(fs::link(from, at("/back"))), ENOENT);  // gone for good
    root.mnt->sb().set_max_links(3);
    ASSERT_EQ(touch("/g"), 0);
    EXPECT_EQ(ln("/g", "/g2"), 0);
    EXPECT_EQ(ln("/g", "/g3"), 0);
    EXPECT_EQ(ln("/g", "/g4"), EMLINK);
    ASSERT_EQ(md("/d/s1"), 0);  // /d has 3 links now
    EXPECT_EQ(md("/d/s2"), EMLINK);
    root.mnt->sb().set_max_links(0);
}

TEST_F(FsOps, UnlinkErrors) {
    EXPECT_EQ(rm("/d"), EISDIR);
    EXPECT_EQ(rm("/d/"), EISDIR);
    EXPECT_EQ(rm("/f/"), ENOTDIR);
    EXPECT_EQ(rm("/missing"), ENOENT);
    EXPECT_EQ(rm("/missing/"), ENOENT);
    EXPECT_EQ(rm("/d/."), EISDIR);
    EXPECT_EQ(rm("/d/.."), EISDIR);
    EXPECT_EQ(rm("/"), EISDIR);
    EXPECT_EQ(rm("/f/x"), ENOTDIR);
    ASSERT_EQ(sym("d", "/ld"), 0);
    EXPECT_EQ(rm("/ld/"), ENOTDIR);  // the link itself is looked at: not a directory
    EXPECT_EQ(rm("/ld"), 0);        // the link itself
    EXPECT_EQ(look("/d"), 0);
    EXPECT_EQ(rm("/f"), 0);
    EXPECT_EQ(look("/f"), ENOENT);
    EXPECT_EQ(st("/").stx_size, 40u + 20u);  // only /d is left
}

TEST_F(FsOps, UnlinkedFileStaysOpen) {
    ASSERT_EQ(write_file("/f", "hello"), 0);
    auto f = openf("/f", O_RDWR);
    ASSERT_TRUE(f);
    ASSERT_EQ(rm("/f"), 0);
    struct statx s {};
    ASSERT_TRUE(getattr(f->path(), STATX_BASIC_STATS, s).is_ok());
    EXPECT_EQ(s.stx_nlink, 0u);
    char buf[8];
    KernelDataBuffer b(buf, sizeof(buf));
    auto n = fs::pread(*f, b, 0);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(std::string(buf, n.value()), "hello");
    EXPECT_EQ(link_text(f->path(), root), "/f (deleted)");
    EXPECT_EQ(touch("/f"), 0);  // the name is free again
    EXPECT_NE(st("/f").stx_ino, s.stx_ino);
}

TEST_F(FsOps, StickyDirectory) {
    ASSERT_EQ(md("/tmp", 01777), 0);
    Cred other = Cred::user(2000, 2000);
    ASSERT_EQ(touch_as(user, "/tmp/mine"), 0);
    ASSERT_EQ(touch_as(other, "/tmp/theirs"), 0);
    EXPECT_EQ(err(fs::unlink(as(user, "/tmp/theirs"))), EPERM);
    EXPECT_EQ(err(fs::rename(as(user, "/tmp/theirs"), as(user, "/tmp/x"), 0)), EPERM);
    EXPECT_EQ(err(fs::unlink(as(user, "/tmp/mine"))), 0);
    Cred fowner = user;
    fowner.caps = 1ull << CAP_FOWNER;
    EXPECT_EQ(err(fs::unlink(as(fowner, "/tmp/theirs"))), 0);
    // The directory's owner may remove anything in it.
    ASSERT_EQ(md_as(user, "/tmp/ud", 01777), 0);
    ASSERT_EQ(touch_as(other, "/tmp/ud/t"), 0);
    EXPECT_EQ(err(fs::unlink(as(user, "/tmp/ud/t"))), 0);
}

TEST_F(FsOps, RmdirErrors) {
    ASSERT_EQ(md("/d/e"), 0);
    EXPECT_EQ(rd("/f"), ENOTDIR);
    EXPECT_EQ(rd("/missing"), ENOENT);
    EXPECT_EQ(rd("/d"), ENOTEMPTY);
    EXPECT_EQ(rd("/d/e/."), EINVAL);
    EXPECT_EQ(rd("/d/e/.."), ENOTEMPTY);
    EXPECT_EQ(rd(".."), ENOTEMPTY);
    EXPECT_EQ(rd("/"), EBUSY);
    EXPECT_EQ(rd("/f/"), ENOTDIR);
    ASSERT_EQ(sym("d", "/ld"), 0);
    EXPECT_EQ(rd("/ld"), ENOTDIR);
    u32 links = nlink_of("/d");
    EXPECT_EQ(rd("/d/e/"), 0);
    EXPECT_EQ(nlink_of("/d"), links - 1);
    EXPECT_EQ(rd("/d"), 0);
    ASSERT_EQ(md("/mnt"), 0);
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    EXPECT_EQ(rd("/mnt"), EBUSY);
    ASSERT_EQ(md("/p", 0555), 0);
    ASSERT_EQ(md("/p/c"), 0);
    EXPECT_EQ(err(fs::rmdir(as(user, "/p/c"))), EACCES);
}

TEST_F(FsOps, RemovedWorkingDirectory) {
    ASSERT_EQ(md("/d/w"), 0);
    cwd = path("/d/w");
    EXPECT_EQ(rd("/d/w"), 0);
    EXPECT_EQ(look("."), 0);
    EXPECT_EQ(look("x"), ENOENT);
    EXPECT_EQ(touch("x"), ENOENT);
    EXPECT_EQ(md("x"), ENOENT);
    std::string n256(256, 'n');
    EXPECT_EQ(md(n256.c_str()), ENOENT);  // a removed directory answers before the name's length
    EXPECT_EQ(look(n256.c_str()), ENOENT);
    EXPECT_EQ(nlink_of("."), 0u);
    EXPECT_EQ(st("..").stx_ino, st("/d").stx_ino);  // ".." still leads out
    EXPECT_EQ(cwd_text(cwd, root), "<errno 2>");   // getcwd: ENOENT
    auto f = fs::open(at("."), O_RDONLY | O_DIRECTORY, 0);
    ASSERT_TRUE(f.is_ok());
    Collect c;
    EXPECT_EQ(err(iterate_dir(*f.value(), c)), ENOENT);
}

TEST_F(FsOps, TmpfileThenLink) {
    auto f = openf("/d", O_TMPFILE | O_RDWR, 0600);
    ASSERT_TRUE(f);
    struct statx s {};
    ASSERT_TRUE(getattr(f->path(), STATX_BASIC_STATS, s).is_ok());
    EXPECT_EQ(s.stx_nlink, 0u);
    EXPECT_EQ(s.stx_mode, u32(S_IFREG | 0600));
    EXPECT_EQ(ls("/d").size(), 2u);  // nothing visible
    std::string shown = link_text(f->path(), root);
    EXPECT_EQ(shown, "/d/#" + std::to_string(s.stx_ino) + " (deleted)");
    KernelDataBuffer b("payload", 7);
    ASSERT_TRUE(fs::write(*f, b, rootc).is_ok());
    LookupRequest from{rootc, root, f->path(), "", LOOKUP_EMPTY};
    ASSERT_EQ(err(fs::link(from, at("/d/named"))), 0);
    EXPECT_EQ(read_file("/d/named"), "payload");
    EXPECT_EQ(nlink_of("/d/named"), 1u);
    EXPECT_EQ(st("/d/named").stx_ino, s.stx_ino);
    // Linked once, it is an ordinary file: a second link from the fd works
    // while the name exists.
    EXPECT_EQ(err(fs::link(from, at("/d/again"))), 0);
    EXPECT_EQ(nlink_of("/d/named"), 2u);

    auto x = openf("/d", O_TMPFILE | O_RDWR | O_EXCL, 0600);
    ASSERT_TRUE(x);
    LookupRequest xf{rootc, root, x->path(), "", LOOKUP_EMPTY};
    EXPECT_EQ(err(fs::link(xf, at("/d/never"))), ENOENT);  // O_EXCL: never linkable

    EXPECT_EQ(open_err("/d", O_TMPFILE | O_RDONLY), EINVAL);
    EXPECT_EQ(open_err("/d", O_TMPFILE | O_RDWR | O_CREAT), EINVAL);
    EXPECT_EQ(open_err("/f", O_TMPFILE | O_RDWR), ENOTDIR);
    ASSERT_EQ(md("/ro", 0555), 0);
    EXPECT_EQ(open_err("/ro", O_TMPFILE | O_RDWR, 0600, &user), EACCES);
}

}  // namespace
