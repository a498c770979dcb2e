// futex return values and errors, and clock behaviour that is deterministic:
// resolutions, monotonic order, TIMER_ABSTIME in the past.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(uint32_t* a, int op, uint32_t v, const struct timespec* t, uint32_t* a2, uint32_t v3) {
    return syscall(SYS_futex, a, op, v, t, a2, v3);
}

#define SHOW(label, expr)                                         \
    do {                                                          \
        errno = 0;                                                \
        long r_ = (long)(expr);                                   \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static uint32_t word = 5, word2 = 0;

int main(void) {
    struct timespec short_t = {0, 20000000};
    SHOW("wait on changed value", futex(&word, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0));
    SHOW("wait with timeout", futex(&word, FUTEX_WAIT_PRIVATE, 5, &short_t, NULL, 0));
    SHOW("wake nobody", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    SHOW("misaligned", futex((uint32_t*)((char*)&word + 1), FUTEX_WAKE, 1, NULL, NULL, 0));
    SHOW("bitset zero", futex(&word, FUTEX_WAIT_BITSET, 5, NULL, NULL, 0));
    SHOW("bad timeout", futex(&word, FUTEX_WAIT, 5, &(struct timespec){0, 2000000000}, NULL, 0));
    SHOW("unknown op", futex(&word, 99, 0, NULL, NULL, 0));
    SHOW("cmp_requeue mismatch", futex(&word, FUTEX_CMP_REQUEUE, 1, (void*)1, &word2, 7));
    SHOW("cmp_requeue match", futex(&word, FUTEX_CMP_REQUEUE, 1, (void*)1, &word2, 5));
    SHOW("wake_op", futex(&word, FUTEX_WAKE_OP, 1, (void*)1, &word2, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 0)));
    printf("word2 after wake_op: %u\n", word2);
    SHOW("bad address", futex((uint32_t*)8, FUTEX_WAIT, 0, NULL, NULL, 0));

    struct timespec res;
    clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
                          CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME};
    for (unsigned i = 0; i < sizeof(clocks) / sizeof(clocks[0]); ++i) {
        clock_getres(clocks[i], &res);
        printf("clock %d resolution %ld.%09ld\n", clocks[i], (long)res.tv_sec, res.tv_nsec);
    }
    SHOW("getres bad clock", clock_getres(42, &res));
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("monotonic does not go back: %d\n", b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
    struct timespec past = {0, 1};
    SHOW("abstime in the past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
    SHOW("nanosleep bad nsec", nanosleep(&(struct timespec){0, -1}, NULL));
    clock_gettime(CLOCK_MONOTONIC, &a);
    nanosleep(&(struct timespec){0, 30000000}, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("slept at least 30 ms: %d\n", ms >= 30);
    time_t t = time(NULL);
    printf("time after 2020: %d\n", t > 1577836800);
    return 0;
}
