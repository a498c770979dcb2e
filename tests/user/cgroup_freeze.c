/* cgroup v2 freezer: cgroup.freeze stops every thread of a cgroup (two
 * spinners, one of them with a second thread, and a sleeper) until it is
 * written 0; cgroup.events says "frozen 1" once they are all stopped, with
 * a poll wake-up; signals wait for the thaw except the fatal ones; moving
 * out thaws, moving in and forking in (clone3 CLONE_INTO_CGROUP) freeze; an
 * ancestor's cgroup.freeze freezes a child; cgroup.events works in epoll. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NCOUNT 8
static volatile unsigned long *counters; /* shared with the children */
static volatile unsigned long *terms;    /* SIGTERM handler runs, per child */
static int my_slot;

static void msleep(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int put(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -errno;
    int r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -errno;
    close(fd);
    return r;
}

static const char *res(int r) { return r == 0 ? "ok" : strerror(-r); }

static int move_to(const char *cg, int pid) {
    char path[128], text[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", cg);
    snprintf(text, sizeof text, "%d", pid);
    return put(path, text);
}

/* cgroup.events' "frozen" value, -1 on error. */
static int frozen_of(const char *cg) {
    char path[128], buf[256] = {0};
    snprintf(path, sizeof path, "%s/cgroup.events", cg);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    read(fd, buf, sizeof buf - 1);
    close(fd);
    char *p = strstr(buf, "frozen ");
    return p ? p[7] - '0' : -1;
}

/* Waits up to 5 s for cgroup.events to show frozen == want. */
static int wait_frozen(const char *cg, int want) {
    for (int i = 0; i < 500; i++) {
        if (frozen_of(cg) == want) return 1;
        msleep(10);
    }
    return 0;
}

static void on_term(int sig) {
    (void)sig;
    terms[my_slot]++;
}

static void *spin_thread(void *arg) {
    int slot = (int)(long)arg;
    for (;;) counters[slot]++;
    return NULL;
}

/* A child counting in counters[slot]: spinning, or sleeping 1 ms a round. */
static pid_t start(int slot, int sleeper, int with_thread, int term_handler) {
    pid_t p = fork();
    if (p == 0) {
        my_slot = slot;
        if (term_handler) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_term;
            sa.sa_flags = SA_RESTART;
            sigaction(SIGTERM, &sa, NULL);
        }
        if (with_thread) {
            pthread_t t;
            pthread_create(&t, NULL, spin_thread, (void *)(long)(slot + 1));
        }
        for (;;) {
            if (sleeper) usleep(1000);
            counters[slot]++;
        }
    }
    return p;
}

/* Did every counter in [from, to) move during `ms`? 1 all, 0 none, 2 some. */
static int progress(int from, int to, int ms) {
    unsigned long before[NCOUNT];
    for (int i = from; i < to; i++) before[i] = counters[i];
    msleep(ms);
    int moved = 0;
    for (int i = from; i < to; i++) moved += counters[i] != before[i];
    return moved == to - from ? 1 : moved == 0 ? 0 : 2;
}

static const char *prog_str(int p) { return p == 1 ? "all" : p == 0 ? "none" : "some"; }

static char proc_state(pid_t pid) {
    char path[64], buf[512] = {0};
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return '?';
    read(fd, buf, sizeof buf - 1);
    close(fd);
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

static const char *wait_str(pid_t pid) {
    static char b[48];
    int st;
    for (int i = 0; i < 500; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (WIFSIGNALED(st)) snprintf(b, sizeof b, "killed by %d", WTERMSIG(st));
            else snprintf(b, sizeof b, "status %#x", st);
            return b;
        }
        msleep(10);
    }
    return "still running";
}

struct clone_args_v2 {
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mkdir("/proc", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mkdir("/cg", 0755);
    printf("mount cgroup2: %s\n", mount("none", "/cg", "cgroup2", 0, NULL) == 0 ? "ok" : "failed");
    void *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    counters = shm;
    terms = (volatile unsigned long *)shm + 64;
    mkdir("/cg/f", 0755);
    printf("empty cgroup frozen: %d\n", frozen_of("/cg/f"));

    /* Slots: 0 spinner with a SIGTERM handler and a thread (slot 1), 2 a
     * plain spinner, 3 the sleeper. */
    pid_t a = start(0, 0, 1, 1), b = start(2, 0, 0, 0), s = start(3, 1, 0, 0);
    printf("move a: %s\n", res(move_to("/cg/f", a)));
    printf("move b: %s\n", res(move_to("/cg/f", b)));
    printf("move sleeper: %s\n", res(move_to("/cg/f", s)));
    printf("running before: %s\n", prog_str(progress(0, 4, 100)));

    int efd = open("/cg/f/cgroup.events", O_RDONLY);
    char buf[256];
    read(efd, buf, sizeof buf);
    struct pollfd pfd = {efd, POLLPRI, 0};
    printf("poll before freeze: %d\n", poll(&pfd, 1, 0));
    printf("cgroup.freeze 1: %s\n", res(put("/cg/f/cgroup.freeze", "1")));
    int pr = poll(&pfd, 1, 5000);
    printf("poll wakes: %d %s\n", pr, (pfd.revents & POLLPRI) ? "POLLPRI" : "-");
    printf("frozen 1 reached: %s\n", wait_frozen("/cg/f", 1) ? "yes" : "no");
    printf("cgroup.freeze reads: ");
    fflush(stdout);
    int ffd = open("/cg/f/cgroup.freeze", O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(ffd, buf, sizeof buf - 1);
    close(ffd);
    printf("%s", buf);
    printf("progress while frozen (200 ms): %s\n", prog_str(progress(0, 4, 200)));
    printf("state of a, sleeper: %c %c\n", proc_state(a), proc_state(s));
    int st;
    printf("waitpid sees nothing: %d\n", waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED));

    kill(a, SIGTERM);
    msleep(100);
    printf("SIGTERM handled while frozen: %lu\n", terms[0]);
    printf("still frozen: %d\n", frozen_of("/cg/f"));

    /* epoll on cgroup.events: the thaw is an event. */
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLPRI, .data.u32 = 7};
    printf("epoll_ctl cgroup.events: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
    pread(efd, buf, sizeof buf, 0); /* only a read from the start consumes the event */
    struct epoll_event out[2];
    printf("epoll_wait before thaw: %d\n", epoll_wait(ep, out, 2, 0));

    printf("cgroup.freeze 0: %s\n", res(put("/cg/f/cgroup.freeze", "0")));
    printf("frozen right after thaw: %d\n", frozen_of("/cg/f"));
    int n = epoll_wait(ep, out, 2, 5000);
    printf("epoll_wait after thaw: %d %s %u\n", n, n > 0 && (out[0].events & EPOLLPRI) ? "EPOLLPRI" : "-",
           n > 0 ? out[0].data.u32 : 0);
    printf("progress after thaw: %s\n", prog_str(progress(0, 4, 200)));
    printf("SIGTERM handled after thaw: %lu\n", terms[0]);

    /* SIGKILL and a default-action SIGTERM end frozen processes. */
    put("/cg/f/cgroup.freeze", "1");
    printf("frozen again: %s\n", wait_frozen("/cg/f", 1) ? "yes" : "no");
    kill(a, SIGKILL);
    printf("SIGKILL while frozen: %s\n", wait_str(a));
    kill(b, SIGTERM);
    printf("default SIGTERM while frozen: %s\n", wait_str(b));
    printf("frozen with the sleeper left: %s\n", wait_frozen("/cg/f", 1) ? "yes" : "no");

    /* Moving out thaws; moving in freezes. */
    printf("move sleeper out: %s\n", res(move_to("/cg", s)));
    printf("sleeper runs outside: %s\n", prog_str(progress(3, 4, 200)));
    printf("empty frozen cgroup: %d\n", frozen_of("/cg/f"));
    printf("move sleeper back in: %s\n", res(move_to("/cg/f", s)));
    msleep(50);
    printf("sleeper after moving in: %s\n", prog_str(progress(3, 4, 200)));
    printf("frozen with it: %s\n", wait_frozen("/cg/f", 1) ? "yes" : "no");

    /* A child made straight into the frozen cgroup does not run. */
    int cgfd = open("/cg/f", O_RDONLY | O_DIRECTORY);
    struct clone_args_v2 ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = 0x200000000ULL; /* CLONE_INTO_CGROUP */
    ca.exit_signal = SIGCHLD;
    ca.cgroup = cgfd;
    counters[5] = 0;
    pid_t c = syscall(SYS_clone3, &ca, sizeof ca);
    if (c == 0) {
        for (;;) counters[5]++;
    }
    printf("clone3 into frozen: %s\n", c > 0 ? "ok" : strerror(errno));
    msleep(200);
    printf("new child ran: %s\n", counters[5] ? "yes" : "no");
    printf("frozen with the new child: %s\n", wait_frozen("/cg/f", 1) ? "yes" : "no");
    put("/cg/f/cgroup.freeze", "0");
    printf("new child after thaw: %s\n", prog_str(progress(5, 6, 200)));
    kill(c, SIGKILL);
    printf("new child: %s\n", wait_str(c));

    /* A stopped process counts as frozen; continued, it stays frozen. */
    mkdir("/cg/s", 0755);
    counters[6] = 0;
    pid_t z = start(6, 0, 0, 0);
    printf("move z: %s\n", res(move_to("/cg/s", z)));
    msleep(50);
    kill(z, SIGSTOP);
    printf("z stopped: %s\n", waitpid(z, &st, WUNTRACED) == z && WIFSTOPPED(st) ? "yes" : "no");
    printf("s cgroup.freeze 1: %s\n", res(put("/cg/s/cgroup.freeze", "1")));
    printf("s frozen with z stopped: %s\n", wait_frozen("/cg/s", 1) ? "yes" : "no");
    kill(z, SIGCONT);
    printf("z continued: %s\n", waitpid(z, &st, WCONTINUED) == z && WIFCONTINUED(st) ? "yes" : "no");
    printf("z after SIGCONT while frozen: %s\n", prog_str(progress(6, 7, 200)));
    printf("s still frozen: %s\n", wait_frozen("/cg/s", 1) ? "yes" : "no");
    put("/cg/s/cgroup.freeze", "0");
    printf("z after thaw: %s\n", prog_str(progress(6, 7, 200)));
    kill(z, SIGKILL);
    printf("z: %s\n", wait_str(z));

    /* nanosleep across a freeze goes on to its end without EINTR. */
    counters[7] = 0;
    pid_t n2 = fork();
    if (n2 == 0) {
        struct timespec ts = {0, 300000000}, left = {0, 0};
        int r = nanosleep(&ts, &left);
        counters[7] = r == 0 ? 1 : errno == EINTR ? 2 : 3;
        _exit(0);
    }
    printf("move sleeper 2: %s\n", res(move_to("/cg/s", n2)));
    put("/cg/s/cgroup.freeze", "1");
    printf("s frozen with a nanosleep: %s\n", wait_frozen("/cg/s", 1) ? "yes" : "no");
    msleep(500);
    printf("nanosleep done while frozen: %s\n", counters[7] ? "yes" : "no");
    put("/cg/s/cgroup.freeze", "0");
    printf("sleeper 2: %s\n", wait_str(n2));
    printf("nanosleep result: %s\n", counters[7] == 1 ? "0" : counters[7] == 2 ? "EINTR" : "other");
    rmdir("/cg/s");

    /* A vfork parent waiting for its child counts as frozen. */
    mkdir("/cg/v", 0755);
    int go[2];
    pipe(go);
    pid_t vp = fork();
    if (vp == 0) {
        char x;
        read(go[0], &x, 1);
        pid_t vc = vfork();
        if (vc == 0) {
            for (;;) syscall(SYS_pause);
        }
        _exit(vc > 0 ? 0 : 1);
    }
    printf("move vfork parent: %s\n", res(move_to("/cg/v", vp)));
    write(go[1], "x", 1);
    msleep(100);
    printf("v cgroup.freeze 1: %s\n", res(put("/cg/v/cgroup.freeze", "1")));
    printf("v frozen with a vfork parent: %s\n", wait_frozen("/cg/v", 1) ? "yes" : "no");
    {
        char procs[256] = {0};
        int pfd2 = open("/cg/v/cgroup.procs", O_RDONLY);
        read(pfd2, procs, sizeof procs - 1);
        close(pfd2);
        int lines = 0;
        for (char *q = procs; *q; q++) lines += *q == '\n';
        printf("processes in v: %d\n", lines);
        pid_t vc = atoi(strchr(procs, '\n') + 1) == vp ? atoi(procs) : atoi(strchr(procs, '\n') + 1);
        kill(vc, SIGKILL);
    }
    msleep(100);
    printf("vfork parent while frozen: %s\n", waitpid(vp, &st, WNOHANG) == 0 ? "running" : "gone");
    printf("v frozen after the child died: %s\n", wait_frozen("/cg/v", 1) ? "yes" : "no");
    put("/cg/v/cgroup.freeze", "0");
    printf("vfork parent after thaw: %s\n", wait_str(vp));
    rmdir("/cg/v");

    /* An ancestor's cgroup.freeze. */
    mkdir("/cg/p", 0755);
    mkdir("/cg/p/c", 0755);
    printf("move sleeper to p/c: %s\n", res(move_to("/cg/p/c", s)));
    printf("p cgroup.freeze 1: %s\n", res(put("/cg/p/cgroup.freeze", "1")));
    printf("p/c frozen: %s\n", wait_frozen("/cg/p/c", 1) ? "yes" : "no");
    printf("p frozen: %d\n", frozen_of("/cg/p"));
    ffd = open("/cg/p/c/cgroup.freeze", O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(ffd, buf, sizeof buf - 1);
    close(ffd);
    printf("p/c cgroup.freeze reads: %s", buf);
    printf("sleeper under frozen p: %s\n", prog_str(progress(3, 4, 200)));
    mkdir("/cg/p/new", 0755);
    printf("new child cgroup of frozen p: %d\n", frozen_of("/cg/p/new"));
    printf("p/c cgroup.freeze 1: %s\n", res(put("/cg/p/c/cgroup.freeze", "1")));
    printf("p cgroup.freeze 0: %s\n", res(put("/cg/p/cgroup.freeze", "0")));
    printf("p frozen after thaw: %d\n", frozen_of("/cg/p"));
    printf("p/c still frozen: %d\n", frozen_of("/cg/p/c"));
    printf("p/new after thaw: %d\n", frozen_of("/cg/p/new"));
    printf("p/c cgroup.freeze 0: %s\n", res(put("/cg/p/c/cgroup.freeze", "0")));
    printf("p/c after its thaw: %d\n", frozen_of("/cg/p/c"));
    printf("sleeper after thaw: %s\n", prog_str(progress(3, 4, 200)));
    printf("cgroup.freeze 2: %s\n", res(put("/cg/p/cgroup.freeze", "2")));
    printf("cgroup.freeze x: %s\n", res(put("/cg/p/cgroup.freeze", "x")));

    kill(s, SIGKILL);
    printf("sleeper: %s\n", wait_str(s));
    int r1 = rmdir("/cg/p/new"), r2 = rmdir("/cg/p/c"), r3 = rmdir("/cg/p"), r4 = rmdir("/cg/f");
    printf("rmdir: %d %d %d %d\n", r1, r2, r3, r4);
    return 0;
}
