#include "difftest.h"
/* PSI: /proc/pressure's files, their format (numbers normalised to their
 * kind), trigger parsing and errnos, poll answers, and a trigger that fires
 * under CPU contention. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

/* Set to 1 once the scheduler reports task states to PSI (the live part:
 * stall totals grow and a trigger fires while two spinners share a CPU). */
#ifndef PSI_LIVE
#define PSI_LIVE 1
#endif

static const char *ev(int e) {
    static char b[64];
    b[0] = 0;
    if (e & POLLIN) strcat(b, "IN ");
    if (e & POLLOUT) strcat(b, "OUT ");
    if (e & POLLPRI) strcat(b, "PRI ");
    if (e & POLLERR) strcat(b, "ERR ");
    if (e & POLLHUP) strcat(b, "HUP ");
    if (e & POLLNVAL) strcat(b, "NVAL ");
    if (e & POLLRDNORM) strcat(b, "RDNORM ");
    if (e & POLLWRNORM) strcat(b, "WRNORM ");
    if (!b[0]) strcpy(b, "none");
    return b;
}

/* The text with every number replaced by its kind: F for "12.34", N for "56". */
static void normalise(const char *in, char *out, size_t size) {
    size_t o = 0;
    while (*in && o + 2 < size) {
        if (*in >= '0' && *in <= '9') {
            int dot = 0;
            while ((*in >= '0' && *in <= '9') || *in == '.') dot |= *in++ == '.';
            out[o++] = dot ? 'F' : 'N';
        } else {
            out[o++] = *in == '\n' ? '|' : *in;
            in++;
        }
    }
    out[o] = 0;
}

static ssize_t slurp(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n >= 0) buf[n] = 0;
    return n;
}

/* A field of one line ("some"/"full", "total="), or -1. */
static double field(const char *text, const char *line, const char *key) {
    const char *l = strstr(text, line);
    if (!l) return -1;
    const char *k = strstr(l, key);
    return k ? atof(k + strlen(key)) : -1;
}

/* Writes s (with its NUL, as the documentation's example does) to a fresh
 * descriptor of the file and reports the result. */
static void try_trigger(const char *name, const char *file, const char *s, size_t len) {
    int fd = open(file, O_RDWR | O_NONBLOCK);
    if (fd < 0) {
        CHECK(name, "open -1 %s", errname(errno));
        return;
    }
    errno = 0;
    long r = write(fd, s, len);
    if (r < 0) CHECK(name, "-1 %s", errname(errno));
    else CHECK(name, "%ld", r);
    close(fd);
}
#define TRY(name, file, s) try_trigger(name, file, s, strlen(s) + 1)

static int unprivileged(void) {
    if (setgid(65534) || setuid(65534)) return 2;
    TRY("unpriv_window_1s", "/proc/pressure/cpu", "some 150000 1000000");
    TRY("unpriv_window_2s", "/proc/pressure/cpu", "some 150000 2000000");
    TRY("unpriv_window_4s", "/proc/pressure/memory", "full 150000 4000000");
    TRY("unpriv_window_3s", "/proc/pressure/io", "some 150000 3000000");
    int fd = open("/proc/pressure/io", O_RDONLY);
    char b[512];
    CK("unpriv_read", read(fd, b, sizeof b) > 0);
    close(fd);
    return 0;
}

static int privileged_fd_unprivileged_writer(void) {
    int fd = open("/proc/pressure/cpu", O_RDWR);
    if (setgid(65534) || setuid(65534)) return 2;
    const char *s = "some 150000 1000000";
    CK("opener_privileged_write", write(fd, s, strlen(s) + 1));
    return 0;
}

static void spin(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
    for (;;) {}
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void live(void) {
    char before[512], after[512];
    int fd = open("/proc/pressure/cpu", O_RDWR | O_NONBLOCK);
    const char *s = "some 100000 500000";
    CK("live_trigger", write(fd, s, strlen(s) + 1));
    slurp("/proc/pressure/cpu", before, sizeof before);
    fflush(stdout);
    pid_t kids[2];
    for (int i = 0; i < 2; ++i)
        if ((kids[i] = fork()) == 0) spin();
    struct pollfd p = {fd, POLLPRI, 0};
    double t0 = now_s();
    int r = poll(&p, 1, 10000);
    CHECK("live_poll", "%d %s", r, ev(p.revents));
    CHECK("live_poll_in_time", "%d", now_s() - t0 < 5);
    /* One event per window: an immediate second poll sees nothing. */
    p.revents = 0;
    CHECK("live_poll_again", "%d", poll(&p, 1, 0));
    /* Let the averaging run past one 2 s period, then compare. */
    while (now_s() - t0 < 2.6) {}
    slurp("/proc/pressure/cpu", after, sizeof after);
    for (int i = 0; i < 2; ++i) kill(kids[i], SIGKILL);
    for (int i = 0; i < 2; ++i) waitpid(kids[i], NULL, 0);
    double grew = field(after, "some", "total=") - field(before, "some", "total=");
    CHECK("live_some_total_grew_200ms", "%d", grew > 200000);
    CHECK("live_some_avg10_positive", "%d", field(after, "some", "avg10=") > 0);
    CHECK("live_full_still_zero", "%s", strstr(after, "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n") ? "yes" : "no");
    close(fd);
}

int main(void) {
    setup();
    /* The directory. */
    DIR *d = opendir("/proc/pressure");
    char names[256] = "";
    if (d) {
        struct dirent *e;
        char *list[16];
        int n = 0;
        while ((e = readdir(d)) && n < 16) list[n++] = strdup(e->d_name);
        closedir(d);
        for (int i = 0; i < n; ++i)
            for (int j = i + 1; j < n; ++j)
                if (strcmp(list[i], list[j]) > 0) { char *t = list[i]; list[i] = list[j]; list[j] = t; }
        for (int i = 0; i < n; ++i) { strcat(names, list[i]); strcat(names, " "); free(list[i]); }
    }
    CHECK("dir", "%s", names);
    struct stat st;
    CK("stat_dir", stat("/proc/pressure", &st));
    CHECK("dir_mode", "%o", st.st_mode);
    const char *files[] = {"cpu", "memory", "io", "irq"};
    for (int i = 0; i < 4; ++i) {
        char path[64], text[512], norm[512], name[64];
        snprintf(path, sizeof path, "/proc/pressure/%s", files[i]);
        snprintf(name, sizeof name, "stat_%s", files[i]);
        if (stat(path, &st) < 0) { CHECK(name, "-1 %s", errname(errno)); continue; }
        CHECK(name, "mode %o size %ld nlink %ld uid %d", st.st_mode, (long)st.st_size, (long)st.st_nlink, st.st_uid);
        ssize_t n = slurp(path, text, sizeof text);
        normalise(text, norm, sizeof norm);
        snprintf(name, sizeof name, "format_%s", files[i]);
        CHECK(name, "%zd %s", n > 0 ? (ssize_t)1 : n, norm);
    }
    char text[512];
    slurp("/proc/pressure/cpu", text, sizeof text);
    CHECK("cpu_full_zero", "%s", strstr(text, "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n") ? "yes" : "no");
    /* Short reads continue where they stopped. */
    int fd = open("/proc/pressure/memory", O_RDONLY);
    char a[8], rest[512];
    CK("short_read", read(fd, a, 5));
    ssize_t n = read(fd, rest, sizeof rest - 1);
    rest[n > 0 ? n : 0] = 0;
    /* The figures depend on what ran before (Linux's memory pressure after
     * the other tests): only where the read resumed counts. */
    char *w = rest;
    for (char *c = rest; *c; ++c) {
        int digit = *c >= '0' && *c <= '9';
        if (!digit) *w++ = *c;
        else if (w == rest || w[-1] != 'N') *w++ = 'N';  /* a run of digits: one N */
    }
    *w = 0;
    CHECK("short_read_rest", "%.*s", 8, rest);
    CK("lseek_0", lseek(fd, 0, SEEK_SET));
    CK("write_rdonly", write(fd, "some 1 1000000", 15));
    struct pollfd p = {fd, POLLIN | POLLOUT | POLLPRI, 0};
    CK("poll_no_trigger", poll(&p, 1, 0));
    CHECK("poll_no_trigger_revents", "%s", ev(p.revents));
    close(fd);

    /* Triggers: parsing and limits (root holds CAP_SYS_RESOURCE). */
    TRY("trig_ok", "/proc/pressure/cpu", "some 150000 1000000");
    TRY("trig_full_cpu", "/proc/pressure/cpu", "full 150000 1000000");
    TRY("trig_full_mem", "/proc/pressure/memory", "full 1 10000000");
    TRY("trig_io", "/proc/pressure/io", "some 500000 500000");
    TRY("trig_threshold_0", "/proc/pressure/cpu", "some 0 1000000");
    TRY("trig_window_0", "/proc/pressure/cpu", "some 1 0");
    TRY("trig_threshold_gt_window", "/proc/pressure/cpu", "some 1000001 1000000");
    TRY("trig_window_max", "/proc/pressure/cpu", "some 1 10000000");
    TRY("trig_window_too_big", "/proc/pressure/cpu", "some 1 10000001");
    TRY("trig_small_window", "/proc/pressure/cpu", "some 1 1000");
    TRY("trig_bad_kind", "/proc/pressure/cpu", "avg 1 1000000");
    TRY("trig_negative", "/proc/pressure/cpu", "some -1 1000000");
    TRY("trig_plus", "/proc/pressure/cpu", "some +1 1000000");
    TRY("trig_one_number", "/proc/pressure/cpu", "some 1000");
    TRY("trig_no_space", "/proc/pressure/cpu", "some1000 1000000");
    TRY("trig_many_spaces", "/proc/pressure/cpu", "some   1000 \t 1000000");
    TRY("trig_trailing", "/proc/pressure/cpu", "some 1000 1000000 junk");
    TRY("trig_leading_space", "/proc/pressure/cpu", " some 1000 1000000");
    TRY("trig_upper", "/proc/pressure/cpu", "SOME 1000 1000000");
    TRY("trig_hex", "/proc/pressure/cpu", "some 0x10 1000000");
    TRY("trig_wrap", "/proc/pressure/cpu", "some 4294967297 1000000");
    TRY("trig_newline", "/proc/pressure/cpu", "some 1000 1000000\n");
    /* Without the NUL the last byte is lost: "some 1000 100000" (100 ms). */
    try_trigger("trig_no_nul", "/proc/pressure/cpu", "some 1000 1000000", 17);
    try_trigger("trig_no_nul_small", "/proc/pressure/cpu", "some 1000 1000", 14);
    try_trigger("trig_empty", "/proc/pressure/cpu", "", 0);
    try_trigger("trig_one_byte", "/proc/pressure/cpu", "s", 1);
    char longbuf[64];
    snprintf(longbuf, sizeof longbuf, "some 1000 1000000                           ");
    try_trigger("trig_long", "/proc/pressure/cpu", longbuf, strlen(longbuf));
    snprintf(longbuf, sizeof longbuf, "some 1000                         2000000");
    try_trigger("trig_long_cut", "/proc/pressure/cpu", longbuf, strlen(longbuf) + 1);
    try_trigger("trig_efault", "/proc/pressure/cpu", (const char *)8, 10);

    /* One trigger per descriptor; another descriptor may have its own. */
    fd = open("/proc/pressure/cpu", O_RDWR | O_NONBLOCK);
    const char *s = "some 150000 1000000";
    CK("first_trigger", write(fd, s, strlen(s) + 1));
    CK("second_trigger", write(fd, s, strlen(s) + 1));
    CK("bad_after_good", write(fd, "xx", 3));
    int fd2 = open("/proc/pressure/cpu", O_WRONLY);
    CK("other_fd_trigger", write(fd2, s, strlen(s) + 1));
    p.fd = fd;
    p.events = POLLIN | POLLOUT | POLLPRI;
    CK("poll_trigger_idle", poll(&p, 1, 0));
    CHECK("poll_trigger_idle_revents", "%s", ev(p.revents));
    CK("read_with_trigger", read(fd, text, sizeof text) > 0);
    /* epoll: pressure files poll like special files. */
    int ep = epoll_create1(0);
    struct epoll_event ee = {.events = EPOLLPRI}, out[2];
    CK("epoll_add_trigger_fd", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee));
    CK("epoll_idle_trigger", epoll_wait(ep, out, 2, 0));
    int plain = open("/proc/pressure/io", O_RDONLY);
    ee.events = EPOLLIN;
    CK("epoll_add_plain", epoll_ctl(ep, EPOLL_CTL_ADD, plain, &ee));
    int nev = epoll_wait(ep, out, 2, 0);
    CHECK("epoll_plain", "%d %s", nev, nev == 1 ? ev(out[0].events) : "-");
    close(plain);
    close(ep);
    int dupfd = dup(fd);
    close(fd);
    CK("dup_keeps_trigger", write(dupfd, s, strlen(s) + 1));
    close(dupfd);
    close(fd2);
    fd = open("/proc/pressure/memory", O_RDWR);
    CK("pwrite_trigger", pwrite(fd, s, strlen(s) + 1, 100));
    CK("pwrite_second", pwrite(fd, s, strlen(s) + 1, 0));
    CK("pread", pread(fd, text, 10, 2));
    CK("lseek_rdwr", lseek(fd, 3, SEEK_SET));
    CK("lseek_end", lseek(fd, 0, SEEK_END));
    CK("read_after_lseek", read(fd, text, 4));
    close(fd);
    fd = open("/proc/pressure/cpu", O_RDWR);
    CK("failed_write_leaves_room", write(fd, "some 0 1", 9));
    CK("then_ok", write(fd, s, strlen(s) + 1));
    close(fd);

    int stv = in_child(unprivileged);
    CHECK("unprivileged", "%s", wstr(stv));
    stv = in_child(privileged_fd_unprivileged_writer);
    CHECK("privileged_opener", "%s", wstr(stv));
    if (PSI_LIVE) live();
    return 0;
}
