// Host-side hooks the portable code expects from its environment.
#include <cstdio>
#include <cstdlib>

#include "lib/result.h"

namespace keel {

void assert_failed(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "KASSERT failed: %s at %s:%d\n", expr, file, line);
    std::abort();
}

}  // namespace keel

namespace keel {

void* heap_alloc(usize size) { return std::calloc(1, size ? size : 1); }
void heap_free(void* p) { std::free(p); }

}  // namespace keel
