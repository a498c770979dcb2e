/* Load balancing by weight, not by count: a nice -10 CPU-bound process and
 * two nice-0 ones, forked on one CPU of two (balance_weight.qemu: two CPUs).
 * Linux leaves the heavy one a CPU of its own and the light ones share the
 * other, half a CPU each. Keel balanced thread counts, and 2:1 was already
 * even: the heavy one shared its CPU with a light one (0.91 and 0.10 of it)
 * while the other light one had a CPU to itself. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 3

static double cpu_seconds(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    /* fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    return (utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    sleep(3); /* Linux's kernel threads are busy for a while after boot */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof one, &one); /* fork them all on CPU 0 */
    static const int nices[N] = {-10, 0, 0};
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            setpriority(PRIO_PROCESS, 0, nices[i]);
            cpu_set_t all;
            CPU_ZERO(&all);
            CPU_SET(0, &all);
            CPU_SET(1, &all);
            sched_setaffinity(0, sizeof all, &all);
            for (volatile unsigned long x = 0;; x++) {
            }
        }
    }
    sleep(1); /* placement settles */
    double t0[N], t[N];
    for (int i = 0; i < N; i++) t0[i] = cpu_seconds(kids[i]);
    struct timespec d = {3, 0};
    nanosleep(&d, NULL);
    for (int i = 0; i < N; i++) t[i] = (cpu_seconds(kids[i]) - t0[i]) / 3.0;
    for (int i = 0; i < N; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < N; i++) waitpid(kids[i], NULL, 0);
    printf("nice -10 has a CPU to itself (over 0.85 of one): %s\n", t[0] > 0.85 ? "yes" : "no");
    int halves = t[1] > 0.35 && t[1] < 0.65 && t[2] > 0.35 && t[2] < 0.65;
    printf("the two nice-0 ones share the other (0.35..0.65 each): %s\n", halves ? "yes" : "no");
    if (getenv("VERBOSE") || t[0] <= 0.85 || !halves) printf("cpus: %.2f %.2f %.2f\n", t[0], t[1], t[2]);
    return 0;
}
