/* fork() at memory.max: the page tables it copies are charged, and a
 * charge over the limit OOM-kills inside the group and tries again, as on
 * Linux, instead of failing fork with ENOMEM. A hog holds 20M of the
 * group's 32M; a sparse process holds a page and its page table every 2M
 * over 2G (about 8M): its fork needs about 4M more of page tables. Linux
 * kills the hog, and sometimes the forking process as well (its victim's
 * memory not yet gone when the charge is retried): what the forker saw is
 * not printed, only that it was not ENOMEM. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_test.h"

#define MB (1024L * 1024L)

static pid_t in_group(void (*body)(void)) {
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        char me[16];
        snprintf(me, sizeof me, "%d", getpid());
        put("/cg/f/cgroup.procs", me);
        body();
        char c = 1;
        write(p[1], &c, 1);
        for (;;) pause();
    }
    char c;
    close(p[1]);
    read(p[0], &c, 1);
    close(p[0]);
    return pid;
}

static char *volatile hog_mem;

static void hog(void) {
    hog_mem = malloc(20 * MB);
    memset(hog_mem, 1, 20 * MB);
}

/* How the sparse process's fork ended (a shared page: the process may be
 * the OOM killer's second victim, as on Linux, before it can tell). */
static volatile int *fork_result;  /* 0 unknown, 1 ok, 2 ENOMEM, 3 other error */

static void sparse(void) {
    size_t len = 2048 * MB;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    for (size_t off = 0; off < len; off += 2 * MB) m[off] = 1;
    pid_t c = fork();
    if (c == 0) _exit(7);
    *fork_result = c > 0 ? 1 : errno == ENOMEM ? 2 : 3;
    if (c > 0) waitpid(c, NULL, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mount_memory_cgroups();
    memory_group("f", "32M");
    fork_result = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t h = in_group(hog);
    long before = num("/cg/f/memory.current");
    printf("hog in: memory.current 19M..24M: %s\n", before >= 19 * MB && before <= 24 * MB ? "yes" : "no");
    pid_t s = in_group(sparse);
    int st;
    pid_t w = waitpid(h, &st, WNOHANG);
    printf("hog: %s\n", w == h && WIFSIGNALED(st) ? (WTERMSIG(st) == SIGKILL ? "killed by SIGKILL" : "killed") : "alive");
    printf("memory.events oom_kill>=1: %s\n", key("/cg/f/memory.events", "oom_kill") >= 1 ? "yes" : "no");
    printf("sparse's fork failed with ENOMEM: %s\n", *fork_result == 2 ? "yes" : "no");
    kill(s, SIGKILL);
    waitpid(s, &st, 0);
    if (w != h) {
        kill(h, SIGKILL);
        waitpid(h, &st, 0);
    }
    printf("rmdir: %s\n", rmdir("/cg/f") == 0 ? "ok" : "failed");
    return 0;
}
