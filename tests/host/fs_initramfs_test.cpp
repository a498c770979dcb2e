// Unpacking cpio newc archives the way Linux's initramfs code does.
#include <cstdio>

#include "fs/core/initramfs.h"
#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

struct Cpio {
    std::string out;
    struct Entry {
        std::string name;
        u32 mode;
        std::string data = "";
        u32 uid = 0, gid = 0, nlink = 1, mtime = 0, ino = 0;
        u32 rdev_major = 0, rdev_minor = 0, dev_major = 0, dev_minor = 0;
    };
    void pad() {
        while (out.size() % 4) out.push_back('\0');
    }
    Cpio& add(const Entry& e, const char* magic = "070701") {
        char h[111];
        snprintf(h, sizeof(h), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic, e.ino, e.mode, e.uid,
                 e.gid, e.nlink, e.mtime, unsigned(e.data.size()), e.dev_major, e.dev_minor, e.rdev_major,
                 e.rdev_minor, unsigned(e.name.size() + 1), 0u);
        out.append(h, 110);
        out.append(e.name);
        out.push_back('\0');
        pad();
        out.append(e.data);
        pad();
        return *this;
    }
    Cpio& trailer() { return add({"TRAILER!!!", 0}); }
};

class FsInitramfs : public FsTest {
protected:
    InitramfsReport report;
    int unpack(const std::string& a, const InitramfsOptions& o = {}) {
        return err(unpack_initramfs(reinterpret_cast<const u8*>(a.data()), a.size(), root, report, o));
    }
};

TEST_F(FsInitramfs, UnpacksEveryKind) {
    Cpio c;
    c.add({".", S_IFDIR | 0700, "", 0, 0, 2, 77});
    c.add({"bin", S_IFDIR | 0755, "", 0, 0, 2, 100});
    c.add({"bin/busybox", S_IFREG | 04755, "ELF-ish", 0, 0, 1, 200, 5});
    c.add({"bin/sh", S_IFLNK | 0777, "busybox", 0, 0, 1, 300});
    c.add({"dev", S_IFDIR | 0755, "", 0, 0, 2, 100});
    c.add({"dev/console", S_IFCHR | 0600, "", 0, 5, 1, 400, 0, 5, 1});
    c.add({"dev/sda", S_IFBLK | 0660, "", 0, 6, 1, 400, 0, 8, 0});
    c.add({"dev/initctl", S_IFIFO | 0600, "", 0, 0, 1, 400});
    c.add({"dev/log", S_IFSOCK | 0666, "", 0, 0, 1, 400});
    c.add({"home", S_IFDIR | 0755});
    c.add({"home/u", S_IFDIR | 0700, "", 1000, 1000, 2, 500});
    c.add({"home/u/.profile", S_IFREG | 0644, "export X=1\n", 1000, 1000, 1, 600, 9});
    c.trailer();
    ASSERT_EQ(unpack(c.out), 0) << (report.error ? report.error : "");
    EXPECT_EQ(report.entries, 12u);
    EXPECT_EQ(report.skipped, 0u);
    EXPECT_EQ(mode_of("/"), u32(S_IFDIR | 0700));  // "." applies to the root
    EXPECT_EQ(st("/").stx_mtime.tv_sec, 77);
    auto b = st("/bin/busybox");  // before reading it moves atime
    EXPECT_EQ(b.stx_mode, u32(S_IFREG | 04755));
    EXPECT_EQ(b.stx_mtime.tv_sec, 200);
    EXPECT_EQ(b.stx_atime.tv_sec, 200);
    EXPECT_EQ(st("/bin").stx_mtime.tv_sec, 100);  // set after its entries were created
    EXPECT_EQ(read_file("/bin/busybox"), "ELF-ish");
    char buf[32];
    auto n = fs::readlink(at("/bin/sh"), buf, sizeof(buf));
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(std::string(buf, n.value()), "busybox");
    EXPECT_EQ(st("/bin/sh", 0).stx_mtime.tv_sec, 300);
    auto con = st("/dev/console", 0);
    EXPECT_EQ(con.stx_mode, u32(S_IFCHR | 0600));
    EXPECT_EQ(con.stx_rdev_major, 5u);
    EXPECT_EQ(con.stx_rdev_minor, 1u);
    EXPECT_EQ(con.stx_gid, 5u);
    EXPECT_EQ(st("/dev/sda", 0).stx_rdev_major, 8u);
    EXPECT_EQ(mode_of("/dev/initctl", 0), u32(S_IFIFO | 0600));
    EXPECT_EQ(mode_of("/dev/log", 0), u32(S_IFSOCK | 0666));
    auto p = st("/home/u/.profile");
    EXPECT_EQ(p.stx_uid, 1000u);
    EXPECT_EQ(p.stx_gid, 1000u);
    EXPECT_EQ(read_file("/home/u/.profile"), "export X=1\n");
    EXPECT_EQ(st("/home/u").stx_uid, 1000u);
}

TEST_F(FsInitramfs, HardLinks) {
    Cpio c;
    c.add({"a", S_IFREG | 0644, "shared", 0, 0, 3, 0, 42, 0, 0, 0, 1});
    c.add({"b", S_IFREG | 0644, "", 0, 0, 3, 0, 42, 0, 0, 0, 1});
    c.add({"c", S_IFREG | 0644, "", 0, 0, 3, 0, 42, 0, 0, 0, 2});  // another device: a new file
    c.add({"d", S_IFREG | 0644, "", 0, 0, 3, 0, 42, 0, 0, 0, 1});
    c.add({"n1", S_IFCHR | 0644, "", 0, 0, 2, 0, 43, 1, 3});
    c.add({"n2", S_IFCHR | 0644, "", 0, 0, 2, 0, 43, 1, 3});
    c.trailer();
    // The table ends with the trailer: the same numbers in the next
    // archive name new files.
    c.add({"e", S_IFREG | 0644, "fresh", 0, 0, 2, 0, 42, 0, 0, 0, 1});
    c.trailer();
    ASSERT_EQ(unpack(c.out), 0) << (report.error ? report.error : "");
    EXPECT_EQ(st("/b").stx_ino, st("/a").stx_ino);
    EXPECT_EQ(st("/d").stx_ino, st("/a").stx_ino);
    EXPECT_EQ(nlink_of("/a"), 3u);
    EXPECT_EQ(read_file("/d"), "shared");
    EXPECT_NE(st("/c").stx_ino, st("/a").stx_ino);
    EXPECT_EQ(st("/n2", 0).stx_ino, st("/n1", 0).stx_ino);
    EXPECT_NE(st("/e").stx_ino, st("/a").stx_ino);
    EXPECT_EQ(read_file("/e"), "fresh");
}

TEST_F(FsInitramfs, ReplacesExistingObjects) {
    ASSERT_EQ(md("/etc"), 0);
    ASSERT_EQ(write_file("/etc/passwd", "a much longer old content"), 0);
    ASSERT_EQ(md("/wasdir"), 0);
    ASSERT_EQ(md("/fulldir"), 0);
    ASSERT_EQ(touch("/fulldir/x"), 0);
    ASSERT_EQ(touch("/wasfile"), 0);
    ASSERT_EQ(touch("/tolink"), 0);
    ASSERT_EQ(md("/keepdir"), 0);
    ASSERT_EQ(touch("/keepdir/inside"), 0);
    Cpio c;
    c.add({"etc/passwd", S_IFREG | 0600, "root:x:0:0\n"});
    c.add({"wasdir", S_IFREG | 0644, "now a file"});
    c.add({"fulldir", S_IFREG | 0644, "cannot replace"});
    c.add({"wasfile", S_IFDIR | 0750});
    c.add({"tolink", S_IFLNK | 0777, "etc/passwd"});
    c.add({"keepdir", S_IFDIR | 0700, "", 0, 0, 2, 5});
    c.trailer();
    ASSERT_EQ(unpack(c.out), 0);
    EXPECT_EQ(read_file("/etc/passwd"), "root:x:0:0\n");
    EXPECT_EQ(mode_of("/etc/passwd"), u32(S_IFREG | 0600));
    EXPECT_EQ(read_file("/wasdir"), "now a file");
    EXPECT_EQ(mode_of("/fulldir"), u32(S_IFDIR | 0755));  // rmdir failed: skipped, as Linux
    EXPECT_EQ(report.skipped, 1u);
    EXPECT_EQ(mode_of("/wasfile"), u32(S_IFDIR | 0750));
    EXPECT_EQ(mode_of("/tolink", 0) & S_IFMT, u32(S_IFLNK));
    EXPECT_EQ(look("/keepdir/inside"), 0);  // directories are kept, their mode updated
    EXPECT_EQ(mode_of("/keepdir"), u32(S_IFDIR | 0700));
}

TEST_F(FsInitramfs, MissingParents) {
    Cpio c;
    c.add({"a/b/c/file", S_IFREG | 0644, "deep"});
    c.add({"x/y", S_IFDIR | 0755});
    c.trailer();
    ASSERT_EQ(unpack(c.out), 0);
    EXPECT_EQ(look("/a"), ENOENT);  // Linux skips such entries
    EXPECT_EQ(report.skipped, 1u);  // the mkdir failure is ignored silently too
    InitramfsOptions o;
    o.create_parents = true;
    ASSERT_EQ(unpack(c.out, o), 0);
    EXPECT_EQ(read_file("/a/b/c/file"), "deep");
    EXPECT_EQ(mode_of("/a/b"), u32(S_IFDIR | 0755));
    EXPECT_EQ(look("/x/y"), 0);
}

TEST_F(FsInitramfs, ConcatenatedWithPadding) {
    Cpio a;
    a.add({"one", S_IFREG | 0644, "1"}).trailer();
    Cpio b;
    b.add({"two", S_IFREG | 0644, "22"}).trailer();
    std::string all = a.out + std::string(512, '\0') + b.out + std::string(3, '\0');
    ASSERT_EQ(unpack(all), 0) << (report.error ? report.error : "");
    EXPECT_EQ(read_file("/one"), "1");
    EXPECT_EQ(read_file("/two"), "22");
    // No trailer at all is accepted too.
    Cpio c;
    c.add({"three", S_IFREG | 0644, "3"});
    ASSERT_EQ(unpack(c.out), 0);
    EXPECT_EQ(read_file("/three"), "3");
}

TEST_F(FsInitramfs, BadArchives) {
    EXPECT_EQ(unpack("\x1f\x8b\x08garbage"), EINVAL);
    EXPECT_STREQ(report.error, "compressed initramfs is not supported");
    Cpio old;
    old.add({"x", S_IFREG | 0644, "x"}, "070707");
    EXPECT_EQ(unpack(old.out), EINVAL);
    EXPECT_STREQ(report.error, "incorrect cpio method used: use -H newc option");
    Cpio good;
    good.add({"ok", S_IFREG | 0644, "fine"});
    std::string bad_second = good.out + "0799999";
    bad_second.resize(good.out.size() + 120, 'Z');
    EXPECT_EQ(unpack(bad_second), EINVAL);
    EXPECT_STREQ(report.error, "no cpio magic");
    EXPECT_EQ(read_file("/ok"), "fine");  // what came before stays
    Cpio hex;
    hex.add({"y", S_IFREG | 0644, "y"});
    hex.out[20] = 'G';  // not a hex digit
    EXPECT_EQ(unpack(hex.out), EINVAL);
    EXPECT_STREQ(report.error, "malformed archive");
    Cpio trunc;
    trunc.add({"z", S_IFREG | 0644, std::string(100, 'z')});
    EXPECT_EQ(unpack(trunc.out.substr(0, trunc.out.size() - 50)), EINVAL);
    EXPECT_STREQ(report.error, "truncated archive");
    std::string misaligned = std::string(1, '\0') + good.out;
    EXPECT_EQ(unpack(misaligned), EINVAL);
    EXPECT_STREQ(report.error, "broken padding");
}

TEST_F(FsInitramfs, HostileNames) {
    Cpio c;
    c.add({"../../escape", S_IFREG | 0644, "e"});  // ".." stops at the root
    c.add({"/abs", S_IFREG | 0644, "a"});
    c.add({"emb\0edded", S_IFREG | 0644, "n"});    // a C string ends at NUL
    c.add({"lnk", S_IFLNK | 0777, std::string("t\0rest", 6)});
    c.trailer();
    ASSERT_EQ(unpack(c.out), 0);
    EXPECT_EQ(read_file("/escape"), "e");
    EXPECT_EQ(read_file("/abs"), "a");
    EXPECT_EQ(read_file("/emb"), "n");
    char buf[16];
    EXPECT_EQ(fs::readlink(at("/lnk"), buf, sizeof(buf)).value(), 1u);
}

}  // namespace
