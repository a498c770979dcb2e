// epoll under concurrency: writer threads feed pipes and an eventfd while
// readers sleep in epoll_wait (edge- and level-triggered, one instance
// nested in another); every byte and count must arrive, none twice, and
// items must survive descriptors closing under a waiting thread.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PIPES 4
#define WRITES 2000

static int pipes[PIPES][2];
static int efd;

static void* writer(void* arg) {
    int i = (int)(intptr_t)arg;
    for (int n = 0; n < WRITES; ++n) {
        char c = 'a' + i;
        while (write(pipes[i][1], &c, 1) != 1) sched_yield();
        if (n % 7 == 0) sched_yield();
    }
    uint64_t one = 1;
    for (int n = 0; n < 500; ++n) write(efd, &one, 8);
    return NULL;
}

static int inner, outer;
static long got[PIPES];
static long total;

static void drain(int i) {
    char buf[256];
    ssize_t r;
    while ((r = read(pipes[i][0], buf, sizeof(buf))) > 0) {
        for (ssize_t j = 0; j < r; ++j)
            if (buf[j] != 'a' + i) printf("wrong byte in pipe %d\n", i);
        got[i] += r;
        total += r;
    }
}

// Waits on `outer`, which holds pipes 0 and 2 (edge-triggered), the
// eventfd (level-triggered) and `inner` (pipes 1 and 3, edge-triggered).
static void* reader(void* arg) {
    (void)arg;
    uint64_t events = 0;
    while (total < (long)PIPES * WRITES || events < PIPES * 500) {
        struct epoll_event ev[8];
        int n = epoll_wait(outer, ev, 8, 5000);
        if (n <= 0) {
            printf("reader: epoll_wait -> %d errno=%d (total %ld, events %llu)\n", n, errno, total,
                   (unsigned long long)events);
            return NULL;
        }
        for (int k = 0; k < n; ++k) {
            int i = (int)ev[k].data.u32;
            if (i == PIPES) {
                uint64_t v;
                if (read(efd, &v, 8) == 8) events += v;
            } else if (i == PIPES + 1) {
                struct epoll_event iev[4];
                int m = epoll_wait(inner, iev, 4, 0);
                for (int j = 0; j < m; ++j) drain((int)iev[j].data.u32);
            } else {
                drain(i);
            }
        }
    }
    for (int i = 0; i < PIPES; ++i) printf("pipe %d: %ld bytes\n", i, got[i]);
    printf("eventfd: %llu\n", (unsigned long long)events);
    return NULL;
}

// EPOLLEXCLUSIVE: two instances, each with a sleeper, watch one eventfd;
// one write wakes one of them when both items are exclusive, both when not.
static int ex_ep[2];
static int ex_got[2];

static void* ex_waiter(void* arg) {
    int i = (int)(intptr_t)arg;
    struct epoll_event ev;
    ex_got[i] = epoll_wait(ex_ep[i], &ev, 1, 300);
    return NULL;
}

static void exclusive_round(const char* label, unsigned flags) {
    int e = eventfd(0, EFD_NONBLOCK);
    pthread_t t[2];
    for (int i = 0; i < 2; ++i) {
        ex_ep[i] = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN | flags, .data.u32 = i};
        epoll_ctl(ex_ep[i], EPOLL_CTL_ADD, e, &ev);
        pthread_create(&t[i], NULL, ex_waiter, (void*)(intptr_t)i);
    }
    usleep(100000);  // both asleep in epoll_wait
    uint64_t one = 1;
    write(e, &one, 8);
    for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
    printf("%s: %d of 2 woke with the event\n", label, (ex_got[0] == 1) + (ex_got[1] == 1));
    for (int i = 0; i < 2; ++i) close(ex_ep[i]);
    close(e);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    inner = epoll_create1(0);
    outer = epoll_create1(0);
    for (int i = 0; i < PIPES; ++i) {
        pipe2(pipes[i], O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = i};
        epoll_ctl(i % 2 ? inner : outer, EPOLL_CTL_ADD, pipes[i][0], &ev);
    }
    efd = eventfd(0, EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = PIPES};
    epoll_ctl(outer, EPOLL_CTL_ADD, efd, &ev);
    ev.data.u32 = PIPES + 1;
    epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev);

    pthread_t r, w[PIPES];
    pthread_create(&r, NULL, reader, NULL);
    for (int i = 0; i < PIPES; ++i) pthread_create(&w[i], NULL, writer, (void*)(intptr_t)i);
    for (int i = 0; i < PIPES; ++i) pthread_join(w[i], NULL);
    pthread_join(r, NULL);

    // Closing a watched pipe while another thread waits: the item goes,
    // the waiter times out quietly.
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.u32 = 7;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    close(p[0]);
    close(p[1]);
    struct epoll_event out[2];
    printf("after close: %d\n", epoll_wait(ep, out, 2, 20));
    exclusive_round("EPOLLEXCLUSIVE", EPOLLEXCLUSIVE);
    exclusive_round("shared", 0);
    printf("done\n");
    return 0;
}
