#include "difftest.h"
/* Futex: wait/wake return values and errors (EAGAIN on value mismatch, ETIMEDOUT, EINVAL),
 * private/shared, bitsets, requeue, wake of waiters in a child. */
/* from linux/futex.h (not visible to musl-gcc) */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_OP_PRIVATE (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#define FUTEX_OP_ADD 1
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    (((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff))
struct robust_list_head;
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <sched.h>
#include <signal.h>
#include <sys/time.h>

static long futex(void *uaddr, int op, uint32_t val, const struct timespec *ts, void *uaddr2, uint32_t val3) {
    return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static uint32_t word, word2;
static volatile int alarms, wake_from_handler;
/* SIGALRM: counts; the second one wakes the untimed waiter (it sets the
 * word first, so the restarted wait sees it changed). */
static void on_alarm(int sig) {
    (void)sig;
    if (++alarms >= 2 && wake_from_handler) {
        word = 1;
        syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}
static pid_t tids[3];
static volatile int ntids;
static volatile int woke;
static void *waiter(void *arg) {
    (void)arg;
    tids[__atomic_fetch_add(&ntids, 1, __ATOMIC_SEQ_CST)] = syscall(SYS_gettid);
    long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    __atomic_fetch_add(&woke, r == 0 ? 1 : 100, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Waits (at most 5 s) until every task in tids is asleep ('S' in /proc/PID/task/TID/stat):
 * the waiters sleep nowhere else, so then they are in FUTEX_WAIT. */
static int all_sleeping(const pid_t *tids, int n) {
    for (int iter = 0; iter < 500; iter++) {
        int asleep = 0;
        for (int i = 0; i < n; i++) {
            char path[64], buf[256] = "";
            snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)tids[i], (int)tids[i]);
            FILE *f = fopen(path, "r");
            if (!f) {
                snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tids[i]);
                f = fopen(path, "r");
            }
            if (f) {
                fgets(buf, sizeof buf, f);
                fclose(f);
                char *rp = strrchr(buf, ')');
                if (rp && rp[1] == ' ' && rp[2] == 'S') asleep++;
            }
        }
        if (asleep == n) return 1;
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return 0;
}
int main(void) {
    setup();
    struct timespec t10 = {0, 10 * 1000 * 1000};
    word = 1;
    CK("wait_value_mismatch", futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
    CK("wait_timeout", futex(&word, FUTEX_WAIT_PRIVATE, 1, &t10, NULL, 0));
    CK("wake_nobody", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    CK("wait_unaligned", futex((char *)&word + 1, FUTEX_WAIT_PRIVATE, 1, &t10, NULL, 0));
    CK("wait_efault", futex((void *)8, FUTEX_WAIT_PRIVATE, 1, &t10, NULL, 0));
    struct timespec bad = {0, 1000000000};
    CK("wait_bad_timeout", futex(&word, FUTEX_WAIT_PRIVATE, 1, &bad, NULL, 0));
    struct timespec neg = {-1, 0};
    CK("wait_negative_timeout", futex(&word, FUTEX_WAIT_PRIVATE, 1, &neg, NULL, 0));
    CK("bad_op", futex(&word, 99, 0, NULL, NULL, 0));
    CK("wait_bitset_zero", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &t10, NULL, 0));
    {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        /* a second earlier, or the start of the clock when less than a second has passed since boot */
        time_t past = now.tv_sec > 0 ? now.tv_sec - 1 : 0;
        CK("wait_bitset_abs_past", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &(struct timespec){past, 0}, NULL, FUTEX_BITSET_MATCH_ANY));
        CK("wait_bitset_realtime_abs_past", futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &(struct timespec){1, 0}, NULL, FUTEX_BITSET_MATCH_ANY));
        CK("wait_clock_realtime_plain_wait", futex(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &t10, NULL, 0));
    }
    /* wake threads */
    {
        word = 0;
        pthread_t th[3];
        ntids = 0;
        for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, waiter, NULL);
        while (ntids < 3) sched_yield();
        CHECK("waiters_asleep", "%d", all_sleeping(tids, 3));
        CK("wake_one", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
        CK("wake_all_remaining", futex(&word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0));
        for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
        CHECK("woken_with_zero_return", "%d", woke);
    }
    /* requeue */
    {
        word = 0; woke = 0;
        pthread_t th[3];
        ntids = 0;
        for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, waiter, NULL);
        while (ntids < 3) sched_yield();
        CHECK("waiters_asleep", "%d", all_sleeping(tids, 3));
        CK("cmp_requeue_bad_val", futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)2, &word2, 5));
        CK("cmp_requeue", futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)2, &word2, 0));
        CK("wake_old_addr_after_requeue", futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
        CK("wake_requeued", futex(&word2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
        for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
        CHECK("requeue_all_woken", "%d", woke);
        CK("cmp_requeue_negative", futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, -1, (void *)(long)2, &word2, 0));
        CK("requeue_same_addr", futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)1, &word, 0));
    }
    /* wake_op */
    {
        word = 0; word2 = 5;
        long r = futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(long)1, &word2, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 5));
        CHECK("wake_op", "%ld word2=%u", r, word2);
    }
    /* shared futex across fork: child waits, parent wakes */
    {
        uint32_t *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        *sh = 0;
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            long r = futex(sh, FUTEX_WAIT, 0, &(struct timespec){5, 0}, NULL, 0);
            _exit(r == 0 ? 0 : 1);
        }
        CHECK("child_waiter_asleep", "%d", all_sleeping(&p, 1));
        /* a private wake does not wake a shared waiter in another process */
        CK("private_wake_on_shared_page", futex(sh, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
        long r = futex(sh, FUTEX_WAKE, 1, NULL, NULL, 0);
        int st;
        waitpid(p, &st, 0);
        CHECK("shared_wake", "%ld %s", r, wstr(st));
    }
    /* a handler with SA_RESTART interrupts a timed wait (EINTR, as Linux's
     * restart block) but restarts an untimed one */
    {
        struct sigaction sa = {0};
        sa.sa_handler = on_alarm;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGALRM, &sa, NULL);
        word = 0;
        struct itimerval it = {{0, 0}, {0, 50000}};
        setitimer(ITIMER_REAL, &it, NULL);
        CK("timed_wait_sa_restart_handler", futex(&word, FUTEX_WAIT_PRIVATE, 0, &(struct timespec){2, 0}, NULL, 0));
        alarms = 0;
        setitimer(ITIMER_REAL, &it, NULL);
        CK("bitset_abs_wait_sa_restart_handler",
           futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &(struct timespec){time(NULL) + 100000, 0}, NULL, FUTEX_BITSET_MATCH_ANY));
        /* untimed: restarted after the handler, then woken by a second alarm's handler */
        alarms = 0;
        wake_from_handler = 1;
        struct itimerval two = {{0, 50000}, {0, 50000}};
        setitimer(ITIMER_REAL, &two, NULL);
        long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        int e = errno;
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        /* restarted: the word changed meanwhile (EAGAIN), not EINTR */
        CHECK("untimed_wait_sa_restart_handler", "%ld %s handlers>=2 %d", r, r < 0 ? strerror(e) : "-", alarms >= 2);
        wake_from_handler = 0;
        signal(SIGALRM, SIG_DFL);
    }
    /* robust list and futex_waitv */
    {
        struct robust_list_head *head;
        size_t len;
        CK("get_robust_list", syscall(SYS_get_robust_list, 0, &head, &len));
        CHECK("robust_list_len", "%zu", len);
        CK("set_robust_list_bad_len", syscall(SYS_set_robust_list, head, 1));
        CK("futex_waitv_zero", syscall(449, NULL, 0, 0, NULL, 0));
    }
    return 0;
}
