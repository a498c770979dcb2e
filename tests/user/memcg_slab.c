/* Kernel objects a program makes the kernel keep are charged to its memory
 * cgroup, as Linux charges its accounted slab caches: mappings (VMAs),
 * open files with their inodes and dentries, epoll items. They show in
 * memory.stat's slab and kernel and in memory.current, go when freed, and
 * at memory.max a process piling up mappings meets the group's OOM killer
 * (Keel used to leave them uncharged: unlimited kernel memory from inside
 * any group). Sizes differ between the kernels, and Linux moves
 * memory.current in batches of 64 pages and memory.stat a flush late, so
 * the figures are printed as bounds of a megabyte or more both meet. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_test.h"

#define KB 1024L
#define MB (1024L * 1024L)
#define MAPS 20000
#define FILES 4000
#define ITEMS 900
#define EPOLLS 8

static const char *yes(int b) { return b ? "yes" : "no"; }
static int verbose;

struct figures {
    long current, slab, kernel;
};

static struct figures now(void) {
    struct figures f = {num("/cg/s/memory.current"), key("/cg/s/memory.stat", "slab"),
                        key("/cg/s/memory.stat", "kernel")};
    return f;
}

/* Linux frees dentries, inodes and epoll items after an RCU grace period:
 * a moment before measuring what a free gave back. */
static void settle(void) { usleep(300 * 1000); }

/* What grew since `before`, with a line when VERBOSE is set. */
static struct figures grown(const char *what, struct figures before) {
    struct figures f = now();
    struct figures d = {f.current - before.current, f.slab - before.slab, f.kernel - before.kernel};
    if (verbose) printf("  %s: current %+ld slab %+ld kernel %+ld\n", what, d.current, d.slab, d.kernel);
    return d;
}

/* One page mapped at a time, alternately readable and not, so that no two
 * neighbours merge: one VMA each. */
static int map_many(void **maps, int n) {
    for (int i = 0; i < n; i++) {
        maps[i] = mmap(NULL, 4096, i % 2 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (maps[i] == MAP_FAILED) return i;
    }
    return n;
}

static void in_group(void) {
    join_group("s");
    static void *maps[MAPS];

    struct figures base = now();
    int made = map_many(maps, MAPS);
    struct figures d = grown("mappings", base);
    printf("%d mappings made: %s\n", MAPS, yes(made == MAPS));
    printf("mappings: memory.stat slab up at least 1M: %s\n", yes(d.slab >= MB));
    printf("mappings: kernel and memory.current up at least as much: %s\n",
           yes(d.kernel >= d.slab - 64 * KB && d.current >= d.slab - 64 * KB));
    base = now();
    for (int i = 0; i < made; i++) munmap(maps[i], 4096);
    settle();
    d = grown("unmapped", base);
    printf("unmapped: memory.current down at least 1M: %s\n", yes(-d.current >= MB));

    /* Files in a tmpfs of its own: an inode and a dentry each. */
    mkdir("/mnt", 0755);
    mount("none", "/mnt", "tmpfs", 0, NULL);
    base = now();
    int ok = 1;
    for (int i = 0; i < FILES; i++) {
        char name[32];
        snprintf(name, sizeof name, "/mnt/f%d", i);
        int fd = open(name, O_RDWR | O_CREAT, 0600);
        ok &= fd >= 0;
        close(fd);
    }
    d = grown("files", base);
    printf("%d tmpfs files made: %s\n", FILES, yes(ok));
    printf("files: memory.current up at least 1M: %s\n", yes(d.current >= MB));
    base = now();
    for (int i = 0; i < FILES; i++) {
        char name[32];
        snprintf(name, sizeof name, "/mnt/f%d", i);
        unlink(name);
    }
    settle();
    d = grown("unlinked", base);
    printf("unlinked: memory.current down at least 1M: %s\n", yes(-d.current >= MB));
    umount("/mnt");

    /* Epoll items: one eventfd under many descriptors in several epoll
     * instances, each pair an item of its own. */
    int ev = eventfd(0, 0), ep[EPOLLS];
    static int dups[ITEMS];
    for (int i = 0; i < ITEMS; i++) dups[i] = dup(ev);
    base = now();
    ok = 1;
    for (int j = 0; j < EPOLLS; j++) {
        ep[j] = epoll_create1(0);
        for (int i = 0; i < ITEMS; i++) {
            struct epoll_event e = {.events = EPOLLIN, .data.fd = dups[i]};
            ok &= epoll_ctl(ep[j], EPOLL_CTL_ADD, dups[i], &e) == 0;
        }
    }
    d = grown("epoll items", base);
    printf("%d epoll items: %s\n", ITEMS * EPOLLS, yes(ok));
    printf("epoll items: memory.current up at least 512K: %s\n", yes(d.current >= 512 * KB));
    base = now();
    for (int j = 0; j < EPOLLS; j++) close(ep[j]);
    settle();
    d = grown("epoll closed", base);
    printf("epoll closed: memory.current down at least 512K: %s\n", yes(-d.current >= 512 * KB));
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    verbose = getenv("VERBOSE") != NULL;
    mount_memory_cgroups();
    memory_group("s", "max");
    memory_group("t", "4M");

    pid_t c = fork();
    if (c == 0) {
        in_group();
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("in group: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "exit 0" : "failed");
    settle();
    printf("after exit: memory.current below 1M: %s\n", yes(num("/cg/s/memory.current") < MB));

    /* In t (4M): mappings never touched cost only kernel memory, and enough
     * of them end in the OOM killer. */
    c = fork();
    if (c == 0) {
        join_group("t");
        static void *maps[60000];
        map_many(maps, 60000);
        _exit(errno == ENOMEM ? 3 : 0);
    }
    waitpid(c, &st, 0);
    printf("mappings past memory.max: %s\n", WIFSIGNALED(st) ? (WTERMSIG(st) == SIGKILL ? "killed by SIGKILL" : "killed")
                                           : WEXITSTATUS(st) == 0 ? "all made"
                                           : WEXITSTATUS(st) == 3 ? "ENOMEM" : "failed");
    printf("memory.events oom_kill>=1: %s\n", yes(key("/cg/t/memory.events", "oom_kill") >= 1));
    printf("memory.current below 1M after: %s\n", yes(num("/cg/t/memory.current") < MB));
    printf("rmdir: %s %s\n", rmdir("/cg/s") == 0 ? "ok" : "failed", rmdir("/cg/t") == 0 ? "ok" : "failed");
    return 0;
}
