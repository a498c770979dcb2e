/* memory.high throttles whatever charges over it, not only page faults:
 * a write() that fills tmpfs past the limit pays on its way back to user
 * space and, a 64-page batch at a time, during the call, as on Linux (the
 * penalty grows with the overage and the pages charged over the limit; at
 * most 2 s a time). Keel used to throttle only after a page fault, so the
 * write returned at once. The sleeps are memory stalls: memory.pressure
 * counts them. No swap: Linux cannot
 * reclaim tmpfs pages either. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_test.h"

#define MB (1024L * 1024L)

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mount_memory_cgroups();
    memory_group("hw", "max");
    printf("memory.high 4M: %s\n", put("/cg/hw/memory.high", "4M") ? "failed" : "ok");
    mkdir("/t", 0755);
    printf("mount tmpfs: %s\n", mount("none", "/t", "tmpfs", 0, NULL) == 0 ? "ok" : "failed");
    pid_t pid = fork();
    if (pid == 0) {
        char *buf = malloc(6 * MB);  /* touched before joining the group */
        memset(buf, 'x', 6 * MB);
        int fd = open("/t/f", O_CREAT | O_WRONLY, 0644);
        char me[16];
        snprintf(me, sizeof me, "%d", getpid());
        if (put("/cg/hw/cgroup.procs", me)) printf("join: failed\n");
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(1, &one);
        sched_setaffinity(0, sizeof one, &one);  /* the parent moves it to CPU 0 while it is throttled */
        uint64_t t0 = now_ns(CLOCK_MONOTONIC);
        ssize_t n = write(fd, buf, 9 * MB / 2);
        uint64_t t1 = now_ns(CLOCK_MONOTONIC);
        printf("write returned %zd\n", n);
        printf("the write over memory.high took at least 0.5 s: %s\n", t1 - t0 >= 500000000ull ? "yes" : "no");
        printf("and at most 5 s: %s\n", t1 - t0 <= 5000000000ull ? "yes" : "no");
        _exit(0);
    }
    usleep(700000);
    cpu_set_t zero;
    CPU_ZERO(&zero);
    CPU_SET(0, &zero);
    sched_setaffinity(pid, sizeof zero, &zero);
    int st;
    waitpid(pid, &st, 0);
    printf("child exit: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    long high = key("/cg/hw/memory.events", "high");
    printf("memory.events high>0: %s, max %ld, oom %ld\n", high > 0 ? "yes" : "no", key("/cg/hw/memory.events", "max"),
           key("/cg/hw/memory.events", "oom"));
    /* The throttling sleeps were memory stalls (PSI). */
    char line[256] = {0};
    FILE *f = fopen("/cg/hw/memory.pressure", "r");
    if (f && fgets(line, sizeof line, f)) {
        char *total = strstr(line, "total=");
        printf("memory.pressure some total over 0.4 s: %s\n", total && atol(total + 6) > 400000 ? "yes" : "no");
    } else {
        printf("memory.pressure: unreadable\n");
    }
    if (f) fclose(f);
    /* A stalled thread that wakes on the other CPU takes its stall along
     * (Keel's PSI reports a count that would go below zero). */
    static char log[1 << 16];
    int n = klogctl(3, log, sizeof log - 1);
    log[n > 0 ? n : 0] = 0;
    printf("kernel log free of PSI underflows: %s\n", strstr(log, "underflow") ? "no" : "yes");
    long cur = num("/cg/hw/memory.current");
    printf("memory.current holds the 4.5M file (4.5M..5.5M): %s\n", cur >= 9 * MB / 2 && cur <= 11 * MB / 2 ? "yes" : "no");
    unlink("/t/f");
    umount("/t");
    printf("rmdir: %s\n", rmdir("/cg/hw") == 0 ? "ok" : "failed");
    return 0;
}
