// Shared futexes across processes and mappings (a memfd mapped twice at
// different addresses, shared anonymous memory across fork), private
// futexes staying apart, futex_waitv (argument checks, waking by index,
// EAGAIN, timeouts) and the robust-list calls.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static long futex(void *a, int op, uint32_t v, void *ts, void *a2, uint32_t v3) {
    return syscall(SYS_futex, a, op, v, ts, a2, v3);
}

static long waitv(struct futex_waitv *w, unsigned n, unsigned flags, struct timespec *ts, int clock) {
    return syscall(449, w, n, flags, ts, clock);
}

// Wakes *addr (shared or not) until somebody was woken, at most 5 s.
static long wake_until(uint32_t *addr, int op) {
    for (int i = 0; i < 500; i++) {
        long r = futex(addr, op, 1, NULL, NULL, 0);
        if (r != 0) return r;
        usleep(10000);
    }
    return 0;
}

static uint32_t words[3];
static void *waker(void *arg) {
    (void)arg;
    return (void *)wake_until(&words[2], FUTEX_WAKE_PRIVATE);
}

static pthread_mutex_t robust;
static void *lock_and_leave(void *arg) {
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL;
}

static struct timespec abs_after(clockid_t c, long ms) {
    struct timespec t;
    clock_gettime(c, &t);
    t.tv_nsec += ms * 1000000;
    t.tv_sec += t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

int main(void) {
    // A memfd mapped twice: two addresses, one futex.
    int fd = memfd_create("futex", 0);
    ftruncate(fd, 4096);
    uint32_t *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    uint32_t *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("two mappings differ: %d\n", a != b);
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        long r = futex(a + 1, FUTEX_WAIT, 0, &(struct timespec){5, 0}, NULL, 0);
        _exit(r == 0 ? 0 : 1);
    }
    SHOW("private wake through the other mapping", ({ usleep(100000); futex(b + 1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }));
    SHOW("shared wake through the other mapping", wake_until(b + 1, FUTEX_WAKE));
    int st;
    waitpid(p, &st, 0);
    printf("waiter status %#x\n", st);

    // Shared anonymous memory, wait in the parent and wake from the child.
    uint32_t *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    fflush(stdout);
    p = fork();
    if (p == 0) _exit(wake_until(sh, FUTEX_WAKE) == 1 ? 0 : 1);
    SHOW("parent waits, child wakes", futex(sh, FUTEX_WAIT, 0, &(struct timespec){5, 0}, NULL, 0));
    waitpid(p, &st, 0);
    printf("waker status %#x\n", st);

    // A private mapping after fork is two futexes: a wake in the child
    // finds nobody.
    uint32_t *pv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fflush(stdout);
    p = fork();
    if (p == 0) {
        usleep(100000);
        _exit((int)futex(pv, FUTEX_WAKE, 1, NULL, NULL, 0));
    }
    SHOW("private memory across fork", futex(pv, FUTEX_WAIT, 0, &(struct timespec){0, 300000000}, NULL, 0));
    waitpid(p, &st, 0);
    printf("child woke %d\n", WEXITSTATUS(st));

    // futex_waitv.
    struct futex_waitv w[3];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 3; i++) {
        w[i].uaddr = (uintptr_t)&words[i];
        w[i].flags = FUTEX_32 | FUTEX_PRIVATE_FLAG;
    }
    SHOW("waitv zero", waitv(w, 0, 0, NULL, 0));
    SHOW("waitv null", waitv(NULL, 1, 0, NULL, 0));
    SHOW("waitv too many", waitv(w, 129, 0, NULL, 0));
    SHOW("waitv flags", waitv(w, 3, 1, NULL, 0));
    SHOW("waitv bad clock", waitv(w, 3, 0, &(struct timespec){0, 0}, CLOCK_BOOTTIME));
    SHOW("waitv bad timespec", waitv(w, 3, 0, &(struct timespec){0, -1}, CLOCK_MONOTONIC));
    w[1].flags = 1;
    SHOW("waitv 16-bit futex", waitv(w, 3, 0, NULL, 0));
    w[1].flags = FUTEX_32 | 0x40;
    SHOW("waitv unknown futex flag", waitv(w, 3, 0, NULL, 0));
    w[1].flags = FUTEX_32;
    w[1].__reserved = 1;
    SHOW("waitv reserved", waitv(w, 3, 0, NULL, 0));
    w[1].__reserved = 0;
    w[1].val = 1ull << 32;
    SHOW("waitv value too big", waitv(w, 3, 0, NULL, 0));
    w[1].val = 0;
    w[1].uaddr += 1;
    SHOW("waitv unaligned", waitv(w, 3, 0, NULL, 0));
    w[1].uaddr -= 1;
    w[1].uaddr = 8;
    SHOW("waitv fault", waitv(w, 3, 0, NULL, 0));
    w[1].uaddr = (uintptr_t)&words[1];
    words[1] = 7;
    SHOW("waitv value differs", waitv(w, 3, 0, NULL, 0));
    words[1] = 0;
    struct timespec t = abs_after(CLOCK_MONOTONIC, 50);
    SHOW("waitv timeout monotonic", waitv(w, 3, 0, &t, CLOCK_MONOTONIC));
    t = abs_after(CLOCK_REALTIME, 50);
    SHOW("waitv timeout realtime", waitv(w, 3, 0, &t, CLOCK_REALTIME));
    pthread_t th;
    pthread_create(&th, NULL, waker, NULL);
    SHOW("waitv woken by index", waitv(w, 3, 0, NULL, 0));
    void *woke;
    pthread_join(th, &woke);
    printf("waker woke %ld\n", (long)woke);

    // Robust lists.
    struct robust_list_head head;
    SHOW("set_robust_list", syscall(SYS_set_robust_list, &head, sizeof head));
    void *got = NULL;
    size_t len = 0;
    SHOW("get_robust_list", syscall(SYS_get_robust_list, 0, &got, &len));
    printf("head matches %d len %zu\n", got == &head, len);
    SHOW("get_robust_list of init by tid", syscall(SYS_get_robust_list, getpid(), &got, &len));
    SHOW("get_robust_list no such", syscall(SYS_get_robust_list, 30000, &got, &len));
    SHOW("get_robust_list fault", syscall(SYS_get_robust_list, 0, &got, (void *)8));

    // Robust mutexes: a lock whose owner thread or process died is handed
    // over with EOWNERDEAD.
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &ma);
    pthread_create(&th, NULL, lock_and_leave, NULL);
    pthread_join(th, NULL);
    SHOW("robust mutex of an exited thread", -pthread_mutex_lock(&robust));
    SHOW("consistent", -pthread_mutex_consistent(&robust));
    SHOW("unlock", -pthread_mutex_unlock(&robust));
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_t *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutex_init(shm, &ma);
    int pipefd[2];
    pipe(pipefd);
    fflush(stdout);
    p = fork();
    if (p == 0) {
        pthread_mutex_lock(shm);
        write(pipefd[1], "x", 1);
        usleep(200000);  // the parent is waiting for the lock by now
        _exit(0);
    }
    char c;
    read(pipefd[0], &c, 1);
    SHOW("process-shared robust mutex of a dead process", -pthread_mutex_lock(shm));
    waitpid(p, &st, 0);
    SHOW("futex realtime plain wait", futex(&words[0], FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
    SHOW("futex realtime wake", futex(&words[0], FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
    return 0;
}
