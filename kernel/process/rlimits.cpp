#include <linux/resource.h>

#include "kernel/process/process.h"
#include "mm/page_alloc.h"

namespace keel::proc {

void default_rlimits(RLimit (&l)[RLIMIT_COUNT]) {
    constexpr u64 INF = RLIM_INFINITY;
    for (auto& r : l) r = {INF, INF};
    l[RLIMIT_STACK] = {8 * MiB, INF};
    l[RLIMIT_CORE] = {0, INF};
    l[RLIMIT_NOFILE] = {1024, 4096};
    l[RLIMIT_MEMLOCK] = {8 * MiB, 8 * MiB};
    l[RLIMIT_MSGQUEUE] = {819200, 819200};
    l[RLIMIT_NICE] = {0, 0};
    l[RLIMIT_RTPRIO] = {0, 0};
    // Linux derives both from max_threads: a thread's share of memory,
    // (RAM pages / 8 thread-stack pages... ) / 2 for the per-user limit.
    u64 pages = mm::mem_stats().total_pages;
    u64 threads_max = pages * 4096 / (8 * 16384);  // totalram / (8 * THREAD_SIZE)
    if (threads_max < 20) threads_max = 20;
    l[RLIMIT_NPROC] = {threads_max / 2, threads_max / 2};
    l[RLIMIT_SIGPENDING] = {threads_max / 2, threads_max / 2};
}

}  // namespace keel::proc
