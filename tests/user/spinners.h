/* Helpers shared by the load-balancing user tests (balance_busy,
 * balance_weight): CPU-bound children forked on CPU 0 and then allowed on
 * CPUs 0 and 1, and their CPU time from /proc/<pid>/stat. */
#pragma once
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

/* /proc mounted, the boot settled (Linux's kernel threads are busy for a
 * while after boot), and the caller on CPU 0, where its children start. */
static void start_on_cpu0(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    sleep(3);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof one, &one);
}

/* A child that spins at `nice`, allowed on CPUs 0 and 1. */
static pid_t fork_spinner(int nice) {
    pid_t pid = fork();
    if (pid) return pid;
    if (nice) setpriority(PRIO_PROCESS, 0, nice);
    cpu_set_t all;
    CPU_ZERO(&all);
    CPU_SET(0, &all);
    CPU_SET(1, &all);
    sched_setaffinity(0, sizeof all, &all);
    for (volatile unsigned long x = 0;; x++) {
    }
}
