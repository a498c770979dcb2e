/* Pipe buffers are kernel memory charged to the writer's memory cgroup,
 * as on Linux: full pipes show in memory.current and memory.stat's
 * "kernel", empty ones cost next to nothing, and a process that fills
 * pipes past memory.max meets the group's OOM killer instead of taking
 * the machine's memory (Keel used to leave pipe buffers uncharged). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_test.h"

#define MB (1024L * 1024L)
#define PIPES 64

static const char *yes(int b) { return b ? "yes" : "no"; }

/* Fills a new pipe with 64K; its descriptors stay open. -1 when pipe() or
 * the write failed. */
static long fill_pipe(void) {
    static char chunk[65536];
    int p[2];
    if (pipe2(p, O_NONBLOCK) < 0) return -1;
    ssize_t n = write(p[1], chunk, sizeof chunk);
    return n;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mount_memory_cgroups();
    memory_group("p", "max");
    memory_group("q", "16M");
    int ready[2], go[2];
    pipe(ready);
    pipe(go);

    /* In p: 256 empty pipes, then 64 full ones, then all closed. */
    pid_t c = fork();
    if (c == 0) {
        join_group("p");
        char b = 0;
        long base = num("/cg/p/memory.current");
        int fds[512];
        for (int i = 0; i < 256; i++) pipe(fds + 2 * i);
        printf("256 empty pipes: memory.current up less than 2M: %s\n", yes(num("/cg/p/memory.current") - base < 2 * MB));
        for (int i = 0; i < 512; i++) close(fds[i]);
        base = num("/cg/p/memory.current");
        long kbase = key("/cg/p/memory.stat", "kernel");
        int ok = 1;
        for (int i = 0; i < PIPES; i++) ok &= fill_pipe() == 65536;
        long grew = num("/cg/p/memory.current") - base, kgrew = key("/cg/p/memory.stat", "kernel") - kbase;
        printf("%d full pipes: writes ok: %s\n", PIPES, yes(ok));
        printf("memory.current up at least 4M (64 x 64K): %s\n", yes(grew >= PIPES * 65536L));
        printf("memory.stat kernel up at least 4M: %s\n", yes(kgrew >= PIPES * 65536L));
        write(ready[1], &b, 1);
        read(go[0], &b, 1);
        _exit(0);
    }
    char b;
    read(ready[0], &b, 1);
    long full = num("/cg/p/memory.current");
    write(go[1], &b, 1);
    int st;
    waitpid(c, &st, 0);
    printf("after exit: memory.current down at least 4M: %s\n", yes(full - num("/cg/p/memory.current") >= PIPES * 65536L));

    /* In q (16M): filling pipes up to 2000 descriptors (62M) ends in the
     * OOM killer. */
    c = fork();
    if (c == 0) {
        join_group("q");
        struct rlimit rl = {2048, 2048};
        setrlimit(RLIMIT_NOFILE, &rl);
        for (int i = 0; i < 1000; i++)
            if (fill_pipe() != 65536) _exit(errno == ENOMEM ? 3 : 4);
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("filling pipes past memory.max: %s\n", WIFSIGNALED(st) ? (WTERMSIG(st) == SIGKILL ? "killed by SIGKILL" : "killed")
                                                  : WEXITSTATUS(st) == 0 ? "all written"
                                                  : WEXITSTATUS(st) == 3 ? "ENOMEM" : "failed");
    printf("memory.events oom_kill>=1: %s\n", yes(key("/cg/q/memory.events", "oom_kill") >= 1));
    printf("memory.current below 1M after: %s\n", yes(num("/cg/q/memory.current") < MB));
    printf("rmdir: %s %s\n", rmdir("/cg/p") == 0 ? "ok" : "failed", rmdir("/cg/q") == 0 ? "ok" : "failed");
    return 0;
}
