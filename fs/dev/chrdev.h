// Character devices: the registry that open(2) consults for a S_IFCHR
// inode, and the base class device files derive from.
//
// A driver registers a range of minors under a major with an open
// function; open(2) resolves and permission-checks the node through the
// VFS and then hands the VFS File to that function, which returns the
// OpenFile the descriptor will point to (usually a DeviceFile subclass).
// Device numbers are Linux's (Documentation/admin-guide/devices.txt):
// mem 1:{3 null,5 zero,7 full,8 random,9 urandom,11 kmsg}, tty 5:{0 tty,
// 1 console,2 ptmx}, ttyS 4:64+, pts 136+.
#pragma once

#include "fs/core/file.h"
#include "fs/file.h"

namespace keel::fs {

// Opens minor `minor` of a registered device; `file` is the VFS file of
// the node (path, flags). Returns the new description (one reference).
using ChrdevOpen = Result<OpenFile*> (*)(RefPtr<File> file, u32 minor);

// Registers minors [first, first + count) of `major`. EBUSY if any is
// taken; registration happens at boot.
Status register_chrdev(u32 major, u32 first, u32 count, const char* name, ChrdevOpen open);

// open(2) of a character device node: ENXIO when nothing is registered
// for its number (as Linux).
Result<OpenFile*> open_chrdev(RefPtr<File> file);

// Registered drivers, for /proc/devices: calls fn(major, name) once per
// major in ascending order.
void for_each_chrdev(void (*fn)(u32 major, const char* name, void* ctx), void* ctx);

// A descriptor onto a device node: keeps the node's VFS file for fstat,
// /proc/<pid>/fd and the file's path.
class DeviceFile : public OpenFile {
public:
    explicit DeviceFile(RefPtr<File> file) : file_(move(file)) {}
    Status stat(struct stat& st) override;
    File* vfs_file() override { return file_.get(); }

protected:
    RefPtr<File> file_;
};

// The mem devices (null, zero, full, random, urandom, kmsg): registered at
// boot.
void register_mem_devices();
// /dev/kmsg (fs/dev/kmsg.cpp).
Result<OpenFile*> open_kmsg(RefPtr<File> file);

}  // namespace keel::fs
