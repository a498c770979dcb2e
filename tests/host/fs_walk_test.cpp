// Path resolution: components, dots, slashes, symlinks, permissions,
// mounts and chroot-like roots, and openat2's RESOLVE_* flags.
#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

class FsWalk : public FsTest {
protected:
    void SetUp() override {
        FsTest::SetUp();
        ASSERT_EQ(md("/a"), 0);
        ASSERT_EQ(md("/a/b"), 0);
        ASSERT_EQ(touch("/a/b/f"), 0);
        ASSERT_EQ(touch("/file"), 0);
    }
    u64 ino(const char* p, u32 flags = LOOKUP_FOLLOW) { return st(p, flags).stx_ino; }
    LookupRequest res(const Path& base, const char* p, u64 resolve, u32 flags = LOOKUP_FOLLOW) {
        return LookupRequest{rootc, root, base, p, flags, resolve};
    }
};

TEST_F(FsWalk, BasicComponents) {
    EXPECT_EQ(look("/a/b/f"), 0);
    EXPECT_EQ(look("a/b/f"), 0);
    EXPECT_EQ(look("/a/missing"), ENOENT);
    EXPECT_EQ(look("/missing/f"), ENOENT);
    EXPECT_EQ(look("/file/x"), ENOTDIR);
    EXPECT_EQ(look("/a/b/f/"), ENOTDIR);
    EXPECT_EQ(look("/a/b/"), 0);
    EXPECT_EQ(ino("//a///b//f"), ino("/a/b/f"));
    EXPECT_EQ(ino("/a/./b/../b/./f"), ino("/a/b/f"));
    EXPECT_EQ(ino("/a/b/.."), ino("/a"));
    EXPECT_EQ(ino("/"), 1u);  // tmpfs root is inode 1
    EXPECT_EQ(ino("///"), 1u);
}

TEST_F(FsWalk, DotDotAtRootStays) {
    EXPECT_EQ(ino("/.."), ino("/"));
    EXPECT_EQ(ino("/../../a/../.."), ino("/"));
    EXPECT_EQ(ino("../../a"), ino("/a"));
}

TEST_F(FsWalk, EmptyPath) {
    EXPECT_EQ(look(""), ENOENT);
    Path f = path("/file");
    LookupRequest r{rootc, root, f, "", LOOKUP_EMPTY};
    auto p = lookup(r);
    ASSERT_TRUE(p.is_ok());
    EXPECT_EQ(p.value(), f);
    // An empty path names the base even when it is not a directory, but a
    // non-empty relative path needs a directory base.
    LookupRequest r2{rootc, root, f, "x"};
    EXPECT_EQ(err(lookup(r2)), ENOTDIR);
    LookupRequest r3{rootc, root, f, "", LOOKUP_EMPTY | LOOKUP_DIRECTORY};
    EXPECT_EQ(err(lookup(r3)), ENOTDIR);
}

TEST_F(FsWalk, NameAndPathLimits) {
    std::string n255(255, 'x'), n256(256, 'x');
    EXPECT_EQ(look(("/" + n255).c_str()), ENOENT);
    EXPECT_EQ(look(("/" + n256).c_str()), ENAMETOOLONG);
    EXPECT_EQ(touch(("/" + n255).c_str()), 0);
    EXPECT_EQ(touch(("/" + n256).c_str()), ENAMETOOLONG);
    // PATH_MAX counts the terminating NUL: 4095 characters resolve, 4096 do not.
    std::string p4095 = "/";
    while (p4095.size() < 4095) p4095 += "./";
    p4095.resize(4095);
    p4095[4094] = '.';
    EXPECT_EQ(look(p4095.c_str()), 0);
    std::string p4096 = p4095 + "/";
    EXPECT_EQ(look(p4096.c_str()), ENAMETOOLONG);
}

TEST_F(FsWalk, TrailingSlashAndSymlinks) {
    ASSERT_EQ(sym("a", "/ld"), 0);
    ASSERT_EQ(sym("file", "/lf"), 0);
    ASSERT_EQ(sym("nowhere", "/dangling"), 0);
    // A trailing symlink is not followed without LOOKUP_FOLLOW ...
    EXPECT_EQ(st("/ld", 0).stx_mode & S_IFMT, u32(S_IFLNK));
    // ... but "link/" always follows and must end at a directory.
    EXPECT_EQ(st("/ld/", 0).stx_mode & S_IFMT, u32(S_IFDIR));
    EXPECT_EQ(look("/lf/", 0), ENOTDIR);
    EXPECT_EQ(look("/lf", LOOKUP_FOLLOW | LOOKUP_DIRECTORY), ENOTDIR);
    EXPECT_EQ(look("/dangling", LOOKUP_FOLLOW), ENOENT);
    EXPECT_EQ(look("/dangling", 0), 0);
    EXPECT_EQ(ino("/ld/b/f"), ino("/a/b/f"));
}

TEST_F(FsWalk, AbsoluteAndRelativeSymlinks) {
    ASSERT_EQ(sym("/a/b", "/a/abs"), 0);
    ASSERT_EQ(sym("../file", "/a/rel"), 0);
    ASSERT_EQ(sym("/", "/a/toroot"), 0);
    ASSERT_EQ(sym("b//f/", "/a/slashy"), 0);
    EXPECT_EQ(ino("/a/abs/f"), ino("/a/b/f"));
    EXPECT_EQ(ino("/a/rel"), ino("/file"));
    EXPECT_EQ(ino("/a/toroot"), ino("/"));
    EXPECT_EQ(ino("/a/toroot/a/b"), ino("/a/b"));
    // The link body's own trailing slash demands a directory.
    EXPECT_EQ(look("/a/slashy"), ENOTDIR);
}

TEST_F(FsWalk, SymlinkLimitIsFortyPerResolution) {
    // l0 -> file, l<i> -> l<i-1>: resolving l<k> follows k+1 links.
    ASSERT_EQ(sym("/file", "/l0"), 0);
    for (int i = 1; i <= 40; ++i)
        ASSERT_EQ(sym(("/l" + std::to_string(i - 1)).c_str(), ("/l" + std::to_string(i)).c_str()), 0);
    EXPECT_EQ(look("/l39"), 0);      // 40 links
    EXPECT_EQ(look("/l40"), ELOOP);  // 41 links
    EXPECT_EQ(look("/l40", 0), 0);   // not followed at all
    // Links nested inside link bodies count against the same limit.
    ASSERT_EQ(sym("a", "/d0"), 0);
    for (int i = 1; i <= 40; ++i)
        ASSERT_EQ(sym(("d" + std::to_string(i - 1) + "/.").c_str(), ("/d" + std::to_string(i)).c_str()), 0);
    EXPECT_EQ(ino("/d39/b"), ino("/a/b"));
    EXPECT_EQ(look("/d40/b"), ELOOP);
    // Two links in one path: 20 + 20 is fine, 20 + 21 is not.
    EXPECT_EQ(look("/d19/../l19"), 0);
    EXPECT_EQ(look("/d19/../l20"), ELOOP);
}

TEST_F(FsWalk, SymlinkLoop) {
    ASSERT_EQ(sym("y", "/x"), 0);
    ASSERT_EQ(sym("x", "/y"), 0);
    ASSERT_EQ(sym("self/a", "/self"), 0);
    EXPECT_EQ(look("/x"), ELOOP);
    EXPECT_EQ(look("/x/z"), ELOOP);
    EXPECT_EQ(look("/self"), ELOOP);
    EXPECT_EQ(look("/x", 0), 0);
}

TEST_F(FsWalk, SearchPermission) {
    ASSERT_EQ(md("/priv", 0700), 0);
    ASSERT_EQ(touch("/priv/f"), 0);
    ASSERT_EQ(md("/xonly", 0711), 0);
    ASSERT_EQ(touch("/xonly/f"), 0);
    EXPECT_EQ(look_as(user, "/priv/f"), EACCES);
    EXPECT_EQ(look_as(user, "/priv/missing"), EACCES);  // EACCES before ENOENT
    EXPECT_EQ(look_as(user, "/priv/.."), EACCES);       // even for ".."
    EXPECT_EQ(look_as(user, "/priv"), 0);               // the directory itself is fine
    EXPECT_EQ(look_as(user, "/xonly/f"), 0);
    Cred reader = user;
    reader.caps = 1ull << CAP_DAC_READ_SEARCH;
    EXPECT_EQ(look_as(reader, "/priv/f"), 0);
    Cred overrider = user;
    overrider.caps = 1ull << CAP_DAC_OVERRIDE;
    EXPECT_EQ(look_as(overrider, "/priv/f"), 0);
    // Symlink bodies are walked with the same checks.
    ASSERT_EQ(sym("/priv/f", "/topriv"), 0);
    EXPECT_EQ(look_as(user, "/topriv"), EACCES);
}

TEST_F(FsWalk, MountCrossingAndDotDot) {
    ASSERT_EQ(md("/mnt"), 0);
    ASSERT_EQ(touch("/mnt/under"), 0);
    Path before = path("/mnt");  // taken before the mount: stays below it
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(md("/mnt/sub"), 0);
    EXPECT_EQ(look("/mnt/under"), ENOENT);
    EXPECT_EQ(ino("/mnt"), 1u);  // the new tmpfs's root
    EXPECT_NE(st("/mnt").stx_dev_minor, st("/").stx_dev_minor);
    EXPECT_EQ(ino("/mnt/.."), ino("/"));
    EXPECT_EQ(ino("/mnt/sub/../.."), ino("/"));
    EXPECT_EQ(st("/mnt/..").stx_dev_minor, st("/").stx_dev_minor);
    // Relative to a base under the mount, "." stays under it but names
    // looked up through the mount point's parent cross it.
    LookupRequest r{rootc, root, before, "under"};
    EXPECT_EQ(err(lookup(r)), 0);
    LookupRequest r2{rootc, root, before, "../mnt/sub"};
    EXPECT_EQ(err(lookup(r2)), 0);
    // Stacked mounts: the top one is seen; ".." from it skips the one below.
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    EXPECT_EQ(look("/mnt/sub"), ENOENT);
    EXPECT_EQ(ino("/mnt/.."), ino("/"));
    ASSERT_EQ(umount_path("/mnt"), 0);
    EXPECT_EQ(look("/mnt/sub"), 0);
}

TEST_F(FsWalk, ChrootRoot) {
    ASSERT_EQ(md("/jail"), 0);
    ASSERT_EQ(md("/jail/etc"), 0);
    ASSERT_EQ(touch("/jail/etc/passwd"), 0);
    ASSERT_EQ(sym("/etc/passwd", "/jail/abs"), 0);
    Path jail = path("/jail");
    auto in_jail = [&](const char* p, const Path& base) { return lookup(LookupRequest{rootc, jail, base, p, LOOKUP_FOLLOW}); };
    auto p1 = in_jail("/../../etc/passwd", jail);
    ASSERT_TRUE(p1.is_ok());
    EXPECT_EQ(p1.value(), path("/jail/etc/passwd"));
    auto p2 = in_jail("../../etc/passwd", jail);
    ASSERT_TRUE(p2.is_ok());
    EXPECT_EQ(p2.value(), path("/jail/etc/passwd"));
    auto p3 = in_jail("/abs", jail);  // absolute symlinks resolve inside the root
    ASSERT_TRUE(p3.is_ok());
    EXPECT_EQ(p3.value(), path("/jail/etc/passwd"));
    // A base outside the root is not clamped: ".." walks on up.
    auto p4 = in_jail("../file", path("/a"));
    ASSERT_TRUE(p4.is_ok());
    EXPECT_EQ(p4.value(), path("/file"));
}

TEST_F(FsWalk, ResolveNoXdev) {
    ASSERT_EQ(md("/mnt"), 0);
    ASSERT_EQ(mount_tmpfs("/mnt"), 0);
    ASSERT_EQ(md("/mnt/d"), 0);
    ASSERT_EQ(sym("/a", "/mnt/d/toroot"), 0);
    ASSERT_EQ(sym("d", "/mnt/rel"), 0);
    Path mnt = path("/mnt");
    EXPECT_EQ(err(lookup(res(root, "/mnt/d", RESOLVE_NO_XDEV))), EXDEV);      // down into a mount
    EXPECT_EQ(err(lookup(res(root, "mnt", RESOLVE_NO_XDEV, 0))), EXDEV);
    EXPECT_EQ(err(lookup(res(mnt, "d/..", RESOLVE_NO_XDEV))), 0);
    EXPECT_EQ(err(lookup(res(mnt, "..", RESOLVE_NO_XDEV))), EXDEV);          // up out of one
    EXPECT_EQ(err(lookup(res(mnt, "d/toroot", RESOLVE_NO_XDEV))), EXDEV);    // absolute link jumps
    EXPECT_EQ(err(lookup(res(mnt, "d/toroot", RESOLVE_NO_XDEV, 0))), 0);     // not followed
    EXPECT_EQ(err(lookup(res(mnt, "rel", RESOLVE_NO_XDEV))), 0);
    EXPECT_EQ(err(lookup(res(mnt, "/a", RESOLVE_NO_XDEV))), 0);  // an absolute path itself is allowed
}

TEST_F(FsWalk, ResolveNoSymlinks) {
    ASSERT_EQ(sym("a", "/la"), 0);
    EXPECT_EQ(err(lookup(res(root, "/la/b", RESOLVE_NO_SYMLINKS))), ELOOP);
    EXPECT_EQ(err(lookup(res(root, "/la", RESOLVE_NO_SYMLINKS))), ELOOP);
    EXPECT_EQ(err(lookup(res(root, "/la", RESOLVE_NO_SYMLINKS, 0))), 0);  // O_NOFOLLOW: the link itself
    EXPECT_EQ(err(lookup(res(root, "/a/b", RESOLVE_NO_SYMLINKS))), 0);
}

TEST_F(FsWalk, ResolveBeneath) {
    Path a = path("/a");
    ASSERT_EQ(sym("/file", "/a/abs"), 0);
    ASSERT_EQ(sym("../file", "/a/up"), 0);
    ASSERT_EQ(sym("b/f", "/a/down"), 0);
    EXPECT_EQ(err(lookup(res(a, "b/f", RESOLVE_BENEATH))), 0);
    EXPECT_EQ(err(lookup(res(a, "b/../b/f", RESOLVE_BENEATH))), 0);
    EXPECT_EQ(err(lookup(res(a, "/file", RESOLVE_BENEATH))), EXDEV);
    EXPECT_EQ(err(lookup(res(a, "..", RESOLVE_BENEATH))), EXDEV);
    EXPECT_EQ(err(lookup(res(a, "b/../..", RESOLVE_BENEATH))), EXDEV);
    EXPECT_EQ(err(lookup(res(a, "abs", RESOLVE_BENEATH))), EXDEV);
    EXPECT_EQ(err(lookup(res(a, "up", RESOLVE_BENEATH))), EXDEV);
    EXPECT_EQ(err(lookup(res(a, "down", RESOLVE_BENEATH))), 0);
    EXPECT_EQ(err(lookup(res(a, "x", RESOLVE_BENEATH | RESOLVE_IN_ROOT))), EINVAL);
}

TEST_F(FsWalk, ResolveInRoot) {
    Path a = path("/a");
    ASSERT_EQ(sym("/b/f", "/a/abs"), 0);
    ASSERT_EQ(sym("../../../b", "/a/up"), 0);
    auto p1 = lookup(res(a, "/b/f", RESOLVE_IN_ROOT));
    ASSERT_TRUE(p1.is_ok());
    EXPECT_EQ(p1.value(), path("/a/b/f"));
    auto p2 = lookup(res(a, "../../b/f", RESOLVE_IN_ROOT));
    ASSERT_TRUE(p2.is_ok());
    EXPECT_EQ(p2.value(), path("/a/b/f"));
    auto p3 = lookup(res(a, "abs", RESOLVE_IN_ROOT));
    ASSERT_TRUE(p3.is_ok());
    EXPECT_EQ(p3.value(), path("/a/b/f"));
    auto p4 = lookup(res(a, "up/f", RESOLVE_IN_ROOT));
    ASSERT_TRUE(p4.is_ok());
    EXPECT_EQ(p4.value(), path("/a/b/f"));
    EXPECT_EQ(err(lookup(res(a, "/file", RESOLVE_IN_ROOT))), ENOENT);
}

TEST_F(FsWalk, ResolveCached) {
    EXPECT_EQ(err(lookup(res(root, "/a/b/f", RESOLVE_CACHED))), 0);  // created through the cache
    auto sb = root.mnt->sb().dcache_size();
    {
        FsLockGuard g(root.mnt->sb().lock());
        root.mnt->sb().shrink_dcache_locked(0);
    }
    EXPECT_LT(root.mnt->sb().dcache_size(), sb);
    EXPECT_EQ(err(lookup(res(root, "/a/b/f", RESOLVE_CACHED))), EAGAIN);
    EXPECT_EQ(look("/a/b/f"), 0);
    EXPECT_EQ(err(lookup(res(root, "/a/b/f", RESOLVE_CACHED))), 0);
}

TEST_F(FsWalk, LookupParent) {
    auto p = lookup_parent(at("/a/b/f"));
    ASSERT_TRUE(p.is_ok());
    EXPECT_EQ(p.value().dir, path("/a/b"));
    EXPECT_EQ(std::string(p.value().name().data(), p.value().len), "f");
    EXPECT_EQ(p.value().type, LastType::Norm);
    EXPECT_FALSE(p.value().trailing_slash);
    auto q = lookup_parent(at("/a/b//"));
    ASSERT_TRUE(q.is_ok());
    EXPECT_TRUE(q.value().trailing_slash);
    EXPECT_EQ(lookup_parent(at("/a/.")).value().type, LastType::Dot);
    EXPECT_EQ(lookup_parent(at("/a/..")).value().type, LastType::DotDot);
    EXPECT_EQ(lookup_parent(at("/")).value().type, LastType::Root);
    // The last component is never followed, intermediate ones are.
    ASSERT_EQ(sym("a", "/la"), 0);
    auto r = lookup_parent(at("/la/b"));
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r.value().dir, path("/a"));
    auto s = lookup_parent(at("/la"));
    ASSERT_TRUE(s.is_ok());
    EXPECT_EQ(s.value().dir, root);
    EXPECT_EQ(err(lookup_parent(at("/file/x"))), ENOTDIR);
    std::string n256(256, 'x');
    auto t = lookup_parent(at(("/" + n256).c_str()));
    ASSERT_TRUE(t.is_ok());
    EXPECT_TRUE(t.value().too_long);
}

TEST_F(FsWalk, DcacheEvictionKeepsAnswers) {
    root.mnt->sb().set_dcache_limit(8);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(touch(("/a/n" + std::to_string(i)).c_str()), 0);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(look(("/a/n" + std::to_string(i)).c_str()), 0);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(look(("/a/m" + std::to_string(i)).c_str()), ENOENT);
    EXPECT_LE(root.mnt->sb().dcache_size(), 12u);
    EXPECT_EQ(ls("/a").size(), 103u);
}

}  // namespace
