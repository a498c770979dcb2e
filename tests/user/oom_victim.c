/* The memory cgroup's OOM killer and oom_score_adj: in a group limited to
 * 32M, a big process (20M, growing by 10M) and a small one (4M, idle).
 * Left alone the big one is killed; with oom_score_adj -1000 it never is
 * and the small one goes instead; so with the small one at 1000, or the
 * big one at -900 (badness: pages + adj * limit pages / 1000).
 * Linux 6.12 sometimes kills the big one as well once the small one is
 * gone: its exit hides it from the OOM killer (MMF_OOM_SKIP) before its
 * pages are uncharged, and the big one's fault, still retrying, sees no
 * room and picks again. Where the big one is eligible after the small one
 * ("prefer", "lean"), only the small one's fate is printed exactly. */
#define _GNU_SOURCE
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

static const char *how(int status) {
    static char buf[2][32];
    static int n;
    char *b = buf[n++ & 1];
    if (WIFSIGNALED(status)) snprintf(b, 32, "signal %d", WTERMSIG(status));
    else snprintf(b, 32, "exit %d", WEXITSTATUS(status));
    return b;
}

static void touch(long bytes) {
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(2);
    for (long i = 0; i < bytes; i += 4096) p[i] = 1;
}

/* A child in /cg/NAME with oom_score_adj `adj` that touches `first`, says
 * so on `ready`, then, given a byte on `go`, touches `then` and exits 0. */
static pid_t hog(const char *name, const char *adj, long first, long then, int ready, int go) {
    pid_t pid = fork();
    if (pid) return pid;
    char path[64];
    snprintf(path, sizeof path, "/cg/%s/cgroup.procs", name);
    char c = 1;
    if (put(path, "0") || put("/proc/self/oom_score_adj", adj)) {
        c = 0; /* the parent reports it and gives up */
        write(ready, &c, 1);
        _exit(3);
    }
    touch(first);
    write(ready, &c, 1);
    if (read(go, &c, 1) != 1) _exit(5);
    touch(then);
    _exit(0);
}

static void scenario(const char *name, const char *big_adj, const char *small_adj, int second_kill_possible) {
    char path[64];
    memory_group(name, "32M");
    int ready[2], go_big[2], go_small[2];
    pipe(ready);
    pipe(go_big);
    pipe(go_small);
    char c = 1;
    pid_t small = hog(name, small_adj, 4 * MB, 0, ready[1], go_small[0]);
    pid_t big = hog(name, big_adj, 20 * MB, 10 * MB, ready[1], go_big[0]);
    char c1 = 0, c2 = 0;
    read(ready[0], &c1, 1);
    read(ready[0], &c2, 1);
    if (!c1 || !c2) {
        printf("%s: a child could not join its group or set oom_score_adj\n", name);
        exit(1);
    }
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", big);
    long adj = num(path);
    snprintf(path, sizeof path, "/proc/%d/oom_score", big);
    long score = num(path);
    printf("%s: big oom_score_adj %ld, oom_score %s\n", name, adj,
           adj == -1000 ? (score == 0 ? "0" : "not 0") : (score > 0 ? "above 0" : "0"));
    write(go_big[1], &c, 1); /* the big one grows past the limit */
    int sb, ss;
    waitpid(big, &sb, 0);
    kill(small, SIGTERM); /* a survivor ends by SIGTERM; a victim by its SIGKILL */
    waitpid(small, &ss, 0);
    snprintf(path, sizeof path, "/cg/%s/memory.events", name);
    long kills = key(path, "oom_kill");
    if (!second_kill_possible)
        printf("%s: big (%s) ends by %s, small (%s) by %s, oom_kill %ld\n", name, big_adj, how(sb), small_adj,
               how(ss), kills);
    else
        printf("%s: small (%s) ends by %s; big (%s) survives, or is the second kill: %s\n", name, small_adj, how(ss),
               big_adj,
               (WIFEXITED(sb) && WEXITSTATUS(sb) == 0 && kills == 1) ||
                       (WIFSIGNALED(sb) && WTERMSIG(sb) == SIGKILL && kills == 2)
                   ? "yes"
                   : "no");
    close(ready[0]), close(ready[1]), close(go_big[0]), close(go_big[1]), close(go_small[0]), close(go_small[1]);
    snprintf(path, sizeof path, "/cg/%s", name);
    rmdir(path);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    mount_memory_cgroups();
    scenario("plain", "0", "0", 0);
    scenario("never", "-1000", "0", 0);
    scenario("prefer", "0", "1000", 1);
    scenario("lean", "-900", "0", 1);
    printf("done\n");
    return 0;
}
