/* Kernel memory charged to a memory cgroup: the page tables of a process
 * that touches 1 GiB sparsely (one page per 2 MiB: a page-table page per
 * page touched) and the kernel stacks of its threads show in memory.stat
 * (pagetables, kernel_stack, both within kernel) and in memory.current,
 * and go when the process exits. Linux also charges slab and more, so the
 * figures are printed as comparisons both kernels agree on. */
#define _GNU_SOURCE
#include <pthread.h>
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
#define THREADS 8

static const char *yes(int b) { return b ? "yes" : "no"; }

static int verbose;

static int hold[2];

static void *idle(void *arg) {
    (void)arg;
    char c;
    read(hold[0], &c, 1); /* until the parent lets go */
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    verbose = getenv("VERBOSE") != NULL;
    mount_memory_cgroups();
    mkdir("/cg/k", 0755);
    int ready[2], go[2];
    pipe(ready);
    pipe(go);
    pipe(hold);
    pid_t pid = fork();
    if (pid == 0) {
        if (put("/cg/k/cgroup.procs", "0")) _exit(3);
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, idle, NULL);
        char *p = mmap(NULL, 1024 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) _exit(2);
        for (long off = 0; off < 1024 * MB; off += 2 * MB) p[off] = 1;
        char c = 1;
        write(ready[1], &c, 1);
        read(go[0], &c, 1);
        for (int i = 0; i < THREADS; i++) write(hold[1], &c, 1);
        for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
        _exit(0);
    }
    char c;
    read(ready[0], &c, 1);
    long cur = num("/cg/k/memory.current");
    long anon = key("/cg/k/memory.stat", "anon");
    long pt = key("/cg/k/memory.stat", "pagetables");
    long ks = key("/cg/k/memory.stat", "kernel_stack");
    long kernel = key("/cg/k/memory.stat", "kernel");
    if (verbose)
        printf("  current %ld anon %ld pagetables %ld kernel_stack %ld kernel %ld\n", cur, anon, pt, ks, kernel);
    printf("touched: memory.stat anon at least 2M (512 pages): %s\n", yes(anon >= 2 * MB));
    printf("touched: pagetables at least 2M (a table per 2M touched), below 4M: %s\n", yes(pt >= 2 * MB && pt < 4 * MB));
    printf("touched: kernel_stack at least %d threads x 16K: %s\n", THREADS, yes(ks >= THREADS * 16384L));
    printf("touched: kernel at least pagetables + kernel_stack: %s\n", yes(kernel >= pt + ks));
    printf("touched: memory.current at least anon + kernel: %s\n", yes(cur >= anon + kernel));
    write(go[1], &c, 1);
    int st;
    waitpid(pid, &st, 0);
    printf("exit: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "exit 0" : "failed");
    cur = num("/cg/k/memory.current");
    pt = key("/cg/k/memory.stat", "pagetables");
    ks = key("/cg/k/memory.stat", "kernel_stack");
    if (verbose) printf("  after: current %ld pagetables %ld kernel_stack %ld\n", cur, pt, ks);
    printf("exit: memory.current below 1M: %s\n", yes(cur < MB));
    printf("exit: pagetables below 64K, kernel_stack below 64K: %s\n", yes(pt < 65536 && ks < 65536));
    printf("rmdir: %s\n", rmdir("/cg/k") ? "failed" : "ok");
    printf("done\n");
    return 0;
}
