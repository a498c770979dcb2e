/* A timed wait across a cgroup freeze keeps its deadline: a futex wait, a
 * poll and a nanosleep with 1 s timeouts, frozen from 0.2 s to 2.2 s, end at
 * the thaw (their deadline passed meanwhile), as Linux's restart block makes
 * them. Keel restarted them with their whole timeout, ending 1 s after the
 * thaw. epoll_wait has no restart block: it fails with EINTR at the thaw. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
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
static volatile int *result;     /* shared, after `ended`: what the call returned, or -errno */
static uint32_t word;

static pid_t waiter(int which, uint64_t start) {
    pid_t pid = fork();
    if (pid) return pid;
    char me[16];
    snprintf(me, sizeof me, "%d", getpid());
    put("/cg/f/cgroup.procs", me);
    struct timespec t = {1, 0};
    long r;
    if (which == 0) {
        r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &t, NULL, 0);
    } else if (which == 1) {
        r = poll(NULL, 0, 1000);
    } else if (which == 2) {
        r = nanosleep(&t, NULL);
    } else {
        struct epoll_event ev;
        r = epoll_wait(epoll_create1(0), &ev, 1, 1000);
    }
    result[which] = r < 0 ? -errno : (int)r;
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
    result = (volatile int *)(ended + 8);
    uint64_t start = now_ns(CLOCK_MONOTONIC);
    pid_t w[4];
    for (int i = 0; i < 4; i++) w[i] = waiter(i, start);
    usleep(200000);
    put("/cg/f/cgroup.freeze", "1");
    while (now_ns(CLOCK_MONOTONIC) - start < 2200000000ull) usleep(10000);
    put("/cg/f/cgroup.freeze", "0");
    for (int i = 0; i < 4; i++) waitpid(w[i], NULL, 0);
    static const char *names[] = {"futex wait", "poll", "nanosleep", "epoll_wait"};
    for (int i = 0; i < 4; i++) {
        printf("%s (1 s) frozen 0.2..2.2 s ended: %s, returning %s\n", names[i], verdict(ended[i]),
               result[i] == -ETIMEDOUT ? "ETIMEDOUT" : result[i] == -EINTR ? "EINTR" : result[i] ? "other" : "0");
        if (getenv("VERBOSE")) printf("%.3f s\n", ended[i] / 1e9);
    }
    printf("rmdir: %s\n", rmdir("/cg/f") == 0 ? "ok" : "failed");
    return 0;
}
