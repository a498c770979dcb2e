// The links of /proc/<pid>: fd/N, cwd, root and exe. Read with readlink
// they render the target's path; followed, they jump straight to it
// (magic links), whatever the caller's root.
#include "fs/core/file.h"
#include "fs/proc/procfs_internal.h"
#include "kernel/process/proc_info.h"
#include "lib/format.h"

namespace keel::fs::procfs {

namespace {

Status link_path(SeqBuf& out, const Target& t, proc::PathKind which) {
    Path p = TRY(proc::get_path(t.tgid, which));
    return put_path(out, p);
}

}  // namespace

Status link_fd(SeqBuf& out, const Target& t) {
    FileRef ref = TRY(proc::get_fd(t.tgid, t.fd));
    if (File* vf = ref->vfs_file()) return put_path(out, vf->path());
    char name[64];
    usize n = ref->anon_name(name, sizeof(name));
    if (n) {
        out.puts(StringView(name, min(n, sizeof(name) - 1)));
        return {};
    }
    // Files without a path: what Linux shows for the same kinds.
    switch (ref->kind()) {
    case FileKind::Pipe: {
        struct stat st {};
        TRY(ref->stat(st));
        out.printf("pipe:[%llu]", static_cast<unsigned long long>(st.st_ino));
        return {};
    }
    case FileKind::EventFd: out.puts("anon_inode:[eventfd]"); return {};
    case FileKind::TimerFd: out.puts("anon_inode:[timerfd]"); return {};
    case FileKind::SignalFd: out.puts("anon_inode:[signalfd]"); return {};
    default: out.puts("anon_inode:[unknown]"); return {};  // epoll: add a FileKind case
    }
}

Result<Path> jump_fd(const Target& t) {
    FileRef ref = TRY(proc::get_fd(t.tgid, t.fd));
    if (File* vf = ref->vfs_file()) return vf->path();
    // Pipes and anonymous inodes have no path Keel could hand back yet
    // (Linux reopens the object itself).
    return Error(ENXIO);
}

Status link_cwd(SeqBuf& out, const Target& t) { return link_path(out, t, proc::PathKind::Cwd); }
Result<Path> jump_cwd(const Target& t) { return proc::get_path(t.tgid, proc::PathKind::Cwd); }
Status link_root(SeqBuf& out, const Target& t) { return link_path(out, t, proc::PathKind::Root); }
Result<Path> jump_root(const Target& t) { return proc::get_path(t.tgid, proc::PathKind::Root); }
Status link_exe(SeqBuf& out, const Target& t) { return link_path(out, t, proc::PathKind::Exe); }
Result<Path> jump_exe(const Target& t) { return proc::get_path(t.tgid, proc::PathKind::Exe); }

Status show_fdinfo(SeqBuf& out, const Target& t) {
    bool cloexec = false;
    FileRef ref = TRY(proc::get_fd(t.tgid, t.fd, &cloexec));
    OpenFile& f = *ref;
    u64 pos = f.offset;
    u32 flags = f.flags;
    int mnt_id = 0;
    u64 ino = 0;
    if (File* vf = f.vfs_file()) {
        {
            FsLockGuard g(vf->pos_lock());
            pos = vf->pos_locked();
        }
        flags = vf->flags();
        mnt_id = vf->path().mnt->id();
        ino = vf->inode().ino();
    } else {
        struct stat st {};
        if (f.stat(st).is_ok()) ino = st.st_ino;
    }
    // Linux shows O_CLOEXEC from the descriptor table and drops the
    // open-only flags.
    flags &= ~static_cast<u32>(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
    if (cloexec) flags |= O_CLOEXEC;
    else flags &= ~static_cast<u32>(O_CLOEXEC);
    out.printf("pos:\t%llu\nflags:\t0%o\nmnt_id:\t%d\nino:\t%llu\n", static_cast<unsigned long long>(pos), flags,
               mnt_id, static_cast<unsigned long long>(ino));
    return {};
}

}  // namespace keel::fs::procfs
