// Kernel randomness: RDRAND/RDSEED where the CPU has them, otherwise a
// generator seeded from the TSC. Good enough for AT_RANDOM and getrandom's
// early callers; a proper entropy pool arrives with the crypto library.
#pragma once

#include "lib/types.h"

namespace keel {

void random_bytes(void* buf, usize n);

}  // namespace keel
