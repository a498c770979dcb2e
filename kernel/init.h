#pragma once

namespace keel {

// Starts the first kernel thread, which runs the in-kernel tests (ktest=)
// or goes on to start init.
void start_kernel_threads();

}  // namespace keel
