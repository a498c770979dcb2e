// Open file descriptions: what open(2) creates and file descriptors share.
// This layer serves regular files and directories itself; for devices,
// FIFOs and sockets it hands the new File to a hook the kernel installs
// (the device layer attaches its FileOps there).
#pragma once

#include "fs/core/vfs.h"

namespace keel::fs {

class File;

// Behaviour a device or pipe layer attaches to a File it takes over.
struct FileOps {
    Result<usize> (*read)(File& f, DataBuffer& buf, u64* pos) = nullptr;
    Result<usize> (*write)(File& f, DataBuffer& buf, u64* pos) = nullptr;
    void (*release)(File& f) = nullptr;
};

class File : public RefCounted {
public:
    File(Path path, u32 flags);
    ~File();

    const Path& path() const { return path_; }
    Inode& inode() const { return *path_.inode(); }
    // The open flags (O_ACCMODE, O_APPEND, O_NONBLOCK, O_PATH, ...).
    u32 flags() const { return __atomic_load_n(&flags_, __ATOMIC_RELAXED); }
    // fcntl(F_SETFL) may change O_APPEND, O_NONBLOCK, O_NOATIME, O_DIRECT, O_ASYNC.
    void set_flags(u32 f) { __atomic_store_n(&flags_, f, __ATOMIC_RELAXED); }
    bool readable() const { return readable_; }
    bool writable() const { return writable_; }
    bool is_path_only() const { return flags() & O_PATH; }

    // The file position, guarded by pos_lock() (read/write/lseek/getdents
    // on a shared description serialise on it, as Linux's f_pos_lock).
    FsMutex& pos_lock() { return pos_lock_; }
    u64 pos_locked() const { return pos_; }
    void set_pos_locked(u64 p) { pos_ = p; }
    // Directories: where this description's iteration ends (see
    // Inode::dir_snapshot). pos_lock().
    u64 dir_end_locked() const { return dir_end_; }
    void set_dir_end_locked(u64 e) { dir_end_ = e; }

    // For the layer that took the file over in the special-open hook.
    const FileOps* ops = nullptr;
    void* private_data = nullptr;

private:
    friend struct FileSetup;  // open() allocates the File before it creates anything
    Path path_;
    u32 flags_;
    bool readable_;
    bool writable_;
    FsMutex pos_lock_;
    u64 pos_ = 0;
    u64 dir_end_ = ~0ull;
};

// Called by open() for character and block devices, FIFOs and sockets
// after the permission checks; it may set File::ops. Without a hook those
// files open but read and write fail with ENXIO.
using SpecialOpenHook = Status (*)(File& file, const Cred& cred);
void set_special_open_hook(SpecialOpenHook hook);

// openat2(2) after flag validation: `oflags` are the open flags, `mode`
// the creation mode with the umask applied. Implements O_CREAT, O_EXCL,
// O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_PATH and O_TMPFILE. at.resolve holds
// RESOLVE_* flags; at.flags is ignored (derived from oflags).
// O_CREAT|O_DIRECTORY is EINVAL, as since Linux 6.4.
Result<RefPtr<File>> open(const LookupRequest& at, u32 oflags, u32 mode);
// Opens an already resolved path (the kernel's own opens) with the same
// permission checks as open(2).
Result<RefPtr<File>> open_path(const Path& path, u32 oflags, const Cred& cred);
// execve(2)'s open of the program: only execute permission is checked
// (root needs some x bit); EACCES for anything but a regular file and on a
// noexec mount. The file is readable.
Result<RefPtr<File>> open_exec(const Path& path, const Cred& cred);

// read(2)/write(2) at the file position; pread/pwrite at `off`.
// Partial transfers return the count; a copy that faults before any byte
// moved is EFAULT.
Result<usize> read(File& f, DataBuffer& buf);
Result<usize> pread(File& f, DataBuffer& buf, u64 off);
Result<usize> write(File& f, DataBuffer& buf, const Cred& cred);
Result<usize> pwrite(File& f, DataBuffer& buf, u64 off, const Cred& cred);
// lseek(2): SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE.
Result<u64> lseek(File& f, i64 off, int whence);
// getdents64(2): emits entries from the file position on and advances it.
// "." and ".." come first; positions are stable cookies (d_off), so
// entries removed meanwhile are not returned and none repeats. As in Linux
// 6.12's tmpfs, entries created after the directory was opened (or last
// rewound to 0) are not returned by this description.
Status iterate_dir(File& f, DirEmitter& out);
// fallocate(2): mode 0, FALLOC_FL_KEEP_SIZE, and
// FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE; others EOPNOTSUPP.
Status fallocate(File& f, int mode, i64 off, i64 len, const Cred& cred);
// ftruncate(2).
Status ftruncate(File& f, i64 length, const Cred& cred);

// A directory's entries as getdents64 lays them out (struct
// linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name, 8-byte aligned),
// into a kernel buffer. Stops before the first entry that does not fit.
class Dirent64Writer final : public DirEmitter {
public:
    Dirent64Writer(u8* buf, usize size) : buf_(buf), size_(size) {}
    bool emit(StringView name, u64 ino, u8 dtype, u64 next_pos) override;
    usize used() const { return used_; }
    // True when an entry was refused for lack of room (getdents64 gives
    // EINVAL if that happened before any entry was stored).
    bool overflowed() const { return overflowed_; }

private:
    u8* buf_;
    usize size_;
    usize used_ = 0;
    bool overflowed_ = false;
};

}  // namespace keel::fs
