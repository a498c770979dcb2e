/* A thread woken from a delayed dequeue preempts the waker as on Linux
 * (wake_delayed.qemu: one CPU, -icount). A message thread M and a worker W
 * take turns: M wakes W through a futex and sleeps; W does a unit of work,
 * posts M with FUTEX_WAKE and sleeps. M went to sleep ineligible, so it is
 * still queued (DELAY_DEQUEUE) when W wakes it, and is re-placed at the
 * zero-lag point. Linux 6.12 re-places it before charging W for the unit it
 * has just run, so M is ahead and preempts W on the way out of FUTEX_WAKE:
 * M's next message is waiting before W's post returns. Keel charged W first,
 * the two tied, W kept the CPU (RUN_TO_PARITY) and M ran only once W slept. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { ROUNDS = 2000, WORK = 1000 };

static long futex(volatile uint32_t *w, int op, uint32_t v) { return syscall(SYS_futex, w, op, v, NULL, NULL, 0); }

static volatile uint32_t ready, gen;
static int first_after_post; /* rounds whose next message came before the post returned */

static void *worker_main(void *arg) {
    (void)arg;
    uint32_t seen = 0;
    for (int r = 0; r < ROUNDS; r++) {
        while (__atomic_load_n(&gen, __ATOMIC_ACQUIRE) == seen) futex(&gen, FUTEX_WAIT_PRIVATE, seen);
        seen = gen;
        volatile uint64_t x = 0;
        for (unsigned k = 0; k < WORK; k++) x += (uint64_t)k * k;
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
        futex(&ready, FUTEX_WAKE_PRIVATE, 1);
        if (r + 1 < ROUNDS && __atomic_load_n(&gen, __ATOMIC_ACQUIRE) != seen) first_after_post++;
    }
    return NULL;
}

int main(void) {
    sleep(3); /* Linux's kernel threads are busy for a while after boot */
    pthread_t t;
    pthread_create(&t, NULL, worker_main, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        __atomic_fetch_add(&gen, 1, __ATOMIC_RELEASE);
        futex(&gen, FUTEX_WAKE_PRIVATE, 1);
        while (!__atomic_exchange_n(&ready, 0, __ATOMIC_ACQUIRE)) futex(&ready, FUTEX_WAIT_PRIVATE, 0);
    }
    pthread_join(t, NULL);
    printf("rounds: %d\n", ROUNDS);
    printf("message thread ran before most posts returned: %s\n", first_after_post > ROUNDS * 9 / 10 ? "yes" : "no");
    printf("(%s)\n", first_after_post > ROUNDS / 10 ? "more than a tenth" : "at most a tenth");
    return 0;
}
