// Descriptor tables shared by threads: threads hammer read/write/poll/
// close/dup2/open/fork/close_range and /proc/self/fd on the same few
// descriptors (nothing may crash or leak into the other descriptors), a
// read or poll blocked on a pipe outlives another thread closing its
// descriptor, chdir races getcwd, and execve/execveat find programs
// relative to the cwd or a directory descriptor.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// The descriptors the hammer threads fight over, and how long they do.
#define SLOT0 100
#define SLOTS 4
#define HAMMER_NS 2000000000LL

static atomic_int stop;
static atomic_long ops;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned next_rand(unsigned* s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

// Points slot fds at fresh files of every kind, or closes them.
static void* retargeter(void* arg) {
    unsigned seed = (unsigned)(long)arg;
    while (!atomic_load(&stop)) {
        int fd = SLOT0 + next_rand(&seed) % SLOTS;
        int p[2], t = -1;
        switch (next_rand(&seed) % 7) {
        case 0: close(fd); break;
        case 1:
            if (pipe2(p, O_NONBLOCK) == 0) {
                dup2(p[next_rand(&seed) & 1], fd);
                close(p[0]);
                close(p[1]);
            }
            break;
        case 2: t = eventfd(1, EFD_NONBLOCK); break;
        case 3: t = open("/d/data", O_RDWR); break;
        case 4: t = open("/dev/null", O_RDWR); break;
        case 5: dup3(SLOT0 + next_rand(&seed) % SLOTS, fd, O_CLOEXEC); break;
        case 6: syscall(SYS_close_range, fd, fd, (next_rand(&seed) & 1) ? CLOSE_RANGE_CLOEXEC : 0); break;
        }
        if (t >= 0) {
            dup2(t, fd);
            close(t);
        }
        atomic_fetch_add(&ops, 1);
    }
    return NULL;
}

// Uses slot fds every way a program can (errors are expected).
static void* user(void* arg) {
    unsigned seed = (unsigned)(long)arg;
    char buf[64];
    while (!atomic_load(&stop)) {
        int fd = SLOT0 + next_rand(&seed) % SLOTS;
        struct stat st;
        struct pollfd pfd = {fd, POLLIN | POLLOUT, 0};
        int n;
        switch (next_rand(&seed) % 9) {
        case 0: (void)!read(fd, buf, sizeof(buf)); break;
        case 1: (void)!write(fd, "xxxxxxxx", 8); break;
        case 2: poll(&pfd, 1, 0); break;
        case 3: fstat(fd, &st); break;
        case 4: fcntl(fd, F_SETFL, O_NONBLOCK | (next_rand(&seed) & 1 ? O_APPEND : 0)); break;
        case 5: ioctl(fd, FIONREAD, &n); break;
        case 6: lseek(fd, 0, SEEK_SET); break;
        case 7: {
            int d = dup(fd);
            if (d >= 0) close(d);
            break;
        }
        case 8: pread(fd, buf, sizeof(buf), 0); break;
        }
        atomic_fetch_add(&ops, 1);
    }
    return NULL;
}

// Forks (the child copies the table mid-change) and reads /proc/self/fd.
static void* observer(void* arg) {
    (void)arg;
    char path[300], link[256];
    while (!atomic_load(&stop)) {
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            for (int fd = SLOT0; fd < SLOT0 + SLOTS; ++fd) (void)!read(fd, &c, 1);
            _exit(0);
        }
        if (pid > 0) waitpid(pid, NULL, 0);
        DIR* d = opendir("/proc/self/fd");
        if (d) {
            struct dirent* e;
            while ((e = readdir(d))) {
                snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
                (void)!readlink(path, link, sizeof(link));
            }
            closedir(d);
        }
        atomic_fetch_add(&ops, 1);
    }
    return NULL;
}

// chdir back and forth while another thread asks where it is.
static atomic_int odd_cwd;
static void* chdirer(void* arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        chdir("/d");
        chdir("/");
        int fd = open("/d", O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            fchdir(fd);
            close(fd);
        }
    }
    return NULL;
}
static void* cwd_reader(void* arg) {
    (void)arg;
    char buf[256], link[256];
    while (!atomic_load(&stop)) {
        if (getcwd(buf, sizeof(buf)) && strcmp(buf, "/") && strcmp(buf, "/d")) atomic_store(&odd_cwd, 1);
        ssize_t n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
        if (n > 0) {
            link[n] = 0;
            if (strcmp(link, "/") && strcmp(link, "/d")) atomic_store(&odd_cwd, 1);
        }
        int fd = open("data", O_RDONLY);  // exists only in /d
        if (fd >= 0) close(fd);
    }
    return NULL;
}

static void hammer(void) {
    int before[8];
    for (int fd = 0; fd < 8; ++fd) before[fd] = fcntl(fd, F_GETFD);
    void* (*fns[])(void*) = {retargeter, retargeter, user, user, user, observer, chdirer, cwd_reader};
    int n = sizeof(fns) / sizeof(fns[0]);
    pthread_t t[16];
    for (int i = 0; i < n; ++i) pthread_create(&t[i], NULL, fns[i], (void*)(long)(i * 7919 + 1));
    long long end = now_ns() + HAMMER_NS;
    while (now_ns() < end) usleep(20000);
    atomic_store(&stop, 1);
    for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
    chdir("/");
    int same = 1;
    for (int fd = 0; fd < 8; ++fd) same &= fcntl(fd, F_GETFD) == before[fd];
    printf("hammer: threads joined, ops done %s, other fds untouched %d, cwd only / or /d %d\n",
           atomic_load(&ops) > 1000 ? "many" : "few", same, !atomic_load(&odd_cwd));
    for (int fd = SLOT0; fd < SLOT0 + SLOTS; ++fd) close(fd);
    // The table still works: lowest free descriptor, dup2, close.
    int a = open("/d/data", O_RDONLY);
    int b = dup2(a, 200);
    printf("after: open -> %d, dup2 -> %d, close -> %d %d\n", a, b, close(a), close(b));
}

// A thread blocked in read(2) or poll(2) on a pipe while another thread
// closes that descriptor.
static int blocked_fd;
static char got[16];
static ssize_t got_n;
static void* blocked_reader(void* arg) {
    (void)arg;
    got_n = read(blocked_fd, got, sizeof(got));
    return NULL;
}
static struct pollfd blocked_pfd;
static int poll_ret;
static void* blocked_poller(void* arg) {
    (void)arg;
    poll_ret = poll(&blocked_pfd, 1, 5000);
    return NULL;
}

static void close_under_blocked(void) {
    int p[2];
    pipe(p);
    blocked_fd = p[0];
    pthread_t t;
    pthread_create(&t, NULL, blocked_reader, NULL);
    usleep(200000);
    printf("close while read blocked: close -> %d\n", close(p[0]));
    errno = 0;
    ssize_t w = write(p[1], "hello", 5);
    printf("write to the pipe -> %zd errno=%d\n", w, errno);
    pthread_join(t, NULL);
    printf("blocked read -> %zd \"%.*s\"\n", got_n, got_n > 0 ? (int)got_n : 0, got);
    errno = 0;
    w = write(p[1], "x", 1);
    printf("write after the read ended -> %zd errno=%s\n", w, errno == EPIPE ? "EPIPE" : strerror(errno));
    close(p[1]);

    pipe(p);
    blocked_pfd = (struct pollfd){p[0], POLLIN, 0};
    pthread_create(&t, NULL, blocked_poller, NULL);
    usleep(200000);
    printf("close while poll blocked: close -> %d\n", close(p[0]));
    errno = 0;
    w = write(p[1], "y", 1);
    printf("write to the pipe -> %zd errno=%d\n", w, errno);
    pthread_join(t, NULL);
    printf("blocked poll -> %d revents=%#x\n", poll_ret, blocked_pfd.revents);
    close(p[1]);
}

// Copies /init to /d/prog for the exec checks.
static void make_prog(void) {
    int in = open("/init", O_RDONLY);
    int out = open("/d/prog", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0) (void)!write(out, buf, n);
    close(in);
    close(out);
    symlink("prog", "/d/link");
}

static void run(const char* what, void (*fn)(void*), void* arg) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn(arg);
        printf("%s: failed errno=%s\n", what, strerrorname_np(errno));
        fflush(stdout);
        _exit(99);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: exit %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

static char* child_argv[] = {"prog", "child", NULL};
static char* child_envp[] = {"X=1", NULL};

static void exec_rel(void* path) {
    chdir("/d");
    execve(path, child_argv, child_envp);
}
static void exec_at(void* path) {
    int dir = open("/d", O_RDONLY | O_DIRECTORY);
    dup2(dir, 5);
    execveat(5, path, child_argv, child_envp, 0);
}
static void exec_at_nofollow(void* path) {
    int dir = open("/d", O_RDONLY | O_DIRECTORY);
    dup2(dir, 5);
    execveat(5, path, child_argv, child_envp, AT_SYMLINK_NOFOLLOW);
}
static void exec_empty(void* path) {
    int fd = open(path, O_RDONLY);
    dup2(fd, 6);
    execveat(6, "", child_argv, child_envp, AT_EMPTY_PATH);
}
static void exec_bad(void* which) {
    int dir = open("/d", O_RDONLY | O_DIRECTORY);
    int file = open("/d/prog", O_RDONLY);
    switch ((int)(long)which) {
    case 0: execveat(dir, "prog", child_argv, child_envp, 0x4000); break;
    case 1: execveat(dir, "", child_argv, child_envp, 0); break;
    case 2: execveat(77, "prog", child_argv, child_envp, 0); break;
    case 3: execveat(file, "prog", child_argv, child_envp, 0); break;
    case 4: execveat(77, "/d/prog", child_argv, child_envp, 0); _exit(4); break;
    }
}

static void execs(void) {
    make_prog();
    run("execve ./prog from /d", exec_rel, "./prog");
    run("execve prog from /d", exec_rel, "prog");
    run("execve ../d/prog from /d", exec_rel, "../d/prog");
    run("execve missing ./init from /d", exec_rel, "./init");
    run("execveat(dirfd, prog)", exec_at, "prog");
    run("execveat(dirfd, link)", exec_at, "link");
    run("execveat(dirfd, link, NOFOLLOW)", exec_at_nofollow, "link");
    run("execveat(fd, \"\", EMPTY_PATH)", exec_empty, "/d/prog");
    run("execveat bad flags", exec_bad, (void*)0);
    run("execveat empty path without flag", exec_bad, (void*)1);
    run("execveat bad dirfd", exec_bad, (void*)2);
    run("execveat file as dirfd", exec_bad, (void*)3);
    run("execveat absolute path, bad dirfd", exec_bad, (void*)4);
}

// The exec'd program: where it runs and what it was called.
static int child_main(void) {
    char cwd[256], comm[32] = "";
    int fd = open("/proc/self/comm", O_RDONLY);
    ssize_t n = read(fd, comm, sizeof(comm) - 1);
    if (n > 0) comm[n - 1] = 0;
    const char* execfn = (const char*)getauxval(AT_EXECFN);
    printf("  child: cwd=%s comm=%s execfn=%s env X=%s\n", getcwd(cwd, sizeof(cwd)), comm, execfn,
           getenv("X"));
    return 3;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) return child_main();
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    mkdir("/dev", 0755);
    mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
    mkdir("/d", 0755);
    int fd = open("/d/data", O_RDWR | O_CREAT, 0644);
    (void)!write(fd, "0123456789", 10);
    close(fd);
    close_under_blocked();
    execs();
    hammer();
    return 0;
}
