// Process-ABI micro-benchmarks, run as /init on Keel and on Linux 6.12 in
// the same QEMU under -icount (the TSC then counts virtual nanoseconds).
// Prints "bench NAME NS_PER_OP" lines; bench/abi.py compares the kernels.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t tsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void report(const char* name, uint64_t t0, uint64_t t1, long n) {
    printf("bench %s %llu\n", name, (unsigned long long)((t1 - t0) / (uint64_t)n));
    fflush(stdout);
}

static volatile uint32_t ping, pong;
static long futex_rounds;

static void* futex_peer(void* arg) {
    (void)arg;
    for (long i = 0; i < futex_rounds; ++i) {
        while (__atomic_load_n(&ping, __ATOMIC_ACQUIRE) == 0)
            syscall(SYS_futex, &ping, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        __atomic_store_n(&ping, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&pong, 1, __ATOMIC_RELEASE);
        syscall(SYS_futex, &pong, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

static void* nothing(void* arg) { return arg; }

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "exit") == 0) return 0;
    uint64_t t0, t1;
    long n;

    n = 20000;
    t0 = tsc();
    for (long i = 0; i < n; ++i) syscall(SYS_getppid);
    t1 = tsc();
    report("getppid", t0, t1, n);

    n = 20000;
    struct timespec ts;
    t0 = tsc();
    for (long i = 0; i < n; ++i) clock_gettime(CLOCK_MONOTONIC, &ts);
    t1 = tsc();
    report("clock_gettime", t0, t1, n);

    int a[2], b[2];
    pipe(a);
    pipe(b);
    n = 2000;
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        for (long i = 0; i < n; ++i) {
            read(a[0], &c, 1);
            write(b[1], &c, 1);
        }
        _exit(0);
    }
    char c = 'x';
    t0 = tsc();
    for (long i = 0; i < n; ++i) {
        write(a[1], &c, 1);
        read(b[0], &c, 1);
    }
    t1 = tsc();
    waitpid(pid, NULL, 0);
    report("pipe_round_trip", t0, t1, n);

    futex_rounds = n = 2000;
    pthread_t peer;
    pthread_create(&peer, NULL, futex_peer, NULL);
    t0 = tsc();
    for (long i = 0; i < n; ++i) {
        __atomic_store_n(&ping, 1, __ATOMIC_RELEASE);
        syscall(SYS_futex, &ping, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        while (__atomic_load_n(&pong, __ATOMIC_ACQUIRE) == 0)
            syscall(SYS_futex, &pong, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        __atomic_store_n(&pong, 0, __ATOMIC_RELEASE);
    }
    t1 = tsc();
    pthread_join(peer, NULL);
    report("futex_round_trip", t0, t1, n);

    n = 200;
    t0 = tsc();
    for (long i = 0; i < n; ++i) {
        pthread_t t;
        pthread_create(&t, NULL, nothing, NULL);
        pthread_join(t, NULL);
    }
    t1 = tsc();
    report("thread_create_join", t0, t1, n);

    n = 200;
    t0 = tsc();
    for (long i = 0; i < n; ++i) {
        pid_t p = fork();
        if (p == 0) _exit(0);
        waitpid(p, NULL, 0);
    }
    t1 = tsc();
    report("fork_exit_wait", t0, t1, n);

    n = 100;
    t0 = tsc();
    for (long i = 0; i < n; ++i) {
        pid_t p = fork();
        if (p == 0) {
            char* av[] = {"/init", "exit", NULL};
            execv("/init", av);
            _exit(1);
        }
        waitpid(p, NULL, 0);
    }
    t1 = tsc();
    report("fork_exec_wait", t0, t1, n);

    size_t len = 32 << 20;
    char* m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t0 = tsc();
    for (size_t off = 0; off < len; off += 4096) m[off] = 1;
    t1 = tsc();
    report("anon_page_fault", t0, t1, (long)(len / 4096));
    munmap(m, len);

    // 4 KiB reads and writes of a tmpfs file (page already allocated).
    mkdir("/tmp", 01777);
    mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
    int fd = open("/tmp/bench", O_RDWR | O_CREAT | O_TRUNC, 0600);
    static char page[4096];
    pwrite(fd, page, sizeof(page), 0);
    n = 20000;
    t0 = tsc();
    for (long i = 0; i < n; ++i) pwrite(fd, page, sizeof(page), 0);
    t1 = tsc();
    report("tmpfs_write_4k", t0, t1, n);
    t0 = tsc();
    for (long i = 0; i < n; ++i) pread(fd, page, sizeof(page), 0);
    t1 = tsc();
    report("tmpfs_read_4k", t0, t1, n);
    close(fd);

    printf("bench done\n");
    fflush(stdout);
    if (ioperm(0xf4, 4, 1) == 0) outl(0x10, 0xf4);
    reboot(RB_AUTOBOOT);
    return 0;
}
