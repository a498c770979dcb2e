// statx fields, chmod/chown/utimensat/truncate rules, permission checks
// as root and as an ordinary user, statfs.
#include <linux/magic.h>

#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

class FsAttr : public FsTest {
protected:
    void SetUp() override {
        FsTest::SetUp();
        ASSERT_EQ(md("/d"), 0);
        ASSERT_EQ(write_file("/f", "hello"), 0);
    }
    int chmod_(const char* p, u32 mode, const Cred& c, u32 flags = LOOKUP_FOLLOW) {
        return err(fs::chmod(path(p, flags), mode, c));
    }
    int chown_(const char* p, u32 uid, u32 gid, const Cred& c) { return err(fs::chown(path(p), uid, gid, c)); }
    int perm(const char* p, const Cred& c, int mask) { return err(inode_permission(*path(p).inode(), c, mask)); }
};

TEST_F(FsAttr, StatxFields) {
    g_now = {5000, 123};
    ASSERT_EQ(write_file("/g", "12345"), 0);
    auto s = st("/g");
    EXPECT_EQ(s.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
    EXPECT_TRUE(s.stx_mask & STATX_BTIME);
    EXPECT_TRUE(s.stx_mask & STATX_MNT_ID);
    EXPECT_EQ(s.stx_mode, u32(S_IFREG | 0644));
    EXPECT_EQ(s.stx_nlink, 1u);
    EXPECT_EQ(s.stx_uid, 0u);
    EXPECT_EQ(s.stx_size, 5u);
    EXPECT_EQ(s.stx_blocks, 8u);
    EXPECT_EQ(s.stx_blksize, 4096u);
    EXPECT_EQ(s.stx_mtime.tv_sec, 5000);
    EXPECT_EQ(s.stx_mtime.tv_nsec, 123u);
    EXPECT_EQ(s.stx_btime.tv_sec, 5000);
    EXPECT_EQ(s.stx_dev_major, 0u);  // anonymous device
    EXPECT_NE(s.stx_dev_minor, 0u);
    EXPECT_EQ(s.stx_mnt_id, u64(root.mnt->id()));
    EXPECT_TRUE(s.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT);
    EXPECT_FALSE(s.stx_attributes & STATX_ATTR_MOUNT_ROOT);
    EXPECT_TRUE(st("/").stx_attributes & STATX_ATTR_MOUNT_ROOT);
    // btime only when asked for; STATX_MNT_ID_UNIQUE (0x4000) swaps the id.
    auto t = st("/g", LOOKUP_FOLLOW, STATX_BASIC_STATS | 0x4000);
    EXPECT_FALSE(t.stx_mask & STATX_BTIME);
    EXPECT_TRUE(t.stx_mask & 0x4000);
    EXPECT_EQ(t.stx_mnt_id, root.mnt->unique_id());
    EXPECT_GT(t.stx_mnt_id, 1ull << 31);
    // A directory: 2 links plus one per subdirectory.
    ASSERT_EQ(md("/d/x"), 0);
    auto d = st("/d");
    EXPECT_EQ(d.stx_nlink, 3u);
    EXPECT_EQ(d.stx_blocks, 0u);
    EXPECT_EQ(d.stx_mtime.tv_sec, 5000);
}

TEST_F(FsAttr, TimestampsOnNamespaceChanges) {
    g_now = {2000, 0};
    ASSERT_EQ(touch("/d/a"), 0);
    EXPECT_EQ(st("/d").stx_mtime.tv_sec, 2000);
    EXPECT_EQ(st("/d").stx_ctime.tv_sec, 2000);
    g_now = {3000, 0};
    ASSERT_EQ(err(fs::link(at("/d/a"), at("/d/b"))), 0);
    EXPECT_EQ(st("/d/a").stx_ctime.tv_sec, 3000);
    EXPECT_EQ(st("/d/a").stx_mtime.tv_sec, 2000);
    g_now = {4000, 0};
    ASSERT_EQ(mv("/d/b", "/c"), 0);
    EXPECT_EQ(st("/d").stx_mtime.tv_sec, 4000);
    EXPECT_EQ(st("/").stx_mtime.tv_sec, 4000);
    EXPECT_EQ(st("/c").stx_ctime.tv_sec, 4000);
    g_now = {4500, 0};
    ASSERT_EQ(rm("/c"), 0);
    EXPECT_EQ(st("/d/a").stx_ctime.tv_sec, 4500);
}

TEST_F(FsAttr, Chmod) {
    ASSERT_EQ(chown_("/f", 1000, 1000, rootc), 0);
    g_now = {7000, 0};
    EXPECT_EQ(chmod_("/f", 0600, user), 0);
    auto s = st("/f");
    EXPECT_EQ(s.stx_mode, u32(S_IFREG | 0600));
    EXPECT_EQ(s.stx_ctime.tv_sec, 7000);
    EXPECT_EQ(chmod_("/d", 0700, user), EPERM);  // not the owner
    EXPECT_EQ(chmod_("/d", 0700, rootc), 0);
    Cred fowner = user;
    fowner.caps = 1ull << CAP_FOWNER;
    EXPECT_EQ(chmod_("/d", 0755, fowner), 0);
    // Setting set-group-ID needs membership of the file's group.
    ASSERT_EQ(chown_("/f", 1000, 50, rootc), 0);
    EXPECT_EQ(chmod_("/f", 02755, user), 0);
    EXPECT_EQ(mode_of("/f"), u32(S_IFREG | 0755));
    EXPECT_EQ(chmod_("/f", 04755, user), 0);
    EXPECT_EQ(mode_of("/f"), u32(S_IFREG | 04755));
    EXPECT_EQ(chmod_("/f", 02755, rootc), 0);
    EXPECT_EQ(mode_of("/f"), u32(S_IFREG | 02755));
    // The mode of a symlink cannot change.
    ASSERT_EQ(sym("f", "/l"), 0);
    EXPECT_EQ(chmod_("/l", 0600, rootc, 0), EOPNOTSUPP);
    EXPECT_EQ(chmod_("/l", 0600, rootc), 0);  // follows to /f
}

TEST_F(FsAttr, Chown) {
    EXPECT_EQ(chown_("/f", 1000, -1, user), EPERM);
    ASSERT_EQ(chown_("/f", 1000, 1000, rootc), 0);
    EXPECT_EQ(chown_("/f", 2000, -1, user), EPERM);  // giving it away
    EXPECT_EQ(chown_("/f", 1000, -1, user), 0);      // to oneself is fine
    EXPECT_EQ(chown_("/f", -1, 50, user), EPERM);    // not a member of 50
    u32 groups[] = {50};
    Cred member = user;
    member.groups = groups;
    member.ngroups = 1;
    EXPECT_EQ(chown_("/f", -1, 50, member), 0);
    EXPECT_EQ(st("/f").stx_gid, 50u);
    Cred chowner = user;
    chowner.caps = 1ull << CAP_CHOWN;
    EXPECT_EQ(chown_("/d", 1000, 1000, chowner), 0);
    // Changing the owner drops set-user-ID, and set-group-ID when group
    // executable; directories keep both.
    ASSERT_EQ(chmod_("/f", 06755, rootc), 0);
    EXPECT_EQ(chown_("/f", 1000, 50, rootc), 0);
    EXPECT_EQ(mode_of("/f"), u32(S_IFREG | 0755));
    ASSERT_EQ(chmod_("/f", 06745, rootc), 0);  // no group execute
    EXPECT_EQ(chown_("/f", -1, -1, rootc), 0);
    EXPECT_EQ(mode_of("/f"), u32(S_IFREG | 02745));  // a mandatory-lock mark, kept for root
    ASSERT_EQ(chmod_("/d", 06755, rootc), 0);
    EXPECT_EQ(chown_("/d", 0, 0, rootc), 0);
    EXPECT_EQ(mode_of("/d"), u32(S_IFDIR | 06755));
}

TEST_F(FsAttr, Utimes) {
    ASSERT_EQ(md("/pub", 0777), 0);
    ASSERT_EQ(touch("/pub/w"), 0);
    ASSERT_EQ(chmod_("/pub/w", 0666, rootc), 0);
    g_now = {9000, 9};
    fs::Timespec t[2] = {{100, 1}, {200, 2}};
    EXPECT_EQ(err(fs::utimes(path("/pub/w"), t, user)), EPERM);  // explicit times: owner only
    EXPECT_EQ(err(fs::utimes(path("/pub/w"), nullptr, user)), 0);  // "now": write permission is enough
    EXPECT_EQ(st("/pub/w").stx_mtime.tv_sec, 9000);
    EXPECT_EQ(err(fs::utimes(path("/f"), nullptr, user)), EACCES);
    fs::Timespec now2[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    EXPECT_EQ(err(fs::utimes(path("/pub/w"), now2, user)), 0);
    fs::Timespec mixed[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    EXPECT_EQ(err(fs::utimes(path("/pub/w"), mixed, user)), EPERM);
    EXPECT_EQ(err(fs::utimes(path("/f"), t, rootc)), 0);
    auto s = st("/f");
    EXPECT_EQ(s.stx_atime.tv_sec, 100);
    EXPECT_EQ(s.stx_atime.tv_nsec, 1u);
    EXPECT_EQ(s.stx_mtime.tv_sec, 200);
    EXPECT_EQ(s.stx_ctime.tv_sec, 9000);
    fs::Timespec omit[2] = {{5, UTIME_OMIT}, {300, 0}};
    EXPECT_EQ(err(fs::utimes(path("/f"), omit, rootc)), 0);
    EXPECT_EQ(st("/f").stx_atime.tv_sec, 100);
    EXPECT_EQ(st("/f").stx_mtime.tv_sec, 300);
    fs::Timespec bad[2] = {{0, 1000000000}, {0, 0}};
    EXPECT_EQ(err(fs::utimes(path("/f"), bad, rootc)), EINVAL);
    fs::Timespec both_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    g_now = {9500, 0};
    EXPECT_EQ(err(fs::utimes(path("/f"), both_omit, user)), 0);  // nothing to do, nothing checked
    EXPECT_EQ(st("/f").stx_ctime.tv_sec, 9000);
}

TEST_F(FsAttr, Truncate) {
    EXPECT_EQ(err(fs::truncate(path("/d"), 0, rootc)), EISDIR);
    ASSERT_EQ(err(fs::mknod(at("/fifo"), S_IFIFO | 0666, 0)), 0);
    EXPECT_EQ(err(fs::truncate(path("/fifo"), 0, rootc)), EINVAL);
    EXPECT_EQ(err(fs::truncate(path("/f"), -1, rootc)), EINVAL);
    EXPECT_EQ(err(fs::truncate(path("/f"), 0, user)), EACCES);
    EXPECT_EQ(err(fs::truncate(path("/f"), i64(MAX_LFS_FILESIZE), rootc)), 0);  // tmpfs is sparse
    EXPECT_EQ(st("/f").stx_size, MAX_LFS_FILESIZE);
    g_now = {6000, 0};
    ASSERT_EQ(err(fs::truncate(path("/f"), 3, rootc)), 0);
    EXPECT_EQ(read_file("/f"), "hel");
    EXPECT_EQ(st("/f").stx_mtime.tv_sec, 6000);
    g_now = {6100, 0};
    ASSERT_EQ(err(fs::truncate(path("/f"), 3, rootc)), 0);  // same size: no time change
    EXPECT_EQ(st("/f").stx_mtime.tv_sec, 6000);
    EXPECT_EQ(st("/f").stx_ctime.tv_sec, 6000);
    // Truncation by someone without CAP_FSETID drops set-user-ID.
    ASSERT_EQ(chmod_("/f", 04777, rootc), 0);
    EXPECT_EQ(err(fs::truncate(path("/f"), 1, user)), 0);
    EXPECT_EQ(mode_of("/f"), u32(S_IFREG | 0777));
    ASSERT_EQ(chmod_("/f", 04777, rootc), 0);
    EXPECT_EQ(err(fs::truncate(path("/f"), 2, rootc)), 0);
    EXPECT_EQ(mode_of("/f"), u32(S_IFREG | 04777));
}

TEST_F(FsAttr, PermissionRules) {
    ASSERT_EQ(chmod_("/f", 0644, rootc), 0);
    EXPECT_EQ(perm("/f", rootc, MAY_READ | MAY_WRITE), 0);
    EXPECT_EQ(perm("/f", rootc, MAY_EXEC), EACCES);  // root needs some x bit
    ASSERT_EQ(chmod_("/f", 0001, rootc), 0);
    EXPECT_EQ(perm("/f", rootc, MAY_EXEC), 0);
    EXPECT_EQ(perm("/d", rootc, MAY_EXEC | MAY_WRITE), 0);
    // Owner bits decide for the owner, even when group/other allow more.
    ASSERT_EQ(chown_("/f", 1000, 1000, rootc), 0);
    ASSERT_EQ(chmod_("/f", 0077, rootc), 0);
    EXPECT_EQ(perm("/f", user, MAY_READ), EACCES);
    Cred grp = Cred::user(2000, 1000);
    EXPECT_EQ(perm("/f", grp, MAY_READ | MAY_WRITE | MAY_EXEC), 0);
    ASSERT_EQ(chmod_("/f", 0604, rootc), 0);
    EXPECT_EQ(perm("/f", grp, MAY_READ), EACCES);  // group class, no read bit
    Cred other = Cred::user(3000, 3000);
    EXPECT_EQ(perm("/f", other, MAY_READ), 0);
    EXPECT_EQ(perm("/f", other, MAY_WRITE), EACCES);
    Cred rs = other;
    rs.caps = 1ull << CAP_DAC_READ_SEARCH;
    EXPECT_EQ(perm("/f", rs, MAY_READ), 0);
    EXPECT_EQ(perm("/f", rs, MAY_WRITE), EACCES);
    Cred ovr = other;
    ovr.caps = 1ull << CAP_DAC_OVERRIDE;
    EXPECT_EQ(perm("/f", ovr, MAY_WRITE), 0);
    EXPECT_EQ(perm("/f", ovr, MAY_EXEC), EACCES);
    ASSERT_EQ(chmod_("/d", 0700, rootc), 0);
    EXPECT_EQ(perm("/d", rs, MAY_READ | MAY_EXEC), 0);
    EXPECT_EQ(perm("/d", rs, MAY_WRITE), EACCES);
    EXPECT_EQ(perm("/d", ovr, MAY_WRITE | MAY_EXEC), 0);
}

TEST_F(FsAttr, StatfsAndReadOnly) {
    ASSERT_EQ(md("/mnt"), 0);
    TmpfsOptions o;
    o.max_bytes = 1 * MiB;
    o.max_inodes = 10;
    ASSERT_EQ(mount_tmpfs("/mnt", MS_NOSUID | MS_NODEV, o), 0);
    StatFs s;
    ASSERT_TRUE(fs::statfs(path("/mnt"), s).is_ok());
    EXPECT_EQ(s.type, u64(TMPFS_MAGIC));
    EXPECT_EQ(s.bsize, 4096u);
    EXPECT_EQ(s.frsize, 4096u);
    EXPECT_EQ(s.namelen, 255u);
    EXPECT_EQ(s.blocks, 256u);
    EXPECT_EQ(s.bfree, 256u);
    EXPECT_EQ(s.files, 10u);
    EXPECT_EQ(s.ffree, 9u);  // the root directory
    EXPECT_EQ(s.flags, ST_VALID | ST_NOSUID | ST_NODEV | ST_RELATIME);
    ASSERT_EQ(write_file("/mnt/x", std::string(5000, 'x')), 0);
    ASSERT_TRUE(fs::statfs(path("/mnt"), s).is_ok());
    EXPECT_EQ(s.bfree, 254u);
    EXPECT_EQ(s.ffree, 8u);
    ASSERT_TRUE(fs::remount(path("/mnt"), MS_RDONLY).is_ok());
    ASSERT_TRUE(fs::statfs(path("/mnt"), s).is_ok());
    EXPECT_TRUE(s.flags & ST_RDONLY);
    EXPECT_EQ(perm("/mnt/x", rootc, MAY_WRITE), EROFS);  // the superblock itself is read-only
    EXPECT_EQ(err(fs::chmod(path("/mnt/x"), 0600, rootc)), EROFS);
    EXPECT_EQ(err(fs::truncate(path("/mnt/x"), 0, rootc)), EROFS);
}

TEST_F(FsAttr, SizeAndInodeLimits) {
    ASSERT_EQ(md("/mnt"), 0);
    TmpfsOptions o;
    o.max_bytes = 2 * 4096;
    o.max_inodes = 3;
    ASSERT_EQ(mount_tmpfs("/mnt", 0, o), 0);
    ASSERT_EQ(touch("/mnt/a"), 0);
    ASSERT_EQ(touch("/mnt/b"), 0);
    EXPECT_EQ(touch("/mnt/c"), ENOSPC);
    EXPECT_EQ(err(fs::link(at("/mnt/a"), at("/mnt/a2"))), ENOSPC);  // links count too
    auto f = openf("/mnt/a", O_WRONLY);
    ASSERT_TRUE(f);
    std::string big(3 * 4096, 'z');
    KernelDataBuffer b(big.data(), big.size());
    auto n = fs::write(*f, b, rootc);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(n.value(), 2u * 4096);  // partial: the rest did not fit
    auto n2 = fs::write(*f, b, rootc);
    EXPECT_EQ(err(n2), ENOSPC);
    ASSERT_EQ(rm("/mnt/b"), 0);
    EXPECT_EQ(touch("/mnt/c"), 0);
}

TEST_F(FsAttr, TmpfsOptionParsing) {
    auto o = parse_tmpfs_options("size=64m,mode=755,uid=1000,gid=100,nr_inodes=1000,inode64");
    ASSERT_TRUE(o.is_ok());
    EXPECT_EQ(o.value().max_bytes, 64 * MiB);
    EXPECT_EQ(o.value().mode, 0755u);
    EXPECT_EQ(o.value().uid, 1000u);
    EXPECT_EQ(o.value().gid, 100u);
    EXPECT_EQ(o.value().max_inodes, 1000u);
    EXPECT_EQ(parse_tmpfs_options("size=10%", 1000 * 4096).value().max_bytes, 100u * 4096);
    EXPECT_EQ(parse_tmpfs_options("size=1000").value().max_bytes, 4096u);  // whole pages
    EXPECT_EQ(err(parse_tmpfs_options("bogus=1")), EINVAL);
    EXPECT_EQ(err(parse_tmpfs_options("size=12q")), EINVAL);
    EXPECT_EQ(err(parse_tmpfs_options("mode=9")), EINVAL);
    EXPECT_EQ(err(parse_tmpfs_options("size=10%")), EINVAL);  // no RAM size known
    auto sb = tmpfs_create(o.value());
    ASSERT_TRUE(sb.is_ok());
    char buf[128];
    sb.value()->show_options(buf, sizeof(buf));
    EXPECT_STREQ(buf, ",size=65536k,nr_inodes=1000,mode=755,uid=1000,gid=100");
    ASSERT_EQ(md("/m"), 0);
    ASSERT_TRUE(mount_at(path("/m"), sb.release_value(), "none", 0).is_ok());
    auto s = st("/m");
    EXPECT_EQ(s.stx_mode, u32(S_IFDIR | 0755));
    EXPECT_EQ(s.stx_uid, 1000u);
    EXPECT_EQ(s.stx_gid, 100u);
    register_fs_type(tmpfs_type());
    register_fs_type(tmpfs_type());  // idempotent
    EXPECT_EQ(find_fs_type("tmpfs"), &tmpfs_type());
    EXPECT_EQ(find_fs_type("nosuchfs"), nullptr);
}

}  // namespace
