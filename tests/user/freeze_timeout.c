/* A timed wait across a cgroup freeze keeps its deadline: a futex wait and
 * a poll with 1 s timeouts, frozen from 0.2 s to 2.2 s, end at the thaw
 * (their deadline passed meanwhile), as Linux's restart block makes them.
 * Keel restarted them with their whole timeout, ending 1 s after the thaw. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_test.h"

static volatile uint64_t *ended; /* shared: ns from start to the wait's end, per child */
static uint32_t word;

static pid_t waiter(int which, uint64_t start) {
    pid_t pid = fork();
    if (pid) return pid;
    char me[16];
    snprintf(me, sizeof me, "%d", getpid());
    put("/cg/f/cgroup.procs", me);
    if (which == 0) {
        struct timespec t = {1, 0};
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &t, NULL, 0);
    } else {
        poll(NULL, 0, 1000);
    }
    ended[which] = now_ns(CLOCK_MONOTONIC) - start;
    _exit(0);
}

static const char *verdict(uint64_t ns) {
    if (ns < 2000000000ull) return "before the thaw";
    return ns < 2700000000ull ? "at the thaw" : "a timeout after the thaw";
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mkdir("/cg", 0755);
    printf("mount cgroup2: %s\n", mount("none", "/cg", "cgroup2", 0, NULL) == 0 ? "ok" : "failed");
    mkdir("/cg/f", 0755);
    ended = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t start = now_ns(CLOCK_MONOTONIC);
    pid_t a = waiter(0, start), b = waiter(1, start);
    usleep(200000);
    put("/cg/f/cgroup.freeze", "1");
    while (now_ns(CLOCK_MONOTONIC) - start < 2200000000ull) usleep(10000);
    put("/cg/f/cgroup.freeze", "0");
    waitpid(a, NULL, 0);
    waitpid(b, NULL, 0);
    printf("futex wait (1 s) frozen 0.2..2.2 s ended: %s\n", verdict(ended[0]));
    printf("poll (1 s) frozen 0.2..2.2 s ended: %s\n", verdict(ended[1]));
    if (getenv("VERBOSE")) printf("%.3f %.3f s\n", ended[0] / 1e9, ended[1] / 1e9);
    printf("rmdir: %s\n", rmdir("/cg/f") == 0 ? "ok" : "failed");
    return 0;
}
