// A bounded random-syscall stress test, run as /init: for the number of
// seconds given as its first argument it keeps two children making system
// calls with random numbers and arguments (valid, boundary and hostile
// pointers, odd flags, fds of every kind), restarting each child when it
// dies or stops making progress. Then it checks that the kernel still does
// the basics right. The children run as nobody, so they cannot reboot the
// machine or kill init; everything else is fair game.
//
// usage: sysfuzz [seconds] [seed]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NCHILD 2
#define CALLS_PER_CHILD 2000
#define CHILD_TIMEOUT_NS 1000000000LL
#define SCRATCH 65536
#define MAX_NR 470

static uint64_t rng;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// What the children share with the parent: the call in progress, so a
// child killed for hanging can be reported.
struct Shared {
    volatile long nr[NCHILD];
    volatile long args[NCHILD][6];
    volatile long calls;
};
static struct Shared* shared;
static char* scratch;

static long rand_arg(void) {
    switch (rnd() % 18) {
    case 0: return 0;
    case 1: return -1;
    case 2: return (long)(rnd() % 16);
    case 3: return (long)(rnd() % 4096);
    case 4: return (long)(scratch + rnd() % SCRATCH);
    case 5: return (long)scratch;
    case 6: return (long)(scratch + SCRATCH - 1 - rnd() % 16);  // runs into the guard page
    case 7: return (long)(0xffff888000000000ull + (rnd() & 0xffffff000ull));  // kernel direct map
    case 8: return (long)(0xffffffff80000000ull + (rnd() & 0xfffffull));     // kernel text
    case 9: return (long)(1ull << (rnd() % 64));
    case 10: return (long)rnd();
    case 11: return (long)((rnd() % 8) | ((rnd() % 2) << 31));
    case 12: return -(long)(rnd() % 4096);
    case 13: return (long)(rnd() % 12);                                       // a descriptor
    case 14: return (long)(scratch + SCRATCH + rnd() % 4096);                // the guard page itself
    case 15: return (long)(0x7ffffffff000ull - rnd() % 0x100000);            // top of user space
    case 16: return (long)(scratch + 256);                                    // an iovec
    default: return (long)scratch;                                            // a path
    }
}

// Descriptors 3..11 of every kind for the calls to chew on.
static void make_fds(void) {
    int p[2];
    // Not the console: a child that stops its output (TCXONC) or changes
    // its modes would stall the parent's reports.
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
    if (null > 2) close(null);
    open("/dev/null", O_RDWR);
    pipe(p);
    eventfd(1, 0);
    open("/tmp/fuzz", O_RDWR | O_CREAT, 0666);
    open("/", O_RDONLY | O_DIRECTORY);
    open("/tmp", O_PATH);
    syscall(SYS_epoll_create1, 0);
    open("/dev/zero", O_RDONLY);
}

static void child(int slot, uint64_t seed) {
    rng = seed | 1;
    make_fds();
    struct rlimit lim = {1 << 20, 1 << 20};
    setrlimit(RLIMIT_FSIZE, &lim);
    lim.rlim_cur = lim.rlim_max = 64;
    setrlimit(RLIMIT_NPROC, &lim);
    lim.rlim_cur = lim.rlim_max = 256ul << 20;
    setrlimit(RLIMIT_AS, &lim);
    signal(SIGXFSZ, SIG_IGN);
    if (setgid(65534) || setuid(65534)) _exit(99);
    for (int i = 0; i < CALLS_PER_CHILD; ++i) {
        // Plausible data for pointer arguments: a path and an iovec.
        strcpy(scratch, (rnd() & 1) ? "/tmp/fuzz" : "/tmp/fuzz/../x");
        struct iovec* iov = (struct iovec*)(scratch + 256);
        iov[0].iov_base = scratch + 1024;
        iov[0].iov_len = rnd() % 512;
        if (rnd() % 8 == 0)
            for (int k = 2048; k < 4096; ++k) scratch[k] = (char)rnd();
        long nr = (long)(rnd() % MAX_NR);
        long a[6];
        for (int k = 0; k < 6; ++k) a[k] = rand_arg();
        shared->nr[slot] = nr;
        for (int k = 0; k < 6; ++k) shared->args[slot][k] = a[k];
        __atomic_add_fetch(&shared->calls, 1, __ATOMIC_RELAXED);
        syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
    _exit(0);
}

static int health_check(void) {
    int ok = 1;
    int p[2];
    char buf[16] = {0};
    if (pipe(p) || write(p[1], "ping", 4) != 4 || read(p[0], buf, 4) != 4 || memcmp(buf, "ping", 4)) {
        printf("health: pipe failed\n");
        ok = 0;
    }
    int fd = open("/tmp/health", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || pwrite(fd, "data", 4, 100) != 4 || pread(fd, buf, 4, 100) != 4 || memcmp(buf, "data", 4)) {
        printf("health: file failed\n");
        ok = 0;
    }
    char* m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        printf("health: mmap failed\n");
        ok = 0;
    } else {
        memset(m, 7, 1 << 20);
        munmap(m, 1 << 20);
    }
    pid_t pid = fork();
    if (pid == 0) _exit(42);
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 42) {
        printf("health: fork/wait failed\n");
        ok = 0;
    }
    int64_t t0 = now_ns();
    struct timespec ten_ms = {0, 10000000};
    nanosleep(&ten_ms, NULL);
    if (now_ns() - t0 < 10000000) {
        printf("health: nanosleep too short\n");
        ok = 0;
    }
    return ok;
}

int main(int argc, char** argv) {
    int seconds = argc > 1 ? atoi(argv[1]) : 60;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : (uint64_t)now_ns();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (getpid() == 1) {
        mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
        mkdir("/tmp", 01777);
        mount("tmpfs", "/tmp", "tmpfs", 0, "size=16m");
        mkdir("/proc", 0555);
        mount("proc", "/proc", "proc", 0, NULL);
    }
    chmod("/tmp", 01777);
    printf("sysfuzz: %d s, seed %#llx\n", seconds, (unsigned long long)seed);
    rng = seed | 1;
    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    scratch = mmap(NULL, SCRATCH + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(scratch + SCRATCH, 4096, PROT_NONE);

    pid_t pids[NCHILD] = {0};
    int64_t started[NCHILD] = {0};
    long children = 0, hung = 0, signalled = 0;
    int64_t end = now_ns() + (int64_t)seconds * 1000000000LL;
    int64_t next_report = now_ns() + 10000000000LL;
    while (now_ns() < end) {
        if (now_ns() > next_report || getenv("SYSFUZZ_TRACE")) {
            // A sign of life, and what the children are doing.
            printf("sysfuzz: %ld calls so far; now", shared->calls);
            for (int s = 0; s < NCHILD; ++s)
                printf(" %ld(%#lx, %#lx, %#lx, %#lx)", shared->nr[s], shared->args[s][0], shared->args[s][1],
                       shared->args[s][2], shared->args[s][3]);
            printf("\n");
            next_report = now_ns() + 10000000000LL;
        }
        for (int s = 0; s < NCHILD; ++s) {
            if (pids[s] == 0) {
                uint64_t cs = rnd();
                pid_t pid = fork();
                if (pid == 0) child(s, cs);
                if (pid > 0) {
                    pids[s] = pid;
                    started[s] = now_ns();
                    ++children;
                }
            } else if (now_ns() - started[s] > CHILD_TIMEOUT_NS) {
                // Blocked in a call (a pause, a read of an empty pipe...).
                kill(pids[s], SIGKILL);
                started[s] = now_ns() + 1000000000000LL;
                ++hung;
            }
        }
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            for (int s = 0; s < NCHILD; ++s)
                if (pids[s] == pid) {
                    pids[s] = 0;
                    if (WIFSIGNALED(st)) ++signalled;
                }
        }
        // Stopped children (SIGSTOP to themselves) are moved along too.
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    // Everything the children left behind (grandchildren, stopped
    // processes) goes; init survives kill(-1).
    kill(-1, SIGKILL);
    int st;
    while (waitpid(-1, &st, 0) > 0) {
    }
    printf("sysfuzz: %ld children, %ld calls, %ld killed by signals, %ld stuck and killed\n", children,
           shared->calls, signalled, hung);
    int ok = health_check();
    printf("sysfuzz: health %s\n", ok ? "ok" : "FAILED");
    if (getpid() == 1) {
        sync();
        syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, NULL);  // power off
    }
    return ok ? 0 : 1;
}
