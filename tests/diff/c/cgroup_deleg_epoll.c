#include "difftest.h"
/* epoll on cgroup files (kernfs files have a poll method, so epoll takes
 * them: cgroup.events reports EPOLLPRI after a change until it is read from
 * the start) and on files without one (regular files, directories, most of
 * procfs: EPERM); cgroup.freeze's changes as cgroup.events events. */
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define CG "/sys/fs/cgroup"

static int add(int ep, const char *path, unsigned events) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    struct epoll_event ev = {.events = events, .data.fd = fd};
    int r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    int e = errno;
    if (r < 0) close(fd);
    errno = e;
    return r < 0 ? -1 : fd;
}

static const char *ready(int ep, int timeout) {
    static char b[64];
    struct epoll_event out[4];
    int n = epoll_wait(ep, out, 4, timeout);
    if (n < 0) snprintf(b, sizeof b, "-1 %s", errname(errno));
    else if (n == 0) snprintf(b, sizeof b, "0");
    else snprintf(b, sizeof b, "%d %#x", n, out[0].events);
    return b;
}

static void consume(int fd) {
    char buf[256];
    pread(fd, buf, sizeof buf, 0);
}

static int put(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    int r = write(fd, text, strlen(text)) < 0 ? -1 : 0;
    close(fd);
    return r;
}

int main(void) {
    setup();
    mount("none", CG, "cgroup2", 0, NULL);
    rmdir(CG "/ep");
    CK("mkdir", mkdir(CG "/ep", 0755));
    int ep = epoll_create1(0);

    /* What epoll accepts. */
    int tmp = open("/tmp/epoll_regular", O_RDWR | O_CREAT, 0644);
    struct epoll_event ev = {.events = EPOLLIN};
    CK("regular_file", epoll_ctl(ep, EPOLL_CTL_ADD, tmp, &ev));
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    CK("directory", epoll_ctl(ep, EPOLL_CTL_ADD, dir, &ev));
    int cgdir = open(CG "/ep", O_RDONLY | O_DIRECTORY);
    CK("cgroup_directory", epoll_ctl(ep, EPOLL_CTL_ADD, cgdir, &ev));
    int pst = open("/proc/self/status", O_RDONLY);
    CK("proc_status", epoll_ctl(ep, EPOLL_CTL_ADD, pst, &ev));
    int e2 = epoll_create1(0);
    CHECK("cgroup_procs", "%s", add(e2, CG "/ep/cgroup.procs", EPOLLIN) >= 0 ? "ok" : errname(errno));
    CHECK("cgroup_freeze", "%s", add(e2, CG "/ep/cgroup.freeze", EPOLLIN) >= 0 ? "ok" : errname(errno));
    CHECK("cgroup_stat", "%s", add(e2, CG "/ep/cgroup.stat", EPOLLIN) >= 0 ? "ok" : errname(errno));
    CHECK("root_procs", "%s", add(e2, CG "/cgroup.procs", EPOLLIN) >= 0 ? "ok" : errname(errno));
    CHECK("cpu_pressure", "%s", add(e2, CG "/ep/cpu.pressure", EPOLLPRI) >= 0 ? "ok" : errname(errno));
    CHECK("plain_ready", "%s", ready(e2, 0));
    close(e2);
    unlink("/tmp/epoll_regular");

    /* cgroup.events with EPOLLPRI: a change until read from the start. */
    int efd = add(ep, CG "/ep/cgroup.events", EPOLLPRI);
    CHECK("events_add", "%s", efd >= 0 ? "ok" : errname(errno));
    CHECK("events_before_read", "%s", ready(ep, 0));
    consume(efd);
    CHECK("events_after_read", "%s", ready(ep, 0));
    struct epoll_event mod = {.events = EPOLLPRI | EPOLLIN, .data.fd = efd};
    CK("events_mod_in", epoll_ctl(ep, EPOLL_CTL_MOD, efd, &mod));
    CHECK("events_in_ready", "%s", ready(ep, 0));
    mod.events = EPOLLPRI;
    CK("events_mod_pri", epoll_ctl(ep, EPOLL_CTL_MOD, efd, &mod));

    /* populated: a child moved in, then its exit. */
    int pfd[2];
    pipe(pfd);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char x;
        close(pfd[1]);
        read(pfd[0], &x, 1);
        _exit(0);
    }
    close(pfd[0]);
    char text[32];
    snprintf(text, sizeof text, "%d", c);
    CK("move", put(CG "/ep/cgroup.procs", text));
    CHECK("events_populated", "%s", ready(ep, 1000));
    consume(efd);
    CHECK("events_consumed", "%s", ready(ep, 0));

    /* frozen: the freeze, and the thaw. */
    CK("freeze", put(CG "/ep/cgroup.freeze", "1"));
    CHECK("events_freeze", "%s", ready(ep, 2000));
    for (int i = 0; i < 200; i++) {
        char buf[128] = {0};
        pread(efd, buf, sizeof buf - 1, 0);
        if (strstr(buf, "frozen 1")) break;
        usleep(10000);
    }
    CHECK("events_frozen_consumed", "%s", ready(ep, 0));
    char rb[256];
    CK("read_whole", read(efd, rb, sizeof rb) > 0);  /* from the start: the position ends at EOF */
    CK("thaw", put(CG "/ep/cgroup.freeze", "0"));
    CHECK("events_thaw", "%s", ready(ep, 1000));
    /* Reads that do not start at the beginning leave the event. */
    CK("eof_read", read(efd, rb, sizeof rb));
    CHECK("events_after_eof_read", "%s", ready(ep, 0));
    CK("pread_middle", pread(efd, rb, 4, 3) > 0);
    CHECK("events_after_pread_middle", "%s", ready(ep, 0));
    consume(efd);
    /* A write that changes nothing still notifies (Linux: nothing to wait for). */
    CK("thaw_again", put(CG "/ep/cgroup.freeze", "0"));
    CHECK("events_thaw_again", "%s", ready(ep, 0));

    close(pfd[1]);
    int st;
    waitpid(c, &st, 0);
    CHECK("events_emptied", "%s", ready(ep, 1000));
    consume(efd);
    CHECK("events_after_exit_read", "%s", ready(ep, 0));
    CK("del", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
    close(efd);
    CK("rmdir", rmdir(CG "/ep"));
    return 0;
}
