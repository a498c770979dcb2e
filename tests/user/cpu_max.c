/* cgroup v2 cpu.max enforced: a spinning process in a cgroup limited to
 * "50000 100000" gets half a CPU (within 5%), and cpu.stat counts the
 * throttled periods. One CPU under -icount (cpu_max.qemu). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_test.h"

/* The "total=" figure (us) of a pressure file's "some" or "full" line. */
static long pressure_total(const char *path, const char *line) {
    char buf[512] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    read(fd, buf, sizeof buf - 1);
    close(fd);
    char *p = strstr(buf, line);
    p = p ? strstr(p, "total=") : NULL;
    return p ? atol(p + 6) : -1;
}

/* Spins `secs` seconds in cgroup `dir` and returns its share of the CPU. */
static double spin_in(const char *dir, double secs) {
    int fd[2];
    pipe(fd);
    if (fork() == 0) {
        char procs[128];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
        put(procs, "0");
        uint64_t t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        uint64_t end = t0 + (uint64_t)(secs * 1e9);
        while (now_ns(CLOCK_MONOTONIC) < end) {
        }
        double share = (double)(now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)(now_ns(CLOCK_MONOTONIC) - t0);
        write(fd[1], &share, sizeof share);
        _exit(0);
    }
    double share = 0;
    read(fd[0], &share, sizeof share);
    wait(NULL);
    close(fd[0]);
    close(fd[1]);
    return share;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    sleep(3); /* Linux's kernel threads are busy for a while after boot */
    mkdir("/cg", 0755);
    printf("mount cgroup2: %s\n", mount("none", "/cg", "cgroup2", 0, NULL) == 0 ? "ok" : "failed");
    printf("enable cpu: %s\n", put("/cg/cgroup.subtree_control", "+cpu") == 0 ? "ok" : "failed");
    mkdir("/cg/half", 0755);
    printf("cpu.max 50000 100000: %s\n", put("/cg/half/cpu.max", "50000 100000") == 0 ? "ok" : "failed");
    long full0 = pressure_total("/cg/half/cpu.pressure", "full");
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    double share = spin_in("/cg/half", 2.0);
    double full = (double)(pressure_total("/cg/half/cpu.pressure", "full") - full0) * 1000.0 /
                  (double)(now_ns(CLOCK_MONOTONIC) - t0);
    printf("a spinner in it gets 50%% of the CPU within 5%%: %s\n", share > 0.45 && share < 0.55 ? "yes" : "no");
    if (getenv("VERBOSE")) printf("  share %.3f\n", share);
    /* Linux counts a throttled group's waiting as cpu pressure: "full",
     * since no task of the group runs meanwhile. */
    printf("throttled time shows as cpu.pressure full (35-65%% of the run): %s\n", full > 0.35 && full < 0.65 ? "yes" : "no");
    if (getenv("VERBOSE")) printf("  full %.3f\n", full);
    long thr = key("/cg/half/cpu.stat", "nr_throttled");
    long per = key("/cg/half/cpu.stat", "nr_periods");
    printf("cpu.stat counts throttled periods (15-21 of 15-22): %s\n",
           thr >= 15 && thr <= 21 && per >= 15 && per <= 22 ? "yes" : "no");
    if (getenv("VERBOSE")) printf("  nr_throttled %ld nr_periods %ld\n", thr, per);
    printf("cpu.max max 100000: %s\n", put("/cg/half/cpu.max", "max") == 0 ? "ok" : "failed");
    share = spin_in("/cg/half", 0.5);
    printf("without a limit the spinner gets the whole CPU: %s\n", share > 0.95 ? "yes" : "no");
    printf("rmdir: %s\n", rmdir("/cg/half") == 0 ? "ok" : "failed");
    return 0;
}
