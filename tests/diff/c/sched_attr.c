/* The sched_* ABI: sched_setattr/getattr with every flag and size rule,
 * the older setscheduler/setparam calls, priorities, nice, RESET_ON_FORK,
 * the RR interval, and what /proc shows of a thread's policy. */
#include "difftest.h"

#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <pthread.h>
#include <time.h>

/* The uapi's struct sched_attr (its header clashes with libc's sched.h). */
struct sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#define SCHED_FLAG_KEEP_POLICY 0x08
#define SCHED_FLAG_KEEP_PARAMS 0x10
#define SCHED_FLAG_KEEP_ALL 0x18
#define SCHED_FLAG_UTIL_CLAMP_MIN 0x20
#define SCHED_FLAG_UTIL_CLAMP_MAX 0x40

static long setattr(pid_t pid, struct sched_attr *a, unsigned flags) {
    return syscall(SYS_sched_setattr, pid, a, flags);
}
static long getattr(pid_t pid, struct sched_attr *a, unsigned size, unsigned flags) {
    return syscall(SYS_sched_getattr, pid, a, size, flags);
}

static void show_attr(const char *name) {
    struct sched_attr a;
    memset(&a, 0xff, sizeof a);
    long r = getattr(0, &a, sizeof a, 0);
    if (r) {
        CHECK(name, "-1 %s", errname(errno));
        return;
    }
    CHECK(name, "size=%u policy=%u flags=%#llx nice=%d prio=%u runtime=%llu deadline=%llu period=%llu umin=%u umax=%u",
          a.size, a.sched_policy, (unsigned long long)a.sched_flags, a.sched_nice, a.sched_priority,
          (unsigned long long)a.sched_runtime, (unsigned long long)a.sched_deadline,
          (unsigned long long)a.sched_period, a.sched_util_min, a.sched_util_max);
}

/* Fields 18, 19, 40 and 41 of /proc/self/stat: priority, nice, rt_priority, policy. */
static void show_stat(const char *name) {
    char buf[1024];
    int fd = open("/proc/thread-self/stat", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return;
    buf[n] = 0;
    char *p = strrchr(buf, ')') + 2;
    char *f[64];
    int nf = 0;
    for (char *t = strtok(p, " "); t && nf < 64; t = strtok(NULL, " ")) f[nf++] = t;
    /* p starts at field 3 */
    CHECK(name, "prio=%s nice=%s rt_priority=%s policy=%s", f[15], f[16], f[37], f[38]);
}

static void rr_interval(const char *name) {
    struct timespec ts = {-1, -1};
    long r = sched_rr_get_interval(0, &ts);
    if (r) CHECK(name, "-1 %s", errname(errno));
    else CHECK(name, "%ld.%09ld", (long)ts.tv_sec, ts.tv_nsec);
}

static int child_policy(void) {
    struct sched_param sp;
    sched_getparam(0, &sp);
    CHECK("child_policy", "%d prio=%d nice=%d", sched_getscheduler(0), sp.sched_priority, getpriority(PRIO_PROCESS, 0));
    show_attr("child_attr");
    return 0;
}

static int child_rt_to_other(void) {
    struct sched_param sp = {0};
    return sched_setscheduler(0, SCHED_OTHER, &sp) == 0 ? 0 : 1;
}

/* Regression: a thread that became real-time without ever being queued as
 * one from the fair class (a forked RT child, a sleeper changed by another
 * process) goes back to SCHED_OTHER. */
static void rt_round_trips(void) {
    struct sched_param sp = {5};
    CK("rt_parent_fifo", sched_setscheduler(0, SCHED_FIFO, &sp));
    CHECK("rt_child_to_other", "%s", wstr(in_child(child_rt_to_other)));
    sp.sched_priority = 0;
    CK("rt_parent_back", sched_setscheduler(0, SCHED_OTHER, &sp));
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        usleep(50000);
        usleep(50000);
        _exit(0);
    }
    sp.sched_priority = 7;
    CK("sleeper_to_fifo", sched_setscheduler(p, SCHED_FIFO, &sp));
    usleep(75000);
    sp.sched_priority = 0;
    CK("sleeper_to_other", sched_setscheduler(p, SCHED_OTHER, &sp));
    int st = 0;
    waitpid(p, &st, 0);
    CHECK("sleeper_exit", "%s", wstr(st));
}

/* Concurrent changes of different attributes are not lost: one thread
 * flips the target's policy between SCHED_OTHER and SCHED_BATCH with
 * KEEP_PARAMS (it leaves nice alone) while another renices the target. */
static volatile int flipping, flips;
static pid_t flip_target;
static void *flipper(void *arg) {
    (void)arg;
    struct sched_attr f;
    for (int i = 0; flipping; i++) {
        memset(&f, 0, sizeof f);
        f.size = sizeof f;
        f.sched_policy = i % 2 ? SCHED_BATCH : SCHED_OTHER;
        f.sched_flags = SCHED_FLAG_KEEP_PARAMS;
        setattr(flip_target, &f, 0);
        __atomic_add_fetch(&flips, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}
static void wait_flips(int n) {
    int until = __atomic_load_n(&flips, __ATOMIC_RELAXED) + n;
    while (__atomic_load_n(&flips, __ATOMIC_RELAXED) < until) {
    }
}
static void concurrent_renice(void) {
    flip_target = gettid();
    int lost = 0;
    for (int round = 0; round < 200; round++) {
        setpriority(PRIO_PROCESS, flip_target, 1);
        flipping = 1;
        pthread_t th;
        pthread_create(&th, NULL, flipper, NULL);
        wait_flips(3);
        setpriority(PRIO_PROCESS, flip_target, 3);
        wait_flips(3);
        flipping = 0;
        pthread_join(th, NULL);
        if (getpriority(PRIO_PROCESS, flip_target) != 3) lost++;
    }
    CHECK("concurrent_renice_lost", "%d", lost);
    struct sched_attr f;
    memset(&f, 0, sizeof f);
    f.size = sizeof f;
    f.sched_policy = SCHED_BATCH;
    f.sched_flags = SCHED_FLAG_KEEP_PARAMS;
    CK("keep_params_batch", setattr(flip_target, &f, 0));
    setpriority(PRIO_PROCESS, flip_target, 0);
}

int main(void) {
    setup();
    struct sched_attr a;

    /* Defaults. */
    show_attr("default_attr");
    show_stat("default_stat");
    CK("getscheduler_default", sched_getscheduler(0));
    CK("priority_max_fifo", sched_get_priority_max(SCHED_FIFO));
    CK("priority_min_rr", sched_get_priority_min(SCHED_RR));
    CK("priority_max_other", sched_get_priority_max(SCHED_OTHER));
    CK("priority_max_deadline", sched_get_priority_max(SCHED_DEADLINE));
    CK("priority_max_bad", sched_get_priority_max(4));
    CK("priority_min_bad", sched_get_priority_min(-1));
    rr_interval("rr_interval_other");

    /* Argument checks. */
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    CK("setattr_null", setattr(0, NULL, 0));
    CK("setattr_negpid", setattr(-1, &a, 0));
    CK("setattr_flags", setattr(0, &a, 1));
    CK("setattr_nopid", setattr(999999, &a, 0));
    CK("setattr_fault", setattr(0, (void *)8, 0));
    a.size = 20;
    CK("setattr_small", setattr(0, &a, 0));
    CHECK("setattr_small_size_back", "%u", a.size);
    struct { struct sched_attr a; char extra[16]; } big;
    memset(&big, 0, sizeof big);
    big.a.size = sizeof big;
    CK("setattr_big_zero_tail", setattr(0, &big.a, 0));
    big.extra[3] = 1;
    CK("setattr_big_nonzero_tail", setattr(0, &big.a, 0));
    CHECK("setattr_big_size_back", "%u", big.a.size);
    memset(&a, 0, sizeof a);
    a.size = 0;
    CK("setattr_size0", setattr(0, &a, 0));
    a.size = sizeof a;
    a.sched_policy = 4;
    CK("setattr_bad_policy", setattr(0, &a, 0));
    a.sched_policy = (unsigned)-1;
    CK("setattr_neg_policy", setattr(0, &a, 0));
    a.sched_policy = SCHED_OTHER;
    a.sched_flags = 0x1000;
    CK("setattr_bad_flags", setattr(0, &a, 0));
    a.sched_flags = 0;
    a.sched_priority = 5;
    CK("setattr_other_prio", setattr(0, &a, 0));
    a.sched_policy = SCHED_FIFO;
    a.sched_priority = 0;
    CK("setattr_fifo_prio0", setattr(0, &a, 0));
    a.sched_priority = 100;
    CK("setattr_fifo_prio100", setattr(0, &a, 0));

    CK("getattr_null", getattr(0, NULL, sizeof a, 0));
    CK("getattr_small", getattr(0, &a, 40, 0));
    CK("getattr_huge", getattr(0, &a, 8192, 0));
    CK("getattr_flags", getattr(0, &a, sizeof a, 1));
    CK("getattr_negpid", getattr(-1, &a, sizeof a, 0));
    CK("getattr_nopid", getattr(999999, &a, sizeof a, 0));
    memset(&a, 0xff, sizeof a);
    CK("getattr_ver0", getattr(0, &a, 48, 0));
    CHECK("getattr_ver0_size", "%u umin_untouched=%d", a.size, a.sched_util_min == 0xffffffffu);
    memset(&big, 0xff, sizeof big);
    CK("getattr_big", getattr(0, &big.a, sizeof big, 0));
    CHECK("getattr_big_size", "%u tail_untouched=%d", big.a.size, (unsigned char)big.extra[0] == 0xff);

    /* Nice and custom slices through sched_setattr. */
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_policy = SCHED_OTHER;
    a.sched_nice = 5;
    CK("setattr_nice5", setattr(0, &a, 0));
    show_attr("after_nice5");
    CK("getpriority_nice5", getpriority(PRIO_PROCESS, 0));
    a.sched_nice = 40;
    CK("setattr_nice40", setattr(0, &a, 0));
    CK("getpriority_nice40_clamped", getpriority(PRIO_PROCESS, 0));
    a.sched_nice = 0;
    a.sched_runtime = 500000;
    CK("setattr_slice_500us", setattr(0, &a, 0));
    show_attr("after_slice_500us");
    rr_interval("rr_interval_slice_500us");
    a.sched_runtime = 10;
    CK("setattr_slice_tiny", setattr(0, &a, 0));
    show_attr("after_slice_tiny");
    a.sched_runtime = 5000000000ull;
    CK("setattr_slice_huge", setattr(0, &a, 0));
    show_attr("after_slice_huge");
    rr_interval("rr_interval_slice_huge");
    CK("setscheduler_batch_keeps_slice", sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){0}));
    show_attr("after_batch");
    a.sched_policy = SCHED_OTHER;
    a.sched_runtime = 0;
    CK("setattr_slice_reset", setattr(0, &a, 0));
    show_attr("after_slice_reset");

    /* Keep flags. */
    a.sched_nice = 3;
    CK("setattr_nice3", setattr(0, &a, 0));
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_policy = SCHED_BATCH;
    a.sched_flags = SCHED_FLAG_KEEP_PARAMS;
    CK("setattr_keep_params", setattr(0, &a, 0));
    show_attr("after_keep_params");
    a.sched_policy = SCHED_FIFO;
    a.sched_flags = SCHED_FLAG_KEEP_POLICY;
    a.sched_nice = -2;
    CK("setattr_keep_policy", setattr(0, &a, 0));
    show_attr("after_keep_policy");
    a.sched_flags = SCHED_FLAG_KEEP_ALL;
    a.sched_nice = 7;
    CK("setattr_keep_all", setattr(0, &a, 0));
    show_attr("after_keep_all");

    /* Utilisation clamps. */
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_flags = SCHED_FLAG_UTIL_CLAMP_MIN | SCHED_FLAG_UTIL_CLAMP_MAX;
    a.sched_util_min = 100;
    a.sched_util_max = 800;
    CK("setattr_uclamp", setattr(0, &a, 0));
    show_attr("after_uclamp");
    a.sched_util_min = 900;
    CK("setattr_uclamp_min_gt_max", setattr(0, &a, 0));
    a.sched_util_min = 2000;
    CK("setattr_uclamp_too_big", setattr(0, &a, 0));
    a.size = 48;
    a.sched_util_min = 10;
    CK("setattr_uclamp_ver0", setattr(0, &a, 0));
    a.size = sizeof a;
    a.sched_util_min = (unsigned)-1;
    a.sched_util_max = (unsigned)-1;
    CK("setattr_uclamp_reset", setattr(0, &a, 0));
    show_attr("after_uclamp_reset");

    /* Real-time policies. */
    struct sched_param sp = {10};
    CK("setscheduler_null", sched_setscheduler(0, SCHED_FIFO, NULL));
    CK("setscheduler_neg", sched_setscheduler(0, -1, &sp));
    CK("setscheduler_bad", sched_setscheduler(0, 7, &sp));
    CK("setscheduler_fifo10", sched_setscheduler(0, SCHED_FIFO, &sp));
    show_attr("after_fifo10");
    show_stat("stat_fifo10");
    rr_interval("rr_interval_fifo");
    CK("getscheduler_fifo", sched_getscheduler(0));
    sp.sched_priority = -1;
    CK("getparam_null", sched_getparam(0, NULL));
    CK("getparam", (sched_getparam(0, &sp), sp.sched_priority));
    sp.sched_priority = 50;
    CK("setparam_50", sched_setparam(0, &sp));
    CK("getparam_50", (sched_getparam(0, &sp), sp.sched_priority));
    sp.sched_priority = 0;
    CK("setparam_0_fifo", sched_setparam(0, &sp));
    CK("setparam_null", sched_setparam(0, NULL));
    sp.sched_priority = 20;
    CK("setscheduler_rr_reset_on_fork", sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp));
    CK("getscheduler_rr_reset", sched_getscheduler(0));
    show_attr("after_rr_reset");
    show_stat("stat_rr20");
    rr_interval("rr_interval_rr");
    CHECK("child_after_reset_on_fork", "%s", wstr(in_child(child_policy)));
    sp.sched_priority = 0;
    CK("setscheduler_other", sched_setscheduler(0, SCHED_OTHER, &sp));
    CK("getscheduler_other", sched_getscheduler(0));
    CK("setscheduler_idle", sched_setscheduler(0, SCHED_IDLE, &sp));
    show_attr("after_idle");
    show_stat("stat_idle");
    CK("setscheduler_batch", sched_setscheduler(0, SCHED_BATCH, &sp));
    CK("getscheduler_batch", sched_getscheduler(0));
    CK("setscheduler_other_again", sched_setscheduler(0, SCHED_OTHER, &sp));
    setpriority(PRIO_PROCESS, 0, 0);

    /* Children inherit nice and policy without RESET_ON_FORK. */
    CK("setpriority_4", setpriority(PRIO_PROCESS, 0, 4));
    CHECK("child_inherits_nice", "%s", wstr(in_child(child_policy)));
    CK("getpriority_pgrp", getpriority(PRIO_PGRP, 0));
    CK("getpriority_user", getpriority(PRIO_USER, 0));
    CK("getpriority_bad_which", getpriority(7, 0));
    CK("getpriority_nopid", getpriority(PRIO_PROCESS, 999999));
    CK("getpriority_nopgrp", getpriority(PRIO_PGRP, 999999));
    CK("setpriority_pgrp_2", setpriority(PRIO_PGRP, 0, 2));
    CK("getpriority_after_pgrp", getpriority(PRIO_PROCESS, 0));
    CK("setpriority_clamp", setpriority(PRIO_PROCESS, 0, 100));
    CK("getpriority_clamped", getpriority(PRIO_PROCESS, 0));
    errno = 0;
    CK("nice_minus_3", nice(-3));
    CK("rr_interval_nopid", sched_rr_get_interval(999999, &(struct timespec){0}));
    CK("rr_interval_negpid", sched_rr_get_interval(-1, &(struct timespec){0}));
    CK("rr_interval_fault", sched_rr_get_interval(0, (void *)8));
    a.sched_policy = SCHED_DEADLINE;
    a.sched_flags = 0;
    a.sched_runtime = 10000000;
    a.sched_deadline = 30000000;
    a.sched_period = 30000000;
    rt_round_trips();
    /* SCHED_IDLE takes neither a nice value nor a slice request. */
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_policy = SCHED_OTHER;
    a.sched_nice = 2;
    CK("setattr_nice2_again", setattr(0, &a, 0));
    a.sched_policy = SCHED_IDLE;
    a.sched_nice = 9;
    a.sched_runtime = 300000;
    CK("setattr_idle_nice9", setattr(0, &a, 0));
    show_attr("after_idle_nice9");
    a.sched_policy = SCHED_OTHER;
    a.sched_nice = 2;
    a.sched_runtime = 0;
    CK("setattr_other_again", setattr(0, &a, 0));
    a.sched_policy = SCHED_DEADLINE;
    a.sched_runtime = 10000000;
    a.sched_deadline = 30000000;
    a.sched_period = 4194304001ull;
    CK("setattr_deadline_period_too_long", setattr(0, &a, 0));
    CK("setattr_deadline_bad_params", (a.sched_deadline = 1000, setattr(0, &a, 0)));
    a.sched_policy = SCHED_OTHER;
    a.sched_nice = 0;
    a.sched_runtime = 0;
    CK("setattr_other_nice0", setattr(0, &a, 0));
    concurrent_renice();
    return 0;
}
