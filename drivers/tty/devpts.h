// devpts: the file system of pty slaves (mount -t devpts devpts /dev/pts).
// Every mount is a new instance with its own numbering, as in Linux 6.12;
// /dev/ptmx finds its instance at "pts" beside it.
#pragma once

#include "fs/core/file.h"
#include "fs/core/superblock.h"

namespace keel::tty {

class Pty;
struct DevptsInstance;

fs::FsType& devpts_type();

// devpts_acquire: the instance a ptmx node belongs to (the node's own
// devpts, or the devpts mounted at "pts" in its directory).
Result<DevptsInstance*> devpts_for_ptmx(const fs::File& ptmx);
// A free index for `pty`, and its /dev/pts/N node owned by the caller.
Result<u32> devpts_add(DevptsInstance& inst, Pty& pty);
// Removes the node (the master closed); the index stays taken until
// devpts_release_index.
void devpts_kill_node(DevptsInstance& inst, u32 index);
void devpts_release_index(DevptsInstance& inst, u32 index);
// The pty behind a /dev/pts/N node (with a reference), or nullptr.
Pty* devpts_lookup(const fs::File& node, u32 index);
// Opens the slave node of `index` for TIOCGPTPEER.
Result<RefPtr<fs::File>> devpts_open_node(DevptsInstance& inst, u32 index, u32 oflags);

}  // namespace keel::tty
