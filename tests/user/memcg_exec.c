/* execve() at memory.max: the new image is charged as it is built, and a
 * charge over the limit OOM-kills inside the group and builds it again, as
 * on Linux, instead of failing execve with ENOMEM. A hog holds 20M of the
 * group's 32M; another process fills the group to 16K below its limit and
 * execs. Linux kills the hog (and may kill the execing process too): what
 * the exec'd program says is not printed, only that execve did not fail
 * with ENOMEM. */
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

static void join(void) {
    char me[16];
    snprintf(me, sizeof me, "%d", getpid());
    put("/cg/e/cgroup.procs", me);
}

static void touch(long bytes) {
    if (bytes <= 0) return;
    char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (long off = 0; off < bytes; off += 4096) m[off] = 1;
}

int main(int argc, char **argv) {
    if (argc > 1) { /* the exec'd program: report through fd 3 */
        write(3, "R", 1);
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    mount_memory_cgroups();
    memory_group("e", "32M");
    int ready[2];
    pipe(ready);
    pid_t hog = fork();
    if (hog == 0) {
        join();
        touch(20 * MB);
        write(ready[1], "h", 1);
        for (;;) pause();
    }
    char c;
    read(ready[0], &c, 1);
    int res[2];
    pipe(res);
    pid_t ex = fork();
    if (ex == 0) {
        join();
        long max = num("/cg/e/memory.max");
        touch(max - num("/cg/e/memory.current") - 256 * 1024);
        touch(max - num("/cg/e/memory.current") - 16 * 1024);
        dup2(res[1], 3);
        execl("/init", "init", "child", (char *)NULL);
        write(3, errno == ENOMEM ? "N" : "E", 1);
        _exit(1);
    }
    close(res[1]);
    char got = '-';
    read(res[0], &got, 1);
    int st;
    waitpid(ex, &st, 0);
    pid_t w = waitpid(hog, &st, WNOHANG);
    printf("hog: %s\n", w == hog && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "killed by SIGKILL" : "alive");
    printf("memory.events oom_kill>=1: %s\n", key("/cg/e/memory.events", "oom_kill") >= 1 ? "yes" : "no");
    printf("execve failed with ENOMEM: %s\n", got == 'N' ? "yes" : "no");
    if (w != hog) {
        kill(hog, SIGKILL);
        waitpid(hog, &st, 0);
    }
    printf("rmdir: %s\n", rmdir("/cg/e") == 0 ? "ok" : "failed");

    /* A group too small for the new image (64K: it takes about 120K on
     * Linux): past the point of no return the process can only die, and it
     * does (the OOM killer's SIGKILL), without a hang. */
    memory_group("t", "max");
    pid_t small = fork();
    if (small == 0) {
        char me[16];
        snprintf(me, sizeof me, "%d", getpid());
        put("/cg/t/cgroup.procs", me);
        put("/cg/t/memory.max", "64K");
        execl("/init", "init", "child", (char *)NULL);
        _exit(errno == ENOMEM ? 3 : 4);
    }
    waitpid(small, &st, 0);
    printf("exec in a tiny group: %s\n", WIFSIGNALED(st) ? (WTERMSIG(st) == SIGKILL ? "killed by SIGKILL" : "killed")
                                         : WEXITSTATUS(st) == 3 ? "ENOMEM" : "exited");
    printf("rmdir: %s\n", rmdir("/cg/t") == 0 ? "ok" : "failed");
    return 0;
}
