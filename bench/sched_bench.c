// Scheduler benchmarks, run as /init on Keel and on Linux 6.12 in the same
// QEMU (bench/sched.py compares the kernels), or by hand on any Linux:
//   sched_bench [-c tsc|mono] MODE ARGS...     one benchmark
//   sched_bench                                as init: one MODE line at a time from /args
//                                              ("settle SECONDS" sleeps first)
// Modes:
//   hackbench process|thread GROUPS LOOPS      hackbench -pipe: GROUPS groups of 20 senders
//                                              and 20 receivers, each sender writes LOOPS
//                                              100-byte messages to each receiver of its group
//   wakeup MSG WORKERS ROUNDS WORK             schbench-like: MSG message threads each wake
//                                              WORKERS workers ROUNDS times; latency from the
//                                              stamp written before the wake to the worker running
//   pingpong pipe|futex process|thread N       N round trips between two tasks on CPU 0
//   yield process|thread N                     two tasks on CPU 0 each call sched_yield N times
// Output: "bench NAME VALUE" (ns), "check NAME ..." (sanity: plausible, no starvation).
// Clock: "tsc" reads the TSC, which counts virtual ns under QEMU's -icount
// shift=0 without trusting either kernel's clock; "mono" is CLOCK_MONOTONIC.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int use_tsc;
// What the mode's main thread is doing, in memory shared with init, which
// prints it if the mode hangs.
static char* phase;

static void set_phase(const char* what, int n) {
    if (phase) snprintf(phase, 128, "%s %d", what, n);
}

static inline uint64_t now_ns(void) {
    if (use_tsc) {
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return ((uint64_t)hi << 32) | lo;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char* what) {
    printf("error %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static void report(const char* name, uint64_t value) {
    printf("bench %s %llu\n", name, (unsigned long long)value);
    fflush(stdout);
}

static long futex(volatile uint32_t* word, int op, uint32_t val) {
    return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void pin_cpu0(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) die("sched_setaffinity");
}

// Runs fn(arg) in a new process or a new thread (small stack: hackbench
// makes hundreds). wait_task() waits for it.
typedef struct {
    pid_t pid;
    pthread_t thread;
} Task;

static int thread_mode;

static Task start_task(void* (*fn)(void*), void* arg) {
    Task t = {0};
    if (thread_mode) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 << 10);
        if (pthread_create(&t.thread, &attr, fn, arg) != 0) die("pthread_create");
        pthread_attr_destroy(&attr);
    } else {
        t.pid = fork();
        if (t.pid < 0) die("fork");
        if (t.pid == 0) {
            fn(arg);
            _exit(0);
        }
    }
    return t;
}

static void wait_task(Task t) {
    static int joins;  // callers wait for their tasks in creation order
    set_phase(thread_mode ? "pthread_join of task number" : "waitpid for task number", joins++);
    if (thread_mode) {
        pthread_join(t.thread, NULL);
        return;
    }
    int status;
    if (waitpid(t.pid, &status, 0) != t.pid) die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("error task exited with status %#x\n", status);
        exit(1);
    }
}

static void dump_tasks(void);

// Shared between processes (MAP_SHARED) as well as threads.
static void* shared_page(size_t len) {
    void* p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("mmap");
    return p;
}

// ---- hackbench -pipe ----
enum { kGroupSize = 20, kMessage = 100 };

typedef struct {
    int ready_fd, go_fd;  // announce readiness, then wait for the start byte
    int in_fd;            // receiver: its pipe
    int* out_fds;         // sender: every receiver of the group
    long loops;
} HackTask;

static void hack_wait_start(const HackTask* h) {
    char c = 0;
    if (write(h->ready_fd, &c, 1) != 1) die("ready write");
    if (read(h->go_fd, &c, 1) != 1) die("go read");
}

static void* hack_sender(void* arg) {
    const HackTask* h = arg;
    char data[kMessage];
    memset(data, 'm', sizeof(data));
    hack_wait_start(h);
    for (long i = 0; i < h->loops; ++i)
        for (int j = 0; j < kGroupSize; ++j)
            for (size_t done = 0; done < kMessage;) {
                ssize_t r = write(h->out_fds[j], data + done, kMessage - done);
                if (r <= 0) die("sender write");
                done += (size_t)r;
            }
    return NULL;
}

static void* hack_receiver(void* arg) {
    const HackTask* h = arg;
    char data[kMessage];
    hack_wait_start(h);
    for (long i = 0; i < h->loops * kGroupSize; ++i)
        for (size_t done = 0; done < kMessage;) {
            ssize_t r = read(h->in_fd, data + done, kMessage - done);
            if (r <= 0) die("receiver read");
            done += (size_t)r;
        }
    return NULL;
}

static void hackbench(int groups, long loops) {
    int ready[2], go[2];
    if (pipe(ready) || pipe(go)) die("pipe");
    int ntasks = groups * 2 * kGroupSize;
    HackTask* hs = calloc((size_t)ntasks, sizeof(*hs));
    int* fds = calloc((size_t)groups * kGroupSize, sizeof(int));
    Task* tasks = calloc((size_t)ntasks, sizeof(*tasks));
    if (!hs || !fds || !tasks) die("calloc");
    int n = 0;
    for (int g = 0; g < groups; ++g) {
        int* out = fds + g * kGroupSize;
        for (int r = 0; r < kGroupSize; ++r) {
            int p[2];
            if (pipe(p)) die("pipe");
            out[r] = p[1];
            hs[n] = (HackTask){ready[1], go[0], p[0], NULL, loops};
            tasks[n] = start_task(hack_receiver, &hs[n]);
            ++n;
        }
        for (int s = 0; s < kGroupSize; ++s) {
            hs[n] = (HackTask){ready[1], go[0], -1, out, loops};
            tasks[n] = start_task(hack_sender, &hs[n]);
            ++n;
        }
    }
    char buf[64];
    for (int got = 0; got < ntasks;) {
        ssize_t r = read(ready[0], buf, sizeof(buf) < (size_t)(ntasks - got) ? sizeof(buf) : (size_t)(ntasks - got));
        if (r <= 0) die("ready read");
        got += (int)r;
    }
    char* start = calloc((size_t)ntasks, 1);
    uint64_t t0 = now_ns();
    if (write(go[1], start, (size_t)ntasks) != ntasks) die("go write");
    for (int i = 0; i < ntasks; ++i) wait_task(tasks[i]);
    uint64_t t1 = now_ns();
    char name[64];
    snprintf(name, sizeof(name), "hackbench_%s_g%d_l%ld", thread_mode ? "thread" : "process", groups, loops);
    report(name, t1 - t0);
    printf("check %s messages %ld\n", name, (long)groups * kGroupSize * kGroupSize * loops);
}

// ---- wake-up latency (schbench-like) ----
typedef struct Msg Msg;
typedef struct {
    volatile uint32_t gen;  // bumped by the message thread to wake the worker
    volatile long done;     // wake-ups handled, for the progress watchdog
    uint64_t stamp;         // written before the wake
    int waker_cpu;          // where the message thread ran when it woke us
    long same_cpu;          // wake-ups that ran on the waker's CPU
    uint64_t* lat;
    long rounds;
    unsigned work;
    int bit;
    Msg* msg;
} Worker;

struct Msg {
    volatile uint32_t ready;  // bit per worker that has finished its work and sleeps
    volatile int waiting;     // in FUTEX_WAIT on ready (for the watchdog's report)
    volatile long sent;       // wake-ups sent
    int nworkers;
    Worker* workers;
};

static volatile uint32_t workers_finished;

static void spin_work(unsigned iters) {
    volatile uint64_t x = 0;
    for (unsigned i = 0; i < iters; ++i) x += (uint64_t)i * i;
}

static void worker_post(Worker* w) {
    __atomic_fetch_or(&w->msg->ready, 1u << w->bit, __ATOMIC_RELEASE);
    futex(&w->msg->ready, FUTEX_WAKE_PRIVATE, 1);
}

static void* worker_main(void* arg) {
    Worker* w = arg;
    uint32_t seen = 0;
    worker_post(w);
    for (long i = 0; i < w->rounds; ++i) {
        uint32_t g;
        while ((g = __atomic_load_n(&w->gen, __ATOMIC_ACQUIRE)) == seen) futex(&w->gen, FUTEX_WAIT_PRIVATE, seen);
        uint64_t t = now_ns();
        seen = g;
        w->lat[i] = t - w->stamp;
        if (sched_getcpu() == w->waker_cpu) ++w->same_cpu;
        w->done = i + 1;
        spin_work(w->work);
        worker_post(w);
    }
    __atomic_fetch_add(&workers_finished, 1, __ATOMIC_RELEASE);
    futex(&workers_finished, FUTEX_WAKE_PRIVATE, 1);
    return NULL;
}

static void* message_main(void* arg) {
    Msg* m = arg;
    long* sent = calloc((size_t)m->nworkers, sizeof(long));
    int finished = 0;
    while (finished < m->nworkers) {
        uint32_t r = __atomic_exchange_n(&m->ready, 0, __ATOMIC_ACQUIRE);
        if (r == 0) {
            m->waiting = 1;
            futex(&m->ready, FUTEX_WAIT_PRIVATE, 0);
            m->waiting = 0;
            continue;
        }
        for (int i = 0; i < m->nworkers; ++i) {
            if (!(r & (1u << i))) continue;
            Worker* w = &m->workers[i];
            if (sent[i] == w->rounds) continue;
            w->waker_cpu = sched_getcpu();
            w->stamp = now_ns();
            __atomic_fetch_add(&w->gen, 1, __ATOMIC_RELEASE);
            futex(&w->gen, FUTEX_WAKE_PRIVATE, 1);
            ++m->sent;
            if (++sent[i] == w->rounds) ++finished;
        }
    }
    free(sent);
    return NULL;
}

// Waits until every worker has finished. Without progress for 10 s (a lost
// wake-up) it prints what each thread was waiting for and exits. It sleeps in
// FUTEX_WAIT with a timeout that the last worker's FUTEX_WAKE ends in any
// case: Keel at b3c822b can lose a sleeping thread's timer (see README).
static void wakeup_watch(Msg* msgs, int nmsg, int nworkers, long total) {
    long last = -1, done = 0;
    int still = 0;
    for (;;) {
        uint32_t fin = __atomic_load_n(&workers_finished, __ATOMIC_ACQUIRE);
        if ((int)fin == nmsg * nworkers) return;
        done = 0;
        for (int m = 0; m < nmsg; ++m)
            for (int i = 0; i < msgs[m].nworkers; ++i) done += msgs[m].workers[i].done;
        still = done == last ? still + 1 : 0;
        last = done;
        if (still == 10) break;
        set_phase("wakeup_watch: FUTEX_WAIT for 1 s, done", (int)done);
        struct timespec second = {1, 0};
        syscall(SYS_futex, &workers_finished, FUTEX_WAIT_PRIVATE, fin, &second, NULL, 0);
    }
    printf("error wakeup stalled: %ld of %ld wake-ups handled\n", last, total);
    for (int m = 0; m < nmsg; ++m) {
        Msg* g = &msgs[m];
        printf("error   message thread %d: sent %ld, ready bits %#x, %s\n", m, g->sent, g->ready,
               g->waiting ? "in FUTEX_WAIT on ready" : "not waiting");
        for (int i = 0; i < g->nworkers; ++i) {
            Worker* w = &g->workers[i];
            printf("error     worker %d: handled %ld, gen %u\n", i, w->done, w->gen);
        }
    }
    dump_tasks();
    fflush(stdout);
    _exit(3);
}

static int cmp_u64(const void* a, const void* b) {
    uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
    return x < y ? -1 : x > y;
}

static void wakeup(int nmsg, int nworkers, long rounds, unsigned work) {
    if (nworkers > 32) nworkers = 32;
    thread_mode = 1;
    Msg* msgs = calloc((size_t)nmsg, sizeof(Msg));
    long total = (long)nmsg * nworkers * rounds;
    uint64_t* lat = calloc((size_t)total, sizeof(uint64_t));
    Task* tasks = calloc((size_t)nmsg * (nworkers + 1), sizeof(Task));
    if (!msgs || !lat || !tasks) die("calloc");
    int nt = 0;
    uint64_t t0 = now_ns();
    for (int m = 0; m < nmsg; ++m) {
        msgs[m].nworkers = nworkers;
        msgs[m].workers = calloc((size_t)nworkers, sizeof(Worker));
        for (int i = 0; i < nworkers; ++i)
            msgs[m].workers[i] = (Worker){
                .lat = lat + ((long)m * nworkers + i) * rounds, .rounds = rounds, .work = work, .bit = i, .msg = &msgs[m]};
        tasks[nt++] = start_task(message_main, &msgs[m]);
        for (int i = 0; i < nworkers; ++i) tasks[nt++] = start_task(worker_main, &msgs[m].workers[i]);
    }
    wakeup_watch(msgs, nmsg, nworkers, total);
    for (int i = 0; i < nt; ++i) wait_task(tasks[i]);
    uint64_t t1 = now_ns();
    // Starvation shows as a worker whose worst wake-up dwarfs the others'.
    uint64_t worst_min = UINT64_MAX, worst_max = 0;
    for (long w = 0; w < (long)nmsg * nworkers; ++w) {
        uint64_t worst = 0;
        for (long i = 0; i < rounds; ++i)
            if (lat[w * rounds + i] > worst) worst = lat[w * rounds + i];
        if (worst < worst_min) worst_min = worst;
        if (worst > worst_max) worst_max = worst;
    }
    long same = 0;
    for (int m = 0; m < nmsg; ++m)
        for (int i = 0; i < nworkers; ++i) same += msgs[m].workers[i].same_cpu;
    qsort(lat, (size_t)total, sizeof(uint64_t), cmp_u64);
    char name[64];
    snprintf(name, sizeof(name), "wakeup_m%d_w%d", nmsg, nworkers);
    char full[96];
    snprintf(full, sizeof(full), "%s_p50", name);
    report(full, lat[total * 50 / 100]);
    snprintf(full, sizeof(full), "%s_p99", name);
    report(full, lat[total * 99 / 100]);
    snprintf(full, sizeof(full), "%s_p999", name);
    report(full, lat[total * 999 / 1000]);
    printf("check %s wakeups %ld max %llu per-worker-worst %llu..%llu total %llu on-waker's-cpu %.2f\n", name,
           total, (unsigned long long)lat[total - 1], (unsigned long long)worst_min, (unsigned long long)worst_max,
           (unsigned long long)(t1 - t0), (double)same / (double)total);
}

// ---- context switches on one CPU ----
typedef struct {
    volatile uint32_t ping, pong;  // futex words
    volatile uint32_t arrived;
    volatile int last;             // yield: which task ran the latest iteration
    long switches[2];
    uint64_t start[2], end[2];
    int pipes[4];                  // a[0] a[1] b[0] b[1]
    long rounds;
    int futex_op_wait, futex_op_wake;
    int inherited;                 // the peer started with the creator's CPU 0 mask
} Pair;

static void peer_pin(Pair* p) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) p->inherited = CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set);
    pin_cpu0();
}

// Every task pins itself: Keel at b3c822b does not pass the affinity mask
// on through fork or clone (Linux does).
static void* pipe_peer(void* arg) {
    Pair* p = arg;
    peer_pin(p);
    char c;
    for (long i = 0; i < p->rounds; ++i) {
        if (read(p->pipes[0], &c, 1) != 1) die("peer read");
        if (write(p->pipes[3], &c, 1) != 1) die("peer write");
    }
    return NULL;
}

static void* futex_peer(void* arg) {
    Pair* p = arg;
    peer_pin(p);
    for (long i = 0; i < p->rounds; ++i) {
        while (__atomic_load_n(&p->ping, __ATOMIC_ACQUIRE) == 0) futex(&p->ping, p->futex_op_wait, 0);
        __atomic_store_n(&p->ping, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&p->pong, 1, __ATOMIC_RELEASE);
        futex(&p->pong, p->futex_op_wake, 1);
    }
    return NULL;
}

static void pingpong(const char* via, long rounds) {
    pin_cpu0();
    Pair* p = shared_page(sizeof(Pair));
    p->rounds = rounds;
    int is_pipe = strcmp(via, "pipe") == 0;
    p->futex_op_wait = thread_mode ? FUTEX_WAIT_PRIVATE : FUTEX_WAIT;
    p->futex_op_wake = thread_mode ? FUTEX_WAKE_PRIVATE : FUTEX_WAKE;
    if (is_pipe && (pipe(p->pipes) || pipe(p->pipes + 2))) die("pipe");
    Task t = start_task(is_pipe ? pipe_peer : futex_peer, p);
    char c = 'x';
    uint64_t t0 = now_ns();
    for (long i = 0; i < rounds; ++i) {
        if (is_pipe) {
            if (write(p->pipes[1], &c, 1) != 1) die("write");
            if (read(p->pipes[2], &c, 1) != 1) die("read");
        } else {
            __atomic_store_n(&p->ping, 1, __ATOMIC_RELEASE);
            futex(&p->ping, p->futex_op_wake, 1);
            while (__atomic_load_n(&p->pong, __ATOMIC_ACQUIRE) == 0) futex(&p->pong, p->futex_op_wait, 0);
            __atomic_store_n(&p->pong, 0, __ATOMIC_RELAXED);
        }
    }
    uint64_t t1 = now_ns();
    wait_task(t);
    char name[64];
    snprintf(name, sizeof(name), "ctxsw_%s_%s", via, thread_mode ? "thread" : "process");
    report(name, (t1 - t0) / (2 * (uint64_t)rounds));  // a round trip is two switches
    printf("check %s affinity inherited by the peer: %s\n", name, p->inherited ? "yes" : "no");
}

typedef struct {
    Pair* p;
    int id;
} YieldArg;

static void* yield_main(void* arg) {
    YieldArg* y = arg;
    Pair* p = y->p;
    pin_cpu0();
    __atomic_fetch_add(&p->arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&p->arrived, __ATOMIC_ACQUIRE) < 2) sched_yield();
    p->start[y->id] = now_ns();
    long switches = 0;
    for (long i = 0; i < p->rounds; ++i) {
        if (p->last != y->id) ++switches;
        p->last = y->id;
        sched_yield();
    }
    p->end[y->id] = now_ns();
    p->switches[y->id] = switches;
    return NULL;
}

static void yield_bench(long rounds) {
    pin_cpu0();
    Pair* p = shared_page(sizeof(Pair));
    p->rounds = rounds;
    p->last = -1;
    YieldArg a[2] = {{p, 0}, {p, 1}};
    Task t = start_task(yield_main, &a[1]);
    yield_main(&a[0]);
    wait_task(t);
    uint64_t t0 = p->start[0] < p->start[1] ? p->start[0] : p->start[1];
    uint64_t t1 = p->end[0] > p->end[1] ? p->end[0] : p->end[1];
    char name[64];
    snprintf(name, sizeof(name), "yield_%s", thread_mode ? "thread" : "process");
    report(name, (t1 - t0) / (2 * (uint64_t)rounds));
    // With two runnable tasks on one CPU every yield should hand the CPU over.
    printf("check %s alternation %.3f (switches %ld+%ld of %ld yields)\n", name,
           (double)(p->switches[0] + p->switches[1]) / (double)(2 * rounds), p->switches[0], p->switches[1],
           2 * rounds);
}

// ---- driver ----
static int set_kind(const char* kind) {
    if (strcmp(kind, "thread") == 0) return thread_mode = 1, 0;
    if (strcmp(kind, "process") == 0) return thread_mode = 0, 0;
    return -1;
}

static int run_mode(int argc, char** argv) {
    if (argc >= 3 && strcmp(argv[0], "-c") == 0) {
        use_tsc = strcmp(argv[1], "tsc") == 0;
        argc -= 2;
        argv += 2;
    }
    if (argc == 4 && strcmp(argv[0], "hackbench") == 0 && set_kind(argv[1]) == 0) {
        hackbench(atoi(argv[2]), atol(argv[3]));
    } else if (argc == 5 && strcmp(argv[0], "wakeup") == 0) {
        wakeup(atoi(argv[1]), atoi(argv[2]), atol(argv[3]), (unsigned)atol(argv[4]));
    } else if (argc == 4 && strcmp(argv[0], "pingpong") == 0 && set_kind(argv[2]) == 0) {
        pingpong(argv[1], atol(argv[3]));
    } else if (argc == 3 && strcmp(argv[0], "yield") == 0 && set_kind(argv[1]) == 0) {
        yield_bench(atol(argv[2]));
    } else {
        fprintf(stderr, "usage: sched_bench [-c tsc|mono] hackbench|wakeup|pingpong|yield ARGS...\n");
        return 2;
    }
    fflush(stdout);
    return 0;
}

static void on_alarm(int sig) { (void)sig; }

// A mode that hangs: show each task's state from /proc (comm, state, wchan
// where the kernel has it), then kill the mode's process group.
static void dump_tasks(void) {
    DIR* procs = opendir("/proc");
    if (!procs) return;
    struct dirent* p;
    while ((p = readdir(procs))) {
        if (p->d_name[0] < '0' || p->d_name[0] > '9' || strcmp(p->d_name, "1") == 0) continue;
        char path[600], line[512];
        snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
        DIR* tasks = opendir(path);
        if (!tasks) continue;
        struct dirent* t;
        while ((t = readdir(tasks))) {
            if (t->d_name[0] == '.') continue;
            snprintf(path, sizeof(path), "/proc/%s/task/%s/stat", p->d_name, t->d_name);
            FILE* f = fopen(path, "r");
            if (!f) continue;
            char* got = fgets(line, sizeof(line), f);
            fclose(f);
            if (!got) continue;
            line[strcspn(line, "\n")] = 0;
            char* end = strrchr(line, ')');  // "tid (comm) state ..."
            char wchan[64] = "-";
            snprintf(path, sizeof(path), "/proc/%s/task/%s/wchan", p->d_name, t->d_name);
            if ((f = fopen(path, "r"))) {
                if (fgets(wchan, sizeof(wchan), f)) wchan[strcspn(wchan, "\n")] = 0;
                fclose(f);
            }
            printf("error   task %s/%s state %c wchan %s\n", p->d_name, t->d_name, end ? end[2] : '?', wchan);
        }
        closedir(tasks);
    }
    closedir(procs);
}

// As init: each line of /args is one mode, run in a child of its own so that
// affinity and leftover tasks do not carry over to the next.
enum { kModeLimit = 60 };  // seconds; every mode takes well under 10 on either kernel

static void run_as_init(void) {
    FILE* f = fopen("/args", "r");
    if (!f) die("/args");
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    phase = shared_page(4096);
    struct sigaction sa = {.sa_handler = on_alarm};  // no SA_RESTART: waitpid returns EINTR
    sigaction(SIGALRM, &sa, NULL);
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        char* av[16];
        int ac = 0;
        for (char* tok = strtok(line, " \t\n"); tok && ac < 15; tok = strtok(NULL, " \t\n")) av[ac++] = tok;
        if (ac == 0 || av[0][0] == '#') continue;
        if (ac == 2 && strcmp(av[0], "settle") == 0) {
            // Let the kernel finish its own start-up work first (Linux's
            // kernel threads stay busy for a while after /init starts).
            sleep((unsigned)atoi(av[1]));
            continue;
        }
        printf("mode");
        for (int i = 0; i < ac; ++i) printf(" %s", av[i]);
        printf("\n");
        fflush(stdout);
        pid_t pid = fork();
        strcpy(phase, "starting");
        if (pid == 0) {
            setpgid(0, 0);
            alarm(0);
            _exit(run_mode(ac, av));
        }
        setpgid(pid, pid);
        int status;
        alarm(kModeLimit);  // a blocking wait adds no wake-ups to what is measured
        if (waitpid(pid, &status, 0) != pid) {
            printf("error mode made no end within %d s; its main thread: %s\n", kModeLimit, phase);
            dump_tasks();
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        alarm(0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) printf("error mode exited with status %#x\n", status);
        fflush(stdout);
    }
    printf("bench done\n");
    fflush(stdout);
    // Let the console's transmitter drain before QEMU exits.
    tcdrain(STDOUT_FILENO);
    usleep(100000);
    if (ioperm(0xf4, 4, 1) == 0) outl(0x10, 0xf4);
    reboot(RB_AUTOBOOT);
}

int main(int argc, char** argv) {
    if (getpid() == 1) run_as_init();
    return run_mode(argc - 1, argv + 1);
}
