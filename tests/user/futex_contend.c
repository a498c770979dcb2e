// Futexes under contention on two CPUs: threads fighting over one mutex
// (so that waiters queue on a futex bucket while wakers and other waiters
// take its lock), a condition-variable relay that passes a token round all
// threads, FUTEX_CMP_REQUEUE through pthread_cond_broadcast, and
// process-shared mutexes in MAP_SHARED memory across fork (shared keys).
// Every count must come out exact and nothing may hang.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kThreads = 6, kIters = 20000, kRounds = 3000, kProcs = 3, kProcIters = 20000 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void* hammer(void* arg) {
    (void)arg;
    for (int i = 0; i < kIters; i++) {
        pthread_mutex_lock(&mu);
        long v = counter;
        if (i % 64 == 0) sched_yield();  // hold the lock across a switch now and then
        counter = v + 1;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

// The token goes 0 -> 1 -> ... -> kThreads-1 -> 0, kRounds times.
static pthread_mutex_t relay_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t relay_cv = PTHREAD_COND_INITIALIZER;
static int turn;
static long passes;

static void* relay(void* arg) {
    int me = (int)(long)arg;
    for (int r = 0; r < kRounds; r++) {
        pthread_mutex_lock(&relay_mu);
        while (turn != me) pthread_cond_wait(&relay_cv, &relay_mu);
        turn = (me + 1) % kThreads;
        passes++;
        pthread_cond_broadcast(&relay_cv);
        pthread_mutex_unlock(&relay_mu);
    }
    return NULL;
}

// A barrier built from a mutex and a broadcast, crossed many times.
static pthread_mutex_t bar_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bar_cv = PTHREAD_COND_INITIALIZER;
static int bar_waiting, bar_gen;

static void* crosser(void* arg) {
    (void)arg;
    for (int r = 0; r < 500; r++) {
        pthread_mutex_lock(&bar_mu);
        int gen = bar_gen;
        if (++bar_waiting == kThreads) {
            bar_waiting = 0;
            bar_gen++;
            pthread_cond_broadcast(&bar_cv);
        } else {
            while (gen == bar_gen) pthread_cond_wait(&bar_cv, &bar_mu);
        }
        pthread_mutex_unlock(&bar_mu);
    }
    return NULL;
}

static void run_threads(void* (*fn)(void*)) {
    pthread_t t[kThreads];
    for (long i = 0; i < kThreads; i++)
        if (pthread_create(&t[i], NULL, fn, (void*)i) != 0) {
            printf("pthread_create failed\n");
            exit(1);
        }
    for (int i = 0; i < kThreads; i++) pthread_join(t[i], NULL);
}

struct Shared {
    pthread_mutex_t mu;
    long counter;
};

int main(void) {
    run_threads(hammer);
    printf("mutex counter %ld (expected %d)\n", counter, kThreads * kIters);
    run_threads(relay);
    printf("relay passes %ld (expected %d), turn %d\n", passes, kThreads * kRounds, turn);
    run_threads(crosser);
    printf("barrier generations %d\n", bar_gen);

    struct Shared* s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->mu, &a);
    pid_t kids[kProcs];
    for (int p = 0; p < kProcs; p++) {
        kids[p] = fork();
        if (kids[p] == 0) {
            for (int i = 0; i < kProcIters; i++) {
                pthread_mutex_lock(&s->mu);
                long v = s->counter;
                if (i % 64 == 0) sched_yield();
                s->counter = v + 1;
                pthread_mutex_unlock(&s->mu);
            }
            _exit(0);
        }
    }
    int ok = 1;
    for (int p = 0; p < kProcs; p++) {
        int st;
        if (waitpid(kids[p], &st, 0) != kids[p] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = 0;
    }
    printf("shared mutex counter %ld (expected %d), children ok %d\n", s->counter, kProcs * kProcIters, ok);
    return 0;
}
