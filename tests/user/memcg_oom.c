/* cgroup v2 memory controller, enforced: memory.current and memory.peak
 * follow what a process touches (hierarchically) and drop when it exits;
 * tmpfs pages stay charged after their writer is gone, until unlinked;
 * memory.max OOM-kills the biggest process inside the group only (not a
 * sibling outside it), memory.oom.group kills the whole group, lowering
 * memory.max below the usage kills, memory.high counts "high" events.
 * Figures differ a little between kernels (Linux also charges kernel
 * memory and charges in batches): they are printed as buckets. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_test.h"

#define MB (1024L * 1024L)

static int verbose;

static const char *yes(int b) { return b ? "yes" : "no"; }

static int near(long v, long want) { return v >= want - want / 10 && v <= want + want / 10; }

static void show(const char *what, long v) {
    if (verbose) printf("  %s %ld\n", what, v);
}

static void touch(long bytes) {
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(2);
    for (long i = 0; i < bytes; i += 4096) p[i] = 1;
}

/* A child in cgroup `dir` that touches `bytes`, tells the parent through
 * `ready` (one byte) and waits for a byte on `go` before exiting 0. */
static pid_t worker(const char *dir, long bytes, int ready, int go) {
    pid_t pid = fork();
    if (pid) return pid;
    char procs[128];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
    if (dir[0] && put(procs, "0")) _exit(3);
    touch(bytes);
    char c = 1;
    write(ready, &c, 1);
    read(go, &c, 1);
    _exit(0);
}

static const char *how(int status) {
    static char buf[32];
    if (WIFSIGNALED(status)) snprintf(buf, sizeof buf, "signal %d", WTERMSIG(status));
    else snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(status));
    return buf;
}

static void accounting(void) {
    mkdir("/cg/acct", 0755);
    printf("acct: enable memory below: %s\n", put("/cg/acct/cgroup.subtree_control", "+memory") ? "failed" : "ok");
    mkdir("/cg/acct/leaf", 0755);
    int r[2], g[2];
    pipe(r);
    pipe(g);
    pid_t pid = fork();
    if (pid == 0) {
        put("/cg/acct/leaf/cgroup.procs", "0");
        char c = 1;
        write(r[1], &c, 1);
        read(g[0], &c, 1);
        touch(8 * MB);
        write(r[1], &c, 1);
        read(g[0], &c, 1);
        _exit(0);
    }
    char c = 1;
    read(r[0], &c, 1);
    long leaf0 = num("/cg/acct/leaf/memory.current"), top0 = num("/cg/acct/memory.current");
    write(g[1], &c, 1);
    read(r[0], &c, 1);
    long leaf1 = num("/cg/acct/leaf/memory.current"), top1 = num("/cg/acct/memory.current");
    long anon = key("/cg/acct/leaf/memory.stat", "anon");
    show("leaf before", leaf0);
    show("leaf after", leaf1);
    show("parent after", top1);
    show("anon", anon);
    printf("acct: memory.current grows by 8M (within 10%%): %s\n", yes(near(leaf1 - leaf0, 8 * MB)));
    printf("acct: the parent's grows as much: %s\n", yes(near(top1 - top0, 8 * MB)));
    printf("acct: memory.stat anon is 8M (within 10%%): %s\n", yes(near(anon, 8 * MB)));
    write(g[1], &c, 1);
    int st;
    waitpid(pid, &st, 0);
    long leaf2 = num("/cg/acct/leaf/memory.current"), top2 = num("/cg/acct/memory.current");
    show("leaf after exit", leaf2);
    printf("acct: the child exits: %s\n", how(st));
    printf("acct: memory.current drops below 1M after exit: %s\n", yes(leaf2 < MB && top2 < MB));
    long peak = num("/cg/acct/leaf/memory.peak");
    show("peak", peak);
    printf("acct: memory.peak at least 8M: %s\n", yes(peak >= 8 * MB));
    printf("acct: memory.events oom_kill %ld, max %ld\n", key("/cg/acct/leaf/memory.events", "oom_kill"),
           key("/cg/acct/leaf/memory.events", "max"));
    close(r[0]), close(r[1]), close(g[0]), close(g[1]);
    rmdir("/cg/acct/leaf");
    printf("acct: rmdir: %s\n", rmdir("/cg/acct") ? "failed" : "ok");
}

static void shmem(void) {
    mkdir("/tmp", 01777);
    mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
    mkdir("/cg/shm", 0755);
    pid_t pid = fork();
    if (pid == 0) {
        put("/cg/shm/cgroup.procs", "0");
        int fd = open("/tmp/f", O_CREAT | O_WRONLY, 0600);
        static char chunk[64 * 1024];
        memset(chunk, 7, sizeof chunk);
        for (int i = 0; i < 64; i++) write(fd, chunk, sizeof chunk);
        close(fd);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    long cur = num("/cg/shm/memory.current");
    long sh = key("/cg/shm/memory.stat", "shmem"), file = key("/cg/shm/memory.stat", "file");
    show("shm current", cur);
    show("shm shmem", sh);
    printf("shm: 4M written to tmpfs stay charged after the writer exits: %s\n", yes(near(cur, 4 * MB)));
    printf("shm: memory.stat shmem and file are 4M: %s\n", yes(near(sh, 4 * MB) && near(file, 4 * MB)));
    unlink("/tmp/f");
    cur = num("/cg/shm/memory.current");
    show("shm after unlink", cur);
    printf("shm: unlinked, memory.current below 1M: %s\n", yes(cur < MB));
    rmdir("/cg/shm");
}

static void oom(void) {
    mkdir("/cg/lim", 0755);
    printf("lim: memory.max 32M: %s\n", put("/cg/lim/memory.max", "32M") ? "failed" : "ok");
    put("/cg/lim/memory.swap.max", "0");
    printf("lim: memory.max reads %ld\n", num("/cg/lim/memory.max"));
    /* A sibling outside the group holds 16M. */
    int r[2], g[2];
    pipe(r);
    pipe(g);
    pid_t sib = worker("", 16 * MB, r[1], g[0]);
    char c;
    read(r[0], &c, 1);
    /* memory.events is pollable: POLLPRI once it changed since read. */
    int efd = open("/cg/lim/memory.events", O_RDONLY);
    char ebuf[256];
    read(efd, ebuf, sizeof ebuf);
    struct pollfd pfd = {efd, POLLPRI, 0};
    printf("lim: memory.events polls quiet before: %s\n", yes(poll(&pfd, 1, 0) == 0));
    /* The hog touches 64M in the group. */
    pid_t hog = worker("/cg/lim", 64 * MB, r[1], g[0]);
    int st;
    waitpid(hog, &st, 0);
    printf("lim: the hog (64M) ends by: %s\n", how(st));
    pfd.revents = 0;
    printf("lim: memory.events polls POLLPRI after the OOM kill: %s\n",
           yes(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLPRI)));
    close(efd);
    write(g[1], &c, 1);
    waitpid(sib, &st, 0);
    printf("lim: the sibling outside (16M) ends by: %s\n", how(st));
    const char *ev = "/cg/lim/memory.events";
    printf("lim: memory.events oom_kill %ld, oom>0 %s, max>0 %s, oom_group_kill %ld\n", key(ev, "oom_kill"),
           yes(key(ev, "oom") > 0), yes(key(ev, "max") > 0), key(ev, "oom_group_kill"));
    ev = "/cg/lim/memory.events.local";
    printf("lim: memory.events.local oom_kill %ld, oom>0 %s\n", key(ev, "oom_kill"), yes(key(ev, "oom") > 0));
    long peak = num("/cg/lim/memory.peak");
    show("lim peak", peak);
    printf("lim: memory.peak near the limit (30M..32M): %s\n", yes(peak >= 30 * MB && peak <= 32 * MB));
    printf("lim: memory.current below 1M afterwards: %s\n", yes(num("/cg/lim/memory.current") < MB));
    close(r[0]), close(r[1]), close(g[0]), close(g[1]);
    rmdir("/cg/lim");
}

static void oom_group(void) {
    mkdir("/cg/grp", 0755);
    put("/cg/grp/memory.max", "32M");
    put("/cg/grp/memory.swap.max", "0");
    printf("grp: memory.oom.group 1: %s\n", put("/cg/grp/memory.oom.group", "1") ? "failed" : "ok");
    int r[2], g[2];
    pipe(r);
    pipe(g);
    pid_t a = worker("/cg/grp", 1 * MB, r[1], g[0]);
    pid_t b = worker("/cg/grp", 2 * MB, r[1], g[0]);
    char c;
    read(r[0], &c, 1);
    read(r[0], &c, 1);
    pid_t hog = worker("/cg/grp", 64 * MB, r[1], g[0]);
    int sa, sb, sh;
    waitpid(hog, &sh, 0);
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    printf("grp: the hog ends by %s, the others by %s and %s\n", how(sh), how(sa), how(sb));
    const char *ev = "/cg/grp/memory.events";
    printf("grp: memory.events oom_kill>=3 %s, oom_group_kill %ld\n", yes(key(ev, "oom_kill") >= 3),
           key(ev, "oom_group_kill"));
    close(r[0]), close(r[1]), close(g[0]), close(g[1]);
    rmdir("/cg/grp");
}

static void lower_max(void) {
    mkdir("/cg/low", 0755);
    put("/cg/low/memory.swap.max", "0");
    int r[2], g[2];
    pipe(r);
    pipe(g);
    pid_t pid = worker("/cg/low", 16 * MB, r[1], g[0]);
    char c;
    read(r[0], &c, 1);
    printf("low: memory.max 8M below 16M in use: %s\n", put("/cg/low/memory.max", "8M") ? "failed" : "ok");
    int st;
    waitpid(pid, &st, 0);
    printf("low: the process ends by %s\n", how(st));
    printf("low: memory.events oom_kill %ld, oom>0 %s\n", key("/cg/low/memory.events", "oom_kill"),
           yes(key("/cg/low/memory.events", "oom") > 0));
    close(r[0]), close(r[1]), close(g[0]), close(g[1]);
    rmdir("/cg/low");
}

static void high(void) {
    mkdir("/cg/hi", 0755);
    printf("hi: memory.high 8M: %s\n", put("/cg/hi/memory.high", "8M") ? "failed" : "ok");
    int r[2], g[2];
    pipe(r);
    pipe(g);
    pid_t pid = worker("/cg/hi", 8 * MB + 512 * 1024, r[1], g[0]);
    char c = 1;
    read(r[0], &c, 1);
    const char *ev = "/cg/hi/memory.events";
    printf("hi: memory.events high>0 %s, max %ld, oom %ld\n", yes(key(ev, "high") > 0), key(ev, "max"),
           key(ev, "oom"));
    write(g[1], &c, 1);
    int st;
    waitpid(pid, &st, 0);
    printf("hi: the process ends by %s\n", how(st));
    close(r[0]), close(r[1]), close(g[0]), close(g[1]);
    rmdir("/cg/hi");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    verbose = getenv("VERBOSE") != NULL;
    mount_memory_cgroups();
    accounting();
    shmem();
    oom();
    oom_group();
    lower_max();
    high();
    printf("done\n");
    return 0;
}
