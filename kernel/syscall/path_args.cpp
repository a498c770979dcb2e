#include "kernel/syscall/path_args.h"

#include <linux/fcntl.h>

#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/uaccess.h"
#include "mm/slab.h"

namespace keel::sysarg {

namespace {
proc::Process& me() { return *proc::current_process(); }
}  // namespace

PathArg::~PathArg() {
    if (buf) mm::kfree(buf);
}

PathBuf::~PathBuf() {
    if (buf_) mm::kfree(buf_);
}

Result<char*> PathBuf::get() {
    if (!buf_) buf_ = static_cast<char*>(TRY(mm::kmalloc(PATH_MAX)));
    return buf_;
}

Status copy_path(uptr user, PathArg& out, bool allow_empty) {
    if (!out.buf) out.buf = static_cast<char*>(TRY(mm::kmalloc(PATH_MAX)));
    out.len = TRY(strncpy_from_user(out.buf, user, PATH_MAX, ENAMETOOLONG));
    if (out.len == 0 && !allow_empty) return Error(ENOENT);
    return {};
}

Result<fs::Path> base_for(int dirfd) {
    if (dirfd == AT_FDCWD) return me().cwd();
    fs::FileRef f = me().fds->get(dirfd);
    if (!f) return Error(EBADF);
    fs::File* vf = fs::vfs_file_of(f.get());
    if (!vf) return Error(ENOTDIR);
    return vf->path();
}

Result<fs::Path> base_for(int dirfd, const PathArg& path) {
    if (path.len && path.buf[0] == '/') return me().root();
    return base_for(dirfd);
}

Result<fs::Path> resolve(int dirfd, uptr upath, u32 flags) {
    PathArg path;
    TRY(copy_path(upath, path, flags & fs::LOOKUP_EMPTY));
    fs::Path base = TRY(base_for(dirfd, path));
    if (path.len == 0 && dirfd != AT_FDCWD) return base;  // AT_EMPTY_PATH on the descriptor itself
    fs::Cred cred = fs::cred_of(me());
    fs::Path root = me().root();
    fs::LookupRequest req{cred, root, base, path.view(), flags};
    return fs::lookup(req);
}

Result<fs::Path> path_of_fd(u64 fd) {
    fs::FileRef f = me().fds->get(static_cast<int>(fd));
    if (!f) return Error(EBADF);
    fs::File* vf = fs::vfs_file_of(f.get());
    if (!vf) return Error(EINVAL);
    return vf->path();
}

}  // namespace keel::sysarg
