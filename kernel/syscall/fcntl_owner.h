// fcntl commands about whom a file signals and leases (fcntl_owner.cpp).
#pragma once

#include "fs/file.h"

namespace keel {

// F_GETOWN, F_SETOWN, F_GETOWN_EX, F_SETOWN_EX, F_GETSIG, F_SETSIG,
// F_GETLEASE and F_SETLEASE on `f`; `arg` is fcntl's third argument.
Result<u64> fcntl_owner(fs::OpenFile& f, int cmd, u64 arg);

}  // namespace keel
