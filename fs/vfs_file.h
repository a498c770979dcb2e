// Descriptors onto VFS files (fs/core): the OpenFile that open(2) installs
// for regular files and directories, and the glue between a process's
// identity and the VFS's.
#pragma once

#include "fs/core/file.h"
#include "fs/file.h"

namespace keel::proc {
struct Process;
}

namespace keel::fs {

// The VFS's view of who the process is (fsuid, fsgid, groups; euid 0
// holds every capability).
Cred cred_of(const proc::Process& p);

// The VFS's DataBuffer over a system call's IoBuffer (user or kernel
// memory): a copy that faults moves nothing.
class IoData final : public DataBuffer {
public:
    explicit IoData(const IoBuffer& io) : DataBuffer(io.size()), io_(io) {}
    usize copy_out(usize at, const void* src, usize n) override { return io_.write_to(at, src, n).is_ok() ? n : 0; }
    usize copy_in(usize at, void* dst, usize n) override { return io_.read_from(at, dst, n).is_ok() ? n : 0; }

private:
    const IoBuffer& io_;
};

// stat(2)'s struct for a path.
Status stat_path(const Path& path, struct stat& st);

// An OpenFile reference to an open VFS file.
Result<OpenFile*> wrap_vfs_file(RefPtr<File> f);
// The VFS file behind `f`, or nullptr for other kinds of files.
File* vfs_file_of(OpenFile* f);

}  // namespace keel::fs
