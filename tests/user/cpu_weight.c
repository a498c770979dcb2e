/* cgroup v2 group scheduling: cpu.weight shares the CPU between cgroups, not
 * between their threads. One CPU under -icount (cpu_weight.qemu): spinners in
 * cgroups with cpu.weight 100 and 300 share 1:3 within 5%; a cgroup with two
 * spinners and one with one share 1:1 (the lone one gets half); a cpu.idle
 * cgroup gets next to nothing against a normal one. */
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

static void sleep_until(uint64_t t) {
    struct timespec ts = {(time_t)(t / 1000000000ull), (long)(t % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) {
    }
}

/* Runs one spinner per entry of dirs[] (a cgroup each) from `start` to
 * `start + secs`, and stores the CPU time each got in ns. */
static void race(const char *const *dirs, int n, double secs, double *cpu) {
    int fd[2];
    pipe(fd);
    uint64_t start = now_ns(CLOCK_MONOTONIC) + 200000000ull;
    uint64_t end = start + (uint64_t)(secs * 1e9);
    for (int i = 0; i < n; i++) {
        if (fork() == 0) {
            char procs[128];
            snprintf(procs, sizeof procs, "%s/cgroup.procs", dirs[i]);
            if (put(procs, "0")) printf("move into %s failed\n", dirs[i]);
            sleep_until(start);
            uint64_t c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
            while (now_ns(CLOCK_MONOTONIC) < end) {
            }
            double got[2] = {i, (double)(now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0)};
            write(fd[1], got, sizeof got);
            _exit(0);
        }
    }
    for (int i = 0; i < n; i++) {
        double got[2];
        read(fd[0], got, sizeof got);
        cpu[(int)got[0]] = got[1];
    }
    for (int i = 0; i < n; i++) wait(NULL);
    close(fd[0]);
    close(fd[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int verbose = getenv("VERBOSE") != NULL;
    sleep(3); /* Linux's kernel threads are busy for a while after boot */
    mkdir("/cg", 0755);
    printf("mount cgroup2: %s\n", mount("none", "/cg", "cgroup2", 0, NULL) == 0 ? "ok" : "failed");
    printf("enable cpu: %s\n", put("/cg/cgroup.subtree_control", "+cpu") == 0 ? "ok" : "failed");
    mkdir("/cg/a", 0755);
    mkdir("/cg/b", 0755);
    printf("cpu.weight 100 and 300: %s\n",
           put("/cg/a/cpu.weight", "100") == 0 && put("/cg/b/cpu.weight", "300") == 0 ? "ok" : "failed");

    double cpu[3];
    const char *ab[] = {"/cg/a", "/cg/b"};
    race(ab, 2, 3.0, cpu);
    double ratio = cpu[1] / cpu[0];
    printf("weights 100:300 share 1:3 within 5%%: %s\n", ratio > 2.85 && ratio < 3.15 ? "yes" : "no");
    if (verbose) printf("  ratio %.3f\n", ratio);

    /* Equal weights: the group of two gets as much as the group of one. */
    put("/cg/b/cpu.weight", "100");
    const char *aab[] = {"/cg/a", "/cg/a", "/cg/b"};
    race(aab, 3, 3.0, cpu);
    double lone = cpu[2] / (cpu[0] + cpu[1] + cpu[2]);
    printf("a lone spinner's group against a group of two gets half within 5%%: %s\n",
           lone > 0.475 && lone < 0.525 ? "yes" : "no");
    double pair = cpu[0] / cpu[1];
    printf("the two share their group's half 1:1 within 5%%: %s\n", pair > 0.95 && pair < 1.05 ? "yes" : "no");
    if (verbose) printf("  lone %.3f pair %.3f\n", lone, pair);

    /* cpu.idle: the group weighs as a SCHED_IDLE task (3 against 1024). */
    printf("cpu.idle 1: %s\n", put("/cg/b/cpu.idle", "1") == 0 ? "ok" : "failed");
    race(ab, 2, 2.0, cpu);
    double idle = cpu[1] / (cpu[0] + cpu[1]);
    printf("an idle group gets under 2%% against a normal one: %s\n", idle < 0.02 ? "yes" : "no");
    if (verbose) printf("  idle share %.4f\n", idle);

    printf("rmdir: %s\n", rmdir("/cg/a") == 0 && rmdir("/cg/b") == 0 ? "ok" : "failed");
    return 0;
}
