// Path arguments of the file system calls: copying a user path in, and
// turning (dirfd, path) into a starting point or a resolved Path, with the
// errno order Linux uses.
#pragma once

#include <linux/limits.h>

#include "fs/core/vfs.h"

namespace keel::sysarg {

// A copied path: PATH_MAX bytes on the heap, not on a 16 KiB kernel stack
// (calls take two, and the walk below them needs room too).
struct PathArg {
    char* buf = nullptr;
    usize len = 0;
    PathArg() = default;
    PathArg(const PathArg&) = delete;
    PathArg& operator=(const PathArg&) = delete;
    ~PathArg();
    StringView view() const { return StringView(buf, len); }
};

// A PATH_MAX scratch buffer on the heap, for paths the kernel renders
// (getcwd, readlink), for the same reason.
class PathBuf {
public:
    PathBuf() = default;
    PathBuf(const PathBuf&) = delete;
    PathBuf& operator=(const PathBuf&) = delete;
    ~PathBuf();
    // The buffer (PATH_MAX bytes), or ENOMEM.
    Result<char*> get();
    static constexpr usize kSize = PATH_MAX;

private:
    char* buf_ = nullptr;
};

// Copies a path argument: EFAULT, ENAMETOOLONG, and ENOENT for an empty
// path unless allow_empty (AT_EMPTY_PATH); ENOMEM without a buffer.
Status copy_path(uptr user, PathArg& out, bool allow_empty = false);

// Where a relative path starts: the cwd for AT_FDCWD, else what dirfd
// names (EBADF; ENOTDIR for a descriptor without a path, like a pipe).
Result<fs::Path> base_for(int dirfd);

// The same for a copied path: an absolute path starts at the root and
// never looks at dirfd (openat(-1, "/x") works, as on Linux).
Result<fs::Path> base_for(int dirfd, const PathArg& path);

// Resolves (dirfd, path) with LOOKUP_* flags; with LOOKUP_EMPTY an empty
// path names the descriptor itself.
Result<fs::Path> resolve(int dirfd, uptr upath, u32 flags);

// The path of the file open at fd: EBADF, or EINVAL for a descriptor
// without one.
Result<fs::Path> path_of_fd(u64 fd);

}  // namespace keel::sysarg
