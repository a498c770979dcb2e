/* Wake-up preemption must not strike a thread that holds a kernel lock
 * (wake_lock.qemu: one CPU, -icount). A message thread M wakes two workers
 * in turn through futexes; each does a fixed unit of work, then posts M
 * with FUTEX_WAKE and waits for its next message. Posting wakes M, which
 * preempts the poster. Keel used to switch inside FUTEX_WAKE itself, with
 * the futex bucket's lock still held: M then slept on that lock, so did the
 * other worker, and the waits fell into two clusters, one and two units
 * (8% of them two). Linux switches on the way back to user mode: every
 * worker waits about one unit of the other's work. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { WORKERS = 2, ROUNDS = 1500, WORK = 4000 };

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static long futex(volatile uint32_t *w, int op, uint32_t v) { return syscall(SYS_futex, w, op, v, NULL, NULL, 0); }

static volatile uint32_t ready;  /* a bit per worker with a finished unit */
static struct worker {
    volatile uint32_t gen;
    volatile uint64_t stamp;
    uint64_t lat[ROUNDS];
} workers[WORKERS];

static void post(int i) {
    __atomic_fetch_or(&ready, 1u << i, __ATOMIC_RELEASE);
    futex(&ready, FUTEX_WAKE_PRIVATE, 1);
}

static void *worker_main(void *arg) {
    int i = (int)(intptr_t)arg;
    struct worker *w = &workers[i];
    uint32_t seen = 0;
    post(i);
    for (int r = 0; r < ROUNDS; r++) {
        uint32_t g;
        while ((g = __atomic_load_n(&w->gen, __ATOMIC_ACQUIRE)) == seen) futex(&w->gen, FUTEX_WAIT_PRIVATE, seen);
        seen = g;
        w->lat[r] = now_ns() - w->stamp;
        volatile uint64_t x = 0;
        for (unsigned k = 0; k < WORK; k++) x += (uint64_t)k * k;
        post(i);
    }
    return NULL;
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    sleep(3); /* Linux's kernel threads are busy for a while after boot */
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++) pthread_create(&t[i], NULL, worker_main, (void *)(intptr_t)i);
    int sent[WORKERS] = {0}, finished = 0;
    while (finished < WORKERS) {
        uint32_t r = __atomic_exchange_n(&ready, 0, __ATOMIC_ACQUIRE);
        if (!r) {
            futex(&ready, FUTEX_WAIT_PRIVATE, 0);
            continue;
        }
        for (int i = 0; i < WORKERS; i++) {
            if (!(r & (1u << i)) || sent[i] == ROUNDS) continue;
            workers[i].stamp = now_ns();
            __atomic_fetch_add(&workers[i].gen, 1, __ATOMIC_RELEASE);
            futex(&workers[i].gen, FUTEX_WAKE_PRIVATE, 1);
            if (++sent[i] == ROUNDS) finished++;
        }
    }
    for (int i = 0; i < WORKERS; i++) pthread_join(t[i], NULL);
    static uint64_t all[WORKERS * ROUNDS];
    int n = 0;
    for (int i = 0; i < WORKERS; i++)
        for (int r = 1; r < ROUNDS; r++) all[n++] = workers[i].lat[r]; /* the first waits for start-up */
    qsort(all, n, sizeof all[0], cmp);
    uint64_t p50 = all[n / 2], p99 = all[n * 99 / 100];
    printf("wake-ups measured: %d\n", n);
    /* Timer ticks that land in a unit of work delay about 1% of the waits
     * on both kernels (how many moves with any change in code size); the
     * lock bug delayed 8%. */
    int slow = 0;
    for (int i = 0; i < n; i++) slow += all[i] * 2 > p50 * 3;
    printf("waits over 1.5 x p50 under 4%%: %s\n", slow * 25 < n ? "yes" : "no");
    if (getenv("VERBOSE")) printf("p50 %llu ns p99 %llu ns, %d slow\n", (unsigned long long)p50, (unsigned long long)p99, slow);
    return 0;
}
