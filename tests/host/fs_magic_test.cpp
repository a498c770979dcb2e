// A minimal procfs-like file system built on the core's extension points:
// magic links (jump_link) under openat2's RESOLVE_NO_MAGICLINKS and
// friends, and revalidation of cached names in a directory that changes
// behind the VFS's back.
#include <cstring>

#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

FsType g_magic_type{"magicfs", 0x4d41474b, nullptr};

class MagicLink final : public Inode {
public:
    MagicLink(Superblock& sb, Path t) : Inode(sb, 3, S_IFLNK | 0777), target(move(t)) {
        attr_locked().nlink = 1;
    }
    bool is_magic_link() const override { return true; }
    Result<Path> jump_link(void* task) override {
        last_task = task;
        return target;
    }
    Result<usize> get_link(char* buf, usize size, void*) override {
        const char* text = "/the/target";
        usize n = strlen(text);
        memcpy(buf, text, std::min(n, size));
        return n;
    }
    Path target;
    void* last_task = nullptr;
};

// A directory with "fd" (a magic link) and "pid", which comes and goes.
class MagicDir final : public Inode {
public:
    MagicDir(Superblock& sb, RefPtr<Inode> l) : Inode(sb, 1, S_IFDIR | 0555), link_(move(l)) {
        attr_locked().nlink = 2;
    }
    Result<RefPtr<Inode>> lookup(StringView name) override {
        ++fs_lookups;
        if (name == "fd") return link_;
        if (name == "pid" && pid) return pid;
        return Error(ENOENT);
    }
    bool revalidate(StringView name, Inode* cached) override {
        if (name == "pid") return cached == pid.get();
        return true;
    }
    RefPtr<Inode> link_;
    RefPtr<Inode> pid;
    int fs_lookups = 0;
};

class MagicFs final : public Superblock {
public:
    explicit MagicFs(Path target) : Superblock(g_magic_type, make_dev(0, 4000)) {
        auto l = make_ref<MagicLink>(*this, move(target));
        link = l.value().get();
        auto d = make_ref<MagicDir>(*this, l.release_value());
        dir = d.value().get();
        (void)set_root(d.release_value());
    }
    ~MagicFs() override {
        if (active() == 0) kill();  // never mounted: drop the tree here
    }
    MagicLink* link;
    MagicDir* dir;
};

class FsMagic : public FsTest {
protected:
    MagicFs* mfs = nullptr;
    void SetUp() override {
        FsTest::SetUp();
        ASSERT_EQ(md("/proc"), 0);
        ASSERT_EQ(md("/data"), 0);
        ASSERT_EQ(write_file("/data/file", "through the magic link"), 0);
        ASSERT_EQ(md("/mnt"), 0);
        auto made = make_ref<MagicFs>(path("/data/file"));
        ASSERT_TRUE(made.is_ok());
        mfs = made.value().get();
        ASSERT_TRUE(mount_at(path("/proc"), RefPtr<Superblock>(made.release_value()), "proc", 0).is_ok());
    }
    LookupRequest res(const Path& base, const char* p, u64 resolve, u32 flags = LOOKUP_FOLLOW, void* task = nullptr) {
        return LookupRequest{rootc, root, base, p, flags, resolve, task};
    }
};

TEST_F(FsMagic, MagicLinksJump) {
    int token;
    auto p = lookup(res(root, "/proc/fd", 0, LOOKUP_FOLLOW, &token));
    ASSERT_TRUE(p.is_ok());
    EXPECT_EQ(p.value(), path("/data/file"));
    EXPECT_EQ(mfs->link->last_task, &token);  // the caller's task reaches the file system
    EXPECT_EQ(read_file("/proc/fd"), "through the magic link");
    EXPECT_EQ(look("/proc/fd", 0), 0);  // not followed: the link itself
    char buf[32];
    auto n = fs::readlink(at("/proc/fd"), buf, sizeof(buf));
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(std::string(buf, n.value()), "/the/target");  // readlink shows the text
    EXPECT_EQ(open_err("/proc/fd", O_RDONLY | O_NOFOLLOW), ELOOP);
    // A magic link in the middle of a path: the target must be a directory.
    EXPECT_EQ(look("/proc/fd/x"), ENOTDIR);
}

TEST_F(FsMagic, ResolveFlagsOnMagicLinks) {
    Path proc = path("/proc");
    EXPECT_EQ(err(lookup(res(root, "/proc/fd", RESOLVE_NO_MAGICLINKS))), ELOOP);
    EXPECT_EQ(err(lookup(res(root, "/proc/fd", RESOLVE_NO_MAGICLINKS, 0))), 0);
    EXPECT_EQ(err(lookup(res(root, "/proc/fd", RESOLVE_NO_SYMLINKS))), ELOOP);
    EXPECT_EQ(err(lookup(res(proc, "fd", RESOLVE_NO_XDEV))), EXDEV);   // lands on another mount
    EXPECT_EQ(err(lookup(res(proc, "fd", RESOLVE_BENEATH))), EXDEV);   // never inside a scoped walk
    EXPECT_EQ(err(lookup(res(proc, "fd", RESOLVE_IN_ROOT))), EXDEV);
}

TEST_F(FsMagic, RevalidatedNames) {
    EXPECT_EQ(look("/proc/pid"), ENOENT);
    int before = mfs->dir->fs_lookups;
    EXPECT_EQ(look("/proc/fd", 0), 0);
    EXPECT_EQ(look("/proc/fd", 0), 0);
    EXPECT_EQ(mfs->dir->fs_lookups, before + 1);  // cached after the first time
    // The process appears: the negative entry must not hide it.
    auto made = make_ref<MagicLink>(*mfs, path("/data"));
    mfs->dir->pid = made.release_value();
    EXPECT_EQ(look("/proc/pid"), 0);
    EXPECT_EQ(look("/proc/pid/file"), 0);
    Path held = path("/proc/pid", 0);
    mfs->dir->pid = nullptr;  // and goes away
    EXPECT_EQ(look("/proc/pid"), ENOENT);
    EXPECT_EQ(link_text(held, root), "/proc/pid (deleted)");
}

TEST_F(FsMagic, ForeignFileSystemRules) {
    // Operations the file system does not implement fail as on Linux.
    EXPECT_EQ(touch("/proc/new"), EACCES);  // no create operation: EACCES from open(O_CREAT) ...
    EXPECT_EQ(err(fs::mkdir(at("/proc/new"), 0755)), EPERM);  // ... then no create operation
    EXPECT_EQ(rm("/proc/fd"), EPERM);
    EXPECT_EQ(umount_path("/proc"), 0);
    EXPECT_EQ(look("/proc/fd"), ENOENT);
}

}  // namespace
