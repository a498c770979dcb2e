// The path walker behind lookup(), lookup_parent(), open() and the
// namespace operations. It follows Linux's order of checks: search
// permission on each directory before looking a name up in it, mounts
// crossed after each step, symlinks counted against one limit of 40 for
// the whole resolution, and openat2's RESOLVE_* rules at the points where
// openat2(2) says they apply.
//
// Usage: start(); then loop { walk_to_last(); walk_last() } while
// walk_last() reports a trailing symlink to follow; then finish().
#pragma once

#include "fs/core/vfs.h"

namespace keel::fs {

class Walker {
public:
    explicit Walker(const LookupRequest& req);
    ~Walker();
    Walker(const Walker&) = delete;
    Walker& operator=(const Walker&) = delete;

    // Sets the start (root or base): ENAMETOOLONG (PATH_MAX), ENOENT (empty
    // without LOOKUP_EMPTY), ENOTDIR (relative to a non-directory), EXDEV
    // (absolute under RESOLVE_BENEATH), EINVAL (bad RESOLVE_ combination).
    Status start();
    // Walks all components but the last of the remaining text; cur() is
    // then the directory that holds it.
    Status walk_to_last();
    // Resolves the last component into cur(). True when it was a symlink
    // that is followed: its body becomes the text, and the caller walks
    // again.
    Result<bool> walk_last();
    // For a final component the caller looked up itself (open's create
    // path): steps into `child` (positive) as walk_last would.
    Result<bool> step_last(RefPtr<Dentry> child);
    // The end-of-walk checks: scoped lookups stayed under their root,
    // LOOKUP_DIRECTORY is honoured.
    Status finish();
    Status finish_parent();

    Path& cur() { return cur_; }
    u32& flags() { return flags_; }
    LastType last_type() const { return last_type_; }
    StringView last() const { return StringView(last_buf_, last_len_); }
    bool last_too_long() const { return too_long_; }
    bool trailing_slash() const { return trailing_; }
    const LookupRequest& request() const { return req_; }

private:
    static constexpr int WALK_TRAILING = 1;
    static constexpr int WALK_MORE = 2;
    static constexpr int WALK_NOFOLLOW = 4;

    struct Frame {
        StringView rest;  // the outer text to resume with
        char* body;       // the link body being walked (freed on resume)
    };

    bool scoped() const { return resolve_ & (RESOLVE_BENEATH | RESOLVE_IN_ROOT); }
    void set_last(StringView name, LastType type, bool slash);
    Status may_lookup();
    Result<bool> walk_component(StringView name, LastType type, int wflags);
    Result<RefPtr<Dentry>> lookup_child(StringView name);
    Result<bool> step_into(RefPtr<Dentry> child, int wflags);
    Status traverse_mounts(Path& p);
    Result<bool> pick_link(Path link);
    Status jump_root();
    Status follow_dotdot();
    void adopt_trailing_link();

    const LookupRequest& req_;
    u32 flags_;
    u64 resolve_;
    Path root_;
    Path cur_;
    StringView text_;          // what remains of the depth-0 text
    char* top_buf_ = nullptr;  // owns text_ when it is a trailing link's body
    StringView pending_;       // a link body pick_link produced
    char* pending_buf_ = nullptr;
    Frame stack_[MAXSYMLINKS + 1] = {};
    u32 depth_ = 0;
    u32 total_links_ = 0;
    LastType last_type_ = LastType::Root;
    bool trailing_ = false;
    bool too_long_ = false;
    u16 last_len_ = 0;
    char last_buf_[NAME_MAX + 1] = {};
};

// The dentry for `name` in directory `dir`, from the cache or else the
// file system; negative when the name does not exist. Namespace lock of
// dir's superblock held. ENAMETOOLONG beyond NAME_MAX, ENOENT in a removed
// directory, EAGAIN with `cached_only` on a cache miss.
Result<RefPtr<Dentry>> lookup_one_locked(Dentry& dir, StringView name, bool cached_only = false);
// What that lookup answers for a name longer than NAME_MAX (which the
// walker does not keep): ENOENT in a removed directory, else ENAMETOOLONG.
Error long_name_error_locked(Dentry& dir);

}  // namespace keel::fs
