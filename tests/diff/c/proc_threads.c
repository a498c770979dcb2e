#include "difftest.h"
/* Processes: threads through pthreads (clone with CLONE_THREAD etc.), raw clone flag errors. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <dirent.h>
#include <stdint.h>
/* struct clone_args from linux/sched.h (not visible to musl-gcc) */
struct clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#define NT 4
static pid_t main_pid, main_tid;
static __thread int tls_value = 5;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t bar;
static int counter;
static volatile int stop_threads;

static void *worker(void *arg) {
    long i = (long)arg;
    int ok_pid = getpid() == main_pid;
    int ok_tid = syscall(SYS_gettid) != main_tid;
    tls_value += (int)i;
    for (int k = 0; k < 1000; k++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
    }
    return (void *)(long)((ok_pid << 1 | ok_tid) * 100 + tls_value);
}

static void *waiter(void *arg) {
    (void)arg;
    pthread_barrier_wait(&bar);
    while (!stop_threads) usleep(1000);
    return NULL;
}

static volatile int got_sig_in_thread;
static pid_t thread_tid;
static void on_usr1(int s) { (void)s; got_sig_in_thread = syscall(SYS_gettid) == thread_tid ? 1 : 2; }
static void *sig_target(void *arg) {
    (void)arg;
    thread_tid = syscall(SYS_gettid);
    pthread_barrier_wait(&bar);
    while (!got_sig_in_thread) usleep(1000);
    return NULL;
}

/* The number of tasks once it equals want (a thread that pthread_join has seen end may still
 * be listed for a moment), or the last count seen after 2 s. */
static int count_tasks_raw(void);
static int count_tasks(int want) {
    int n = -1;
    for (int i = 0; i < 200; i++) {
        n = count_tasks_raw();
        if (n == want) break;
        usleep(10000);
    }
    return n;
}
static int count_tasks_raw(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) if (de->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void *exit_group_thread(void *arg) { (void)arg; usleep(1000); syscall(SYS_exit_group, 21); return NULL; }
static int exit_group_from_thread(void) {
    pthread_t t;
    pthread_create(&t, NULL, exit_group_thread, NULL);
    for (;;) pause();
    return 0;
}
static void *segv_thread(void *arg) { (void)arg; *(volatile int *)8 = 1; return NULL; }
static int segv_in_thread(void) {
    pthread_t t;
    pthread_create(&t, NULL, segv_thread, NULL);
    for (;;) pause();
    return 0;
}
static void *pexit_thread(void *arg) { (void)arg; pthread_exit((void *)7); }
static int main_exits_thread_runs(void) {
    /* main thread calls SYS_exit (not exit_group): the process lives on until the last thread */
    pthread_t t;
    pthread_create(&t, NULL, exit_group_thread, NULL);
    syscall(SYS_exit, 0);
    return 0;
}

int main(void) {
    setup();
    main_pid = getpid();
    main_tid = syscall(SYS_gettid);
    CHECK("main_tid_is_pid", "%d", main_tid == main_pid);
    pthread_t t[NT];
    for (long i = 0; i < NT; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    char rets[128] = "";
    for (int i = 0; i < NT; i++) {
        void *r;
        pthread_join(t[i], &r);
        char b[16];
        snprintf(b, sizeof b, "%ld ", (long)r);
        strcat(rets, b);
    }
    CHECK("thread_results", "%s", rets);
    CHECK("mutex_counter", "%d", counter);
    CHECK("tls_main_unchanged", "%d", tls_value);
    {
        pthread_t p;
        void *r;
        pthread_create(&p, NULL, pexit_thread, NULL);
        pthread_join(p, &r);
        CHECK("pthread_exit_value", "%ld", (long)r);
    }
    /* /proc/self/task lists every thread */
    pthread_barrier_init(&bar, NULL, 3);
    stop_threads = 0;
    pthread_t w1, w2;
    pthread_create(&w1, NULL, waiter, NULL);
    pthread_create(&w2, NULL, waiter, NULL);
    pthread_barrier_wait(&bar);
    CHECK("proc_task_count_3", "%d", count_tasks(3));
    stop_threads = 1;
    pthread_join(w1, NULL);
    pthread_join(w2, NULL);
    CHECK("proc_task_count_after_join", "%d", count_tasks(1));
    pthread_barrier_destroy(&bar);
    /* a signal sent with tgkill goes to that thread */
    {
        signal(SIGUSR1, on_usr1);
        pthread_barrier_init(&bar, NULL, 2);
        pthread_t st;
        pthread_create(&st, NULL, sig_target, NULL);
        pthread_barrier_wait(&bar);
        CK("tgkill_thread", syscall(SYS_tgkill, main_pid, thread_tid, SIGUSR1));
        pthread_join(st, NULL);
        CHECK("signal_delivered_to_target_thread", "%d", got_sig_in_thread);
        CK("tgkill_wrong_tgid", syscall(SYS_tgkill, main_pid + 100000, main_tid, SIGUSR1));
        CK("tgkill_bad_signal", syscall(SYS_tgkill, main_pid, main_tid, 100));
        CK("tgkill_signal0_self", syscall(SYS_tgkill, main_pid, main_tid, 0));
        pthread_barrier_destroy(&bar);
    }
    /* pthread_cond */
    {
        pthread_mutex_lock(&mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
        int r = pthread_cond_timedwait(&cv, &mu, &ts);
        pthread_mutex_unlock(&mu);
        CHECK("cond_timedwait_timeout", "%s", errname(r));
    }
    CHECK("exit_group_from_thread", "%s", wstr(in_child(exit_group_from_thread)));
    CHECK("segv_in_thread_kills_process", "%s", wstr(in_child(segv_in_thread)));
    CHECK("main_thread_exit_process_lives", "%s", wstr(in_child(main_exits_thread_runs)));
    /* raw clone flag validation (fails before creating anything) */
    CK("clone_thread_without_sighand", syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0));
    CK("clone_sighand_without_vm", syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0));
    CK("clone_newns_and_fs", syscall(SYS_clone, CLONE_NEWNS | CLONE_FS, 0, 0, 0, 0));
    CK("clone_newuser_and_fs", syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0));
    {
        struct clone_args ca;
        memset(&ca, 0, sizeof ca);
        CK("clone3_size_too_small", syscall(SYS_clone3, &ca, 8));
        CK("clone3_size_unaligned_big", syscall(SYS_clone3, &ca, 4097 * 8));
        ca.flags = CLONE_THREAD;
        CK("clone3_thread_alone", syscall(SYS_clone3, &ca, sizeof ca));
        ca.flags = 0;
        ca.exit_signal = 0x100;
        CK("clone3_bad_exit_signal", syscall(SYS_clone3, &ca, sizeof ca));
    }
    /* clone3 as fork */
    {
        struct clone_args ca;
        memset(&ca, 0, sizeof ca);
        ca.exit_signal = SIGCHLD;
        fflush(stdout);
        long r = syscall(SYS_clone3, &ca, sizeof ca);
        if (r == 0) _exit(33);
        int st = 0;
        if (r > 0) waitpid(r, &st, 0);
        CHECK("clone3_fork", "%s", r > 0 ? wstr(st) : errname(errno));
    }
    /* sched_getaffinity: both CPUs of -smp 2 */
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        sched_getaffinity(0, sizeof set, &set);
        CHECK("affinity_cpu_count", "%d", CPU_COUNT(&set));
        CHECK("nprocs_onln", "%ld", sysconf(_SC_NPROCESSORS_ONLN));
        CK("sched_yield", sched_yield());
        CK("sched_getscheduler", sched_getscheduler(0));
    }
    return 0;
}
