// Per-thread FPU/SSE/AVX state for user threads, saved and restored with
// XSAVE (FXSAVE where the CPU lacks XSAVE). The kernel itself is built
// without SSE, so the state only changes hands at context switches.
#pragma once

#include "lib/result.h"

namespace keel::arch {

// Enables SSE and XSAVE on this CPU and sets XCR0. Every CPU, at boot.
void fpu_init_cpu();
// Size of a state area (64-byte aligned allocations are required).
usize fpu_state_size();

// A state area in its initial state (x87 control word 0x37f, MXCSR 0x1f80).
Result<void*> fpu_state_alloc();
void fpu_state_free(void* area);
void fpu_state_copy(void* dst, const void* src);
void fpu_save(void* area);
// The XSAVE features in use (XCR0), as the signal frame reports them.
u64 fpu_xfeatures();
// Makes a state image from user memory safe to restore: reserved MXCSR
// bits, unknown features and the compacted-format flag are cleared.
void fpu_sanitize(void* area);
void fpu_restore(const void* area);

}  // namespace keel::arch
