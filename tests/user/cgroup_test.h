/* Helpers shared by the cgroup user tests (cpu_max, cpu_weight, memcg_*):
 * writing a cgroup file, reading a number or a keyed value from one, and
 * a clock in ns. Each test is still one program; this is only included. */
#pragma once
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Writes `text` to `path` in one write; 0 on success, -1 else. */
static inline int put(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    int r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
    close(fd);
    return r;
}

/* The number a one-value file (memory.current, cpu.weight) holds; -1 if unreadable. */
static inline long num(const char *path) {
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    read(fd, buf, sizeof buf - 1);
    close(fd);
    return atol(buf);
}

/* The value of `k` in a flat keyed file (cpu.stat, memory.events, memory.stat); -1 if absent. */
static inline long key(const char *path, const char *k) {
    char buf[8192] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    read(fd, buf, sizeof buf - 1);
    close(fd);
    size_t n = strlen(k);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, k, n) && line[n] == ' ') return atol(line + n + 1);
    return -1;
}

static inline uint64_t now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Moves the calling process into /cg/NAME. */
static inline void join_group(const char *name) {
    char path[64], me[16];
    snprintf(path, sizeof path, "/cg/%s/cgroup.procs", name);
    snprintf(me, sizeof me, "%d", getpid());
    put(path, me);
}

/* Mounts cgroup2 on /cg and enables the memory controller for its
 * children, printing both outcomes (the memcg tests' first two lines). */
static inline void mount_memory_cgroups(void) {
    mkdir("/cg", 0755);
    printf("mount cgroup2: %s\n", mount("none", "/cg", "cgroup2", 0, NULL) == 0 ? "ok" : "failed");
    printf("enable memory: %s\n", put("/cg/cgroup.subtree_control", "+memory") == 0 ? "ok" : "failed");
}

/* Makes /cg/NAME with memory.max `max` and no swap (so that Linux cannot
 * swap where Keel has nothing to reclaim). */
static inline void memory_group(const char *name, const char *max) {
    char path[128];
    snprintf(path, sizeof path, "/cg/%s", name);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "/cg/%s/memory.swap.max", name);
    put(path, "0");
    snprintf(path, sizeof path, "/cg/%s/memory.max", name);
    put(path, max);
}
