/* memory.peak per open file: a description that was written shows the
 * highest usage since its write, the others the highest ever; a second
 * write restarts it again. Figures are shown as buckets (Linux also charges
 * kernel memory and charges in batches). */
#define _GNU_SOURCE
#include <fcntl.h>
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

static long value(int fd) {
    char buf[64] = {0};
    if (pread(fd, buf, sizeof buf - 1, 0) <= 0) return -1;
    return atol(buf);
}

static void show(const char *what, long v) {
    if (verbose) printf("  %s %ld\n", what, v);
}

static const char *yes(int b) { return b ? "yes" : "no"; }

/* Commands to the child in the group: 't' touch 8M and free it, 's' touch
 * 2M and keep it, 'q' quit; it answers each with one byte. */
static void child(int cmd, int ans) {
    put("/cg/p/cgroup.procs", "0");
    char c = 1;
    write(ans, &c, 1);
    while (read(cmd, &c, 1) == 1 && c != 'q') {
        long n = c == 't' ? 8 * MB : 2 * MB;
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (long i = 0; i < n; i += 4096) p[i] = 1;
        if (c == 't') munmap(p, n);
        write(ans, &c, 1);
    }
    _exit(0);
}

static void ask(int cmd, int ans, char c) {
    write(cmd, &c, 1);
    read(ans, &c, 1);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    verbose = getenv("VERBOSE") != NULL;
    mount_memory_cgroups();
    mkdir("/cg/p", 0755);
    int cmd[2], ans[2];
    pipe(cmd);
    pipe(ans);
    pid_t pid = fork();
    if (pid == 0) child(cmd[0], ans[1]);
    char c;
    read(ans[0], &c, 1);

    int a = open("/cg/p/memory.peak", O_RDWR), b = open("/cg/p/memory.peak", O_RDWR);
    printf("open twice: %s\n", yes(a >= 0 && b >= 0));
    ask(cmd[1], ans[0], 't');
    long cur = 0;
    int cf = open("/cg/p/memory.current", O_RDONLY);
    cur = value(cf);
    show("current after 8M freed", cur);
    printf("8M touched and freed: memory.current below 2M: %s\n", yes(cur < 2 * MB));
    printf("both read at least 8M: %s\n", yes(value(a) >= 8 * MB && value(b) >= 8 * MB));
    printf("write to b: %zd\n", write(b, "reset\n", 6));
    show("b after reset", value(b));
    printf("b restarts below 2M: %s\n", yes(value(b) < 2 * MB));
    printf("a still at least 8M: %s\n", yes(value(a) >= 8 * MB));
    ask(cmd[1], ans[0], 's');
    long vb = value(b);
    show("b after 2M more", vb);
    printf("b after 2M more is 2M..4M: %s\n", yes(vb >= 2 * MB && vb < 4 * MB));
    int d = open("/cg/p/memory.peak", O_RDONLY);
    printf("a new description reads at least 8M: %s\n", yes(value(d) >= 8 * MB));
    printf("empty write to a: %zd\n", write(a, "", 0));
    printf("a still at least 8M: %s\n", yes(value(a) >= 8 * MB));
    printf("write to a: %zd\n", write(a, "1", 1));
    long va = value(a);
    show("a after reset", va);
    printf("a restarts at the usage now (2M..4M): %s\n", yes(va >= 2 * MB && va < 4 * MB));
    printf("b keeps its peak (2M..4M): %s\n", yes(value(b) >= 2 * MB && value(b) < 4 * MB));
    char buf[64] = {0};
    lseek(d, 0, SEEK_SET);
    ssize_t n1 = read(d, buf, sizeof buf);
    ssize_t n2 = read(d, buf, sizeof buf);
    printf("read to the end, then 0: %s\n", yes(n1 > 1 && buf[n1 - 1] == '\n' && n2 == 0));
    printf("lseek SEEK_END: %s\n", lseek(d, 0, SEEK_END) < 0 ? "error" : "ok");
    close(a), close(b), close(d), close(cf);
    write(cmd[1], "q", 1);
    int st;
    waitpid(pid, &st, 0);
    printf("rmdir: %s\n", rmdir("/cg/p") ? "failed" : "ok");
    printf("done\n");
    return 0;
}
