// Shared fixture and helpers for the VFS core tests (tests/host/fs_*_test.cpp):
// a tmpfs root in its own mount namespace, a fake clock, and short forms of
// the operations that return the errno (0 for success).
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "fs/core/file.h"
#include "fs/core/namei.h"
#include "fs/core/tmpfs.h"
#include "fs/core/vfs.h"

namespace keel::test {
extern long g_alloc_budget;
}

namespace fstest {

using namespace keel;
using namespace keel::fs;

inline fs::Timespec g_now{1000, 0};
inline fs::Timespec fake_clock() { return g_now; }

template <typename R>
int err(const R& r) {
    return r.is_ok() ? 0 : r.error().code();
}

inline StringView sv(const std::string& s) { return StringView(s.data(), s.size()); }

// Collects directory entries.
struct Collect final : DirEmitter {
    struct Ent {
        std::string name;
        u64 ino;
        u8 type;
        u64 next;
    };
    std::vector<Ent> ents;
    usize limit = ~usize(0);
    bool emit(StringView name, u64 ino, u8 dtype, u64 next_pos) override {
        if (ents.size() >= limit) return false;
        ents.push_back({std::string(name.data(), name.size()), ino, dtype, next_pos});
        return true;
    }
};

// Runs f() with heap_alloc failing after `budget` successes; the budget
// is reset afterwards even if f fails an assertion.
template <typename F>
auto with_alloc_budget(long budget, F&& f) {
    struct Reset {
        ~Reset() { keel::test::g_alloc_budget = -1; }
    } reset;
    keel::test::g_alloc_budget = budget;
    return f();
}

class FsTest : public ::testing::Test {
protected:
    Cred rootc = Cred::root();
    Cred user = Cred::user(1000, 1000);
    RefPtr<MountNamespace> ns;
    Path root;
    Path cwd;

    void SetUp() override {
        g_now = {1000, 0};
        set_clock(&fake_clock);
        auto sb = tmpfs_create({});
        ASSERT_TRUE(sb.is_ok());
        auto made = MountNamespace::create(sb.release_value(), "rootfs", 0);
        ASSERT_TRUE(made.is_ok());
        ns = made.release_value();
        root = ns->root();
        cwd = root;
    }
    void TearDown() override {
        cwd = Path{};
        root = Path{};
        ns = nullptr;
        set_clock(nullptr);
    }

    LookupRequest at(const char* p, u32 flags = 0) { return LookupRequest{rootc, root, cwd, p, flags}; }
    LookupRequest as(const Cred& c, const char* p, u32 flags = 0) { return LookupRequest{c, root, cwd, p, flags}; }

    Path path(const char* p, u32 flags = LOOKUP_FOLLOW) {
        auto r = lookup(at(p, flags));
        EXPECT_TRUE(r.is_ok()) << p << ": errno " << err(r);
        return r.is_ok() ? r.release_value() : Path{};
    }
    int look(const char* p, u32 flags = LOOKUP_FOLLOW) { return err(lookup(at(p, flags))); }
    int look_as(const Cred& c, const char* p, u32 flags = LOOKUP_FOLLOW) { return err(lookup(as(c, p, flags))); }

    int md(const char* p, u32 mode = 0755) { return err(fs::mkdir(at(p), mode)); }
    int md_as(const Cred& c, const char* p, u32 mode = 0755) { return err(fs::mkdir(as(c, p), mode)); }
    int touch(const char* p, u32 mode = 0644) { return touch_as(rootc, p, mode); }
    int touch_as(const Cred& c, const char* p, u32 mode = 0644) {
        return err(fs::open(as(c, p), O_CREAT | O_WRONLY, mode));
    }
    int sym(const char* target, const char* p) { return err(fs::symlink(target, at(p))); }
    int rm(const char* p) { return err(fs::unlink(at(p))); }
    int rd(const char* p) { return err(fs::rmdir(at(p))); }
    int mv(const char* a, const char* b, u32 flags = 0) { return err(fs::rename(at(a), at(b), flags)); }

    RefPtr<File> openf(const char* p, u32 flags, u32 mode = 0644, const Cred* c = nullptr) {
        auto r = fs::open(as(c ? *c : rootc, p), flags, mode);
        EXPECT_TRUE(r.is_ok()) << p << ": errno " << err(r);
        return r.is_ok() ? r.release_value() : nullptr;
    }
    int open_err(const char* p, u32 flags, u32 mode = 0644, const Cred* c = nullptr) {
        return err(fs::open(as(c ? *c : rootc, p), flags, mode));
    }

    int write_file(const char* p, const std::string& data, u32 flags = O_CREAT | O_WRONLY | O_TRUNC) {
        auto f = fs::open(at(p), flags, 0644);
        if (f.is_error()) return f.error().code();
        KernelDataBuffer b(data.data(), data.size());
        auto n = fs::write(*f.value(), b, rootc);
        if (n.is_error()) return n.error().code();
        return n.value() == data.size() ? 0 : -1;
    }
    std::string read_file(const char* p) {
        auto f = fs::open(at(p), O_RDONLY, 0);
        if (f.is_error()) return "<errno " + std::to_string(f.error().code()) + ">";
        std::string out;
        char buf[4096];
        for (;;) {
            KernelDataBuffer b(buf, sizeof(buf));
            auto n = fs::read(*f.value(), b);
            if (n.is_error()) return "<read errno " + std::to_string(n.error().code()) + ">";
            if (n.value() == 0) break;
            out.append(buf, n.value());
        }
        return out;
    }

    struct statx st(const char* p, u32 flags = LOOKUP_FOLLOW, u32 mask = STATX_BASIC_STATS | STATX_BTIME) {
        struct statx s{};
        auto pp = lookup(at(p, flags));
        EXPECT_TRUE(pp.is_ok()) << p << ": errno " << err(pp);
        if (pp.is_ok()) {
            EXPECT_TRUE(getattr(pp.value(), mask, s).is_ok());
        }
        return s;
    }
    u32 mode_of(const char* p, u32 flags = LOOKUP_FOLLOW) { return st(p, flags).stx_mode; }
    u32 nlink_of(const char* p, u32 flags = LOOKUP_FOLLOW) { return st(p, flags).stx_nlink; }

    std::vector<std::string> ls(const char* p) {
        std::vector<std::string> names;
        auto f = fs::open(at(p), O_RDONLY | O_DIRECTORY, 0);
        if (f.is_error()) return {"<errno " + std::to_string(f.error().code()) + ">"};
        Collect c;
        EXPECT_TRUE(iterate_dir(*f.value(), c).is_ok());
        for (auto& e : c.ents) names.push_back(e.name);
        return names;
    }

    std::string link_text(const Path& p, const Path& r) {
        char buf[PATH_MAX];
        auto s = path_for_link(p, r, buf, sizeof(buf));
        if (s.is_error()) return "<errno " + std::to_string(s.error().code()) + ">";
        return std::string(s.value().data(), s.value().size());
    }
    std::string cwd_text(const Path& p, const Path& r) {
        char buf[PATH_MAX];
        auto s = path_for_getcwd(p, r, buf, sizeof(buf));
        if (s.is_error()) return "<errno " + std::to_string(s.error().code()) + ">";
        return std::string(s.value().data(), s.value().size());
    }

    // Mounts a fresh tmpfs on `p`.
    int mount_tmpfs(const char* p, u32 flags = 0, const TmpfsOptions& opts = {}) {
        auto target = lookup(at(p, LOOKUP_FOLLOW));
        if (target.is_error()) return target.error().code();
        auto sb = tmpfs_create(opts, flags);
        if (sb.is_error()) return sb.error().code();
        return err(mount_at(target.value(), sb.release_value(), "tmpfs", flags));
    }
    int umount_path(const char* p, int flags = 0) {
        auto target = lookup(at(p, LOOKUP_FOLLOW));
        if (target.is_error()) return target.error().code();
        return err(fs::umount(target.value(), flags));
    }
};

}  // namespace fstest
