// Threads as pid 1: pthread_create/join, a shared counter under a mutex,
// condition variables (futex wait/wake), thread ids, tgkill to one thread,
// pthread_exit of the main thread's peers, exit() from a worker ending the
// whole process (seen from a parent).
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready;
static volatile pid_t tids[4];
static volatile int got_usr1_in;

static void* add(void* arg) {
    int idx = (int)(long)arg;
    tids[idx] = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < 10000; ++i) {
        pthread_mutex_lock(&lock);
        ++counter;
        pthread_mutex_unlock(&lock);
    }
    return (void*)(long)(idx * 100);
}

static void* waiter(void* arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!ready) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return (void*)7;
}

static void on_usr1(int sig) {
    (void)sig;
    got_usr1_in = (int)syscall(SYS_gettid);
}

static void* sleeper(void* arg) {
    (void)arg;
    tids[3] = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < 200 && !got_usr1_in; ++i) usleep(5000);
    return NULL;
}

static void* exiter(void* arg) {
    (void)arg;
    usleep(20000);
    exit(9);  // ends every thread of the process
}

int main(void) {
    pthread_t t[3];
    for (long i = 0; i < 3; ++i) pthread_create(&t[i], NULL, add, (void*)i);
    long sum = 0;
    for (int i = 0; i < 3; ++i) {
        void* r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("counter=%ld join values sum=%ld\n", counter, sum);
    printf("tids distinct from pid: %d %d %d\n", tids[0] != getpid(), tids[1] != tids[0], tids[2] != tids[1]);

    pthread_t w;
    pthread_create(&w, NULL, waiter, NULL);
    usleep(10000);
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    void* wr;
    pthread_join(w, &wr);
    printf("condition variable: %ld\n", (long)wr);

    signal(SIGUSR1, on_usr1);
    pthread_t s;
    pthread_create(&s, NULL, sleeper, NULL);
    while (!tids[3]) usleep(1000);
    pthread_kill(s, SIGUSR1);
    pthread_join(s, NULL);
    printf("signal went to that thread: %d\n", got_usr1_in == tids[3]);

    pid_t child = fork();
    if (child == 0) {
        pthread_t e, spin;
        ready = 0;  /* this copy of the flag never changes: the waiter sleeps on */
        pthread_create(&spin, NULL, waiter, NULL);
        pthread_create(&e, NULL, exiter, NULL);
        for (;;) pause();
    }
    int st;
    waitpid(child, &st, 0);
    printf("exit() in a thread ends the process: exited=%d status=%d\n", WIFEXITED(st), WEXITSTATUS(st));
    return 0;
}
