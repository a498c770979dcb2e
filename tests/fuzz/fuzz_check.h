// CHECK for the fuzz targets: a failed expectation aborts, which libFuzzer
// reports as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            std::fprintf(stderr, "CHECK failed: %s (line %d)\n", #cond, __LINE__); \
            std::abort();                                                          \
        }                                                                          \
    } while (0)

// For targets whose code uses KASSERT: a failed assertion is a crash too.
// Expands to the definition; use once per fuzzer, at namespace scope.
#define KEEL_FUZZ_ASSERT_HANDLER                                                   \
    namespace keel {                                                               \
    void assert_failed(const char* expr, const char* file, int line) {             \
        std::fprintf(stderr, "KASSERT failed: %s at %s:%d\n", expr, file, line);  \
        std::abort();                                                              \
    }                                                                              \
    }
