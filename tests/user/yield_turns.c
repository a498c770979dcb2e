/* sched_yield between two threads on one CPU hands the CPU over on every
 * call, also when one thread works longer per turn than the other
 * (yield_turns.qemu: one CPU, -icount). Linux 6.12 (since 6.12.63) makes an
 * eligible yielder forfeit the rest of its request: its vruntime moves up to
 * its deadline. Keel pushed only the deadline, so the thread with the lighter
 * turns, having run less, was the one eligible entity after its own yield
 * and was picked again: 17% of calls handed over with 1000 loops of extra
 * work per turn, 51% with 200. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

enum { CALLS = 4000 };

static volatile int last = -1, arrived;
static int extra[2];

static void *turns(void *arg) {
    int id = (int)(long)arg;
    __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < 2) sched_yield();
    long handed = 0;
    for (int i = 0; i < CALLS; i++) {
        if (last != id) handed++;
        last = id;
        for (volatile int k = 0; k < extra[id]; k++) {
        }
        sched_yield();
    }
    return (void *)handed;
}

int main(void) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof(one), &one);
    static const int works[] = {0, 200, 1000, 5000};
    for (unsigned w = 0; w < sizeof(works) / sizeof(works[0]); w++) {
        extra[0] = works[w];
        extra[1] = 0;
        arrived = 0;
        last = -1;
        pthread_t t;
        pthread_create(&t, NULL, turns, (void *)1L);
        long mine = (long)turns((void *)0L);
        void *theirs;
        pthread_join(t, &theirs);
        long handed = mine + (long)theirs;
        printf("extra work %d per turn: handed over on %s of %d calls\n", works[w],
               handed >= 2 * CALLS - 2 ? "all" : handed >= CALLS ? "most" : "fewer than half", 2 * CALLS);
    }
    return 0;
}
