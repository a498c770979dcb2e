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

namespace keel::test {

// Allocation failure injection for ENOMEM tests: while non-negative, the
// number of heap_alloc calls that may still succeed; once it reaches zero
// every further call fails, until a test sets it back to -1.
long g_alloc_budget = -1;

}  // namespace keel::test

namespace keel {

void* heap_alloc(usize size) {
    long& budget = test::g_alloc_budget;
    if (budget >= 0) {
        if (budget == 0) return nullptr;
        --budget;
    }
    return std::calloc(1, size ? size : 1);
}
void* heap_alloc_accounted(usize size) { return heap_alloc(size); }
void heap_free(void* p) { std::free(p); }

}  // namespace keel
