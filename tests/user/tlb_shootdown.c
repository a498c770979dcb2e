/* A thread on the other CPU stops seeing memory as soon as mprotect or
 * munmap on this CPU returns: while it reads in a loop, and after it slept
 * on that CPU with the tables still loaded (an idle CPU keeps them).
 * Keel's TLB shootdowns interrupt only the CPUs with the address space's
 * tables loaded; a CPU left out would go on reading through a stale entry. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL

static volatile char *page;
static volatile long reads;
static volatile int faulted, stop;
static __thread sigjmp_buf jb;
static int wake[2];

static void on_segv(int sig) {
    (void)sig;
    faulted = 1;
    siglongjmp(jb, 1);
}

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

/* Reads the page until it faults (or is told to stop). */
static void *spin_reader(void *arg) {
    (void)arg;
    pin(1);
    if (sigsetjmp(jb, 1) == 0)
        while (!stop) {
            (void)page[0];
            reads++;
        }
    return NULL;
}

/* Reads the page, sleeps until woken, then reads it once more. */
static void *sleepy_reader(void *arg) {
    (void)arg;
    pin(1);
    if (sigsetjmp(jb, 1) == 0) {
        (void)page[0];
        reads = 1;
        char c;
        read(wake[0], &c, 1);
        (void)page[0];
        reads = 2;
    }
    return NULL;
}

static void run(const char *what, void *(*reader)(void *), int unmap) {
    page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 1;
    reads = 0;
    faulted = stop = 0;
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    long want = reader == spin_reader ? 100000 : 1;
    while (reads < want) sched_yield();
    if (reader == sleepy_reader) usleep(50000); /* the reader is asleep, its CPU idle */
    int r = unmap ? munmap((void *)page, PG) : mprotect((void *)page, PG, PROT_NONE);
    if (reader == sleepy_reader) write(wake[1], "x", 1);
    usleep(200000);
    stop = 1;
    pthread_join(t, NULL);
    printf("%s: call %s, reader faulted: %s\n", what, r == 0 ? "ok" : "failed", faulted ? "yes" : "no");
    if (!unmap) munmap((void *)page, PG);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    pin(0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    pipe(wake);
    for (int i = 0; i < 3; i++) {
        run("mprotect under a spinning reader", spin_reader, 0);
        run("munmap under a spinning reader", spin_reader, 1);
        run("mprotect under a sleeping reader", sleepy_reader, 0);
        run("munmap under a sleeping reader", sleepy_reader, 1);
    }
    return 0;
}
