// Helpers shared by the host unit tests.
#pragma once

namespace keel::test {

// A lock that only counts: shows how often portable code takes the lock it
// is handed.
struct CountingLock {
    int locks = 0;
    int unlocks = 0;
    void lock() { ++locks; }
    void unlock() { ++unlocks; }
};

}  // namespace keel::test
