// Uncached kernel mappings of device memory (MMIO).
#pragma once

#include "lib/result.h"

namespace keel {

// Maps [phys, phys+size) uncached; the mapping is never torn down (device
// registers live as long as the machine).
Result<void*> ioremap(u64 phys, usize size);

}  // namespace keel
