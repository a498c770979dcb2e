// Pseudo-terminals and job control, compared with Linux 6.12: devpts,
// ptmx/unlockpt/ptsname, canonical input with echo and editing, signal
// characters to the foreground group, raw mode with VMIN/VTIME, window
// size and SIGWINCH, SIGTTIN/SIGTTOU for background groups, and the hangup
// that closing a master causes.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void say(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) write(1, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
}

static const char* err(int r) {
    static char buf[64];
    if (r >= 0) snprintf(buf, sizeof(buf), "%d", r);
    else snprintf(buf, sizeof(buf), "-1 %s", strerrorname_np(errno));
    return buf;
}

// Bytes as C escapes, so control characters show.
static const char* esc(const char* s, int n) {
    static char buf[1024];
    int o = 0;
    for (int i = 0; i < n && o < (int)sizeof(buf) - 8; ++i) {
        unsigned char c = s[i];
        if (c == '\n') o += sprintf(buf + o, "\\n");
        else if (c == '\r') o += sprintf(buf + o, "\\r");
        else if (c == '\b') o += sprintf(buf + o, "\\b");
        else if (c < 0x20 || c >= 0x7f) o += sprintf(buf + o, "\\x%02x", c);
        else buf[o++] = c;
    }
    buf[o] = 0;
    return buf;
}

// Everything the master has to read, waiting until it has been quiet for
// a while (Linux moves pty data through a work queue).
static void drain(int m, const char* what) {
    char buf[512];
    int total = 0;
    for (;;) {
        struct pollfd p = {m, POLLIN, 0};
        if (poll(&p, 1, 150) <= 0 || !(p.revents & POLLIN)) break;
        int n = read(m, buf + total, sizeof(buf) - total);
        if (n <= 0) break;
        total += n;
    }
    say("%s: master read \"%s\"\n", what, esc(buf, total));
}

static void slave_line(int s, const char* what) {
    char buf[256];
    int n = read(s, buf, sizeof(buf));
    if (n < 0) say("%s: slave read %s\n", what, err(n));
    else say("%s: slave read %d \"%s\"\n", what, n, esc(buf, n));
}

static void set_fg(int s, pid_t pg) {
    // Changing the foreground from the background needs SIGTTOU ignored.
    void (*old)(int) = signal(SIGTTOU, SIG_IGN);
    if (tcsetpgrp(s, pg) < 0) say("tcsetpgrp: %s\n", err(-1));
    signal(SIGTTOU, old);
}

static void describe(int status) {
    if (WIFEXITED(status)) say("exited %d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) say("killed by %d\n", WTERMSIG(status));
    else if (WIFSTOPPED(status)) say("stopped by %d\n", WSTOPSIG(status));
    else say("status %#x\n", status);
}

static volatile int winch_count, hup_count, cont_count;
static void on_winch(int sig) { (void)sig; ++winch_count; }
static void on_hup(int sig) { (void)sig; ++hup_count; }
static void on_cont(int sig) { (void)sig; ++cont_count; }

static void canonical(int m, int s) {
    say("-- canonical\n");
    write(m, "hello\n", 6);
    slave_line(s, "line");
    drain(m, "line echo");
    write(m, "abc\x7f\x7f" "d\n", 7);
    slave_line(s, "erase");
    drain(m, "erase echo");
    write(m, "xyz\x15ok\n", 7);
    slave_line(s, "kill");
    drain(m, "kill echo");
    write(m, "one two\x17three\n", 14);
    slave_line(s, "werase");
    drain(m, "werase echo");
    write(m, "ab\ncd", 5);
    usleep(100000);
    int n = -1;
    int r = ioctl(s, FIONREAD, &n);
    say("FIONREAD partial line: %s %d\n", err(r), n);
    slave_line(s, "first line");
    write(m, "\x04", 1);
    slave_line(s, "eof ends cd");
    write(m, "\x04", 1);
    slave_line(s, "eof alone");
    drain(m, "eof echo");
    write(s, "out\tx\n", 6);
    drain(m, "slave output");
}

// A child in its own group made foreground; `key` is typed on the master.
static void signal_key(int m, int s, const char* key, const char* what) {
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        for (;;) pause();
    }
    setpgid(c, c);
    set_fg(s, c);
    write(m, key, 1);
    int status;
    waitpid(c, &status, WUNTRACED);
    say("%s: child ", what);
    describe(status);
    if (WIFSTOPPED(status)) {
        kill(c, SIGKILL);
        waitpid(c, &status, 0);
    }
    set_fg(s, getpgrp());
    drain(m, what);
}

static void raw_mode(int m, int s) {
    say("-- raw\n");
    struct termios t, saved;
    tcgetattr(s, &saved);
    t = saved;
    cfmakeraw(&t);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    say("tcsetattr raw: %s\n", err(tcsetattr(s, TCSANOW, &t)));
    char buf[64];
    say("VMIN 0 VTIME 0 empty: %s\n", err(read(s, buf, sizeof(buf))));
    t.c_cc[VTIME] = 2;
    tcsetattr(s, TCSANOW, &t);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int n = read(s, buf, sizeof(buf));
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    say("VMIN 0 VTIME 2 empty: %s after >=150ms: %s\n", err(n), ms >= 150 ? "yes" : "no");
    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &t);
    write(m, "ab", 2);
    struct pollfd p = {s, POLLIN, 0};
    say("VMIN 3 with 2 bytes: poll %d\n", poll(&p, 1, 100));
    write(m, "c\r", 2);
    say("VMIN 3 with 4 bytes: poll %d\n", poll(&p, 1, 1000));
    n = read(s, buf, sizeof(buf));
    say("raw read %d \"%s\"\n", n, esc(buf, n));
    drain(m, "raw echo");
    write(s, "a\nb", 3);
    drain(m, "raw output");
    say("tcsetattr back: %s\n", err(tcsetattr(s, TCSAFLUSH, &saved)));
}

static void window(int m, int s) {
    say("-- window size\n");
    signal(SIGWINCH, on_winch);
    struct winsize w = {30, 100, 0, 0};
    say("TIOCSWINSZ on master: %s\n", err(ioctl(m, TIOCSWINSZ, &w)));
    say("SIGWINCH count %d\n", winch_count);
    struct winsize g;
    memset(&g, 0, sizeof(g));
    ioctl(s, TIOCGWINSZ, &g);
    say("slave sees %dx%d\n", g.ws_row, g.ws_col);
    ioctl(s, TIOCSWINSZ, &w);
    say("same size again: SIGWINCH count %d\n", winch_count);
    w.ws_row = 40;
    ioctl(s, TIOCSWINSZ, &w);
    say("changed on slave: SIGWINCH count %d\n", winch_count);
}

// What a background child (its own group, same session) meets.
static void background(int s, const char* what, int op) {
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        char buf[8];
        struct termios t;
        switch (op) {
        case 0: _exit(read(s, buf, 1) < 0 ? errno : 100);
        case 1:
            signal(SIGTTIN, SIG_IGN);
            _exit(read(s, buf, 1) < 0 ? errno : 100);
        case 2: _exit(write(s, "bg\n", 3) == 3 ? 0 : errno);
        case 3:
            tcgetattr(s, &t);
            _exit(tcsetattr(s, TCSANOW, &t) < 0 ? errno : 0);
        case 4:
            signal(SIGTTOU, SIG_IGN);
            tcgetattr(s, &t);
            _exit(tcsetattr(s, TCSANOW, &t) < 0 ? errno : 0);
        case 5: _exit(tcgetpgrp(s) == getppid() ? 0 : 1);
        }
        _exit(99);
    }
    setpgid(c, c);
    int status;
    waitpid(c, &status, WUNTRACED);
    say("%s: ", what);
    describe(status);
    if (WIFSTOPPED(status)) {
        kill(c, SIGKILL);
        waitpid(c, &status, 0);
    }
}

static void job_control(int m, int s) {
    say("-- job control\n");
    background(s, "bg read", 0);
    background(s, "bg read, SIGTTIN ignored (EIO=5)", 1);
    background(s, "bg write without TOSTOP", 2);
    drain(m, "bg write");
    struct termios t;
    tcgetattr(s, &t);
    t.c_lflag |= TOSTOP;
    tcsetattr(s, TCSANOW, &t);
    background(s, "bg write with TOSTOP", 2);
    t.c_lflag &= ~TOSTOP;
    tcsetattr(s, TCSANOW, &t);
    background(s, "bg tcsetattr", 3);
    background(s, "bg tcsetattr, SIGTTOU ignored", 4);
    background(s, "bg tcgetpgrp is the parent's group", 5);
}

// A stopped group whose last parent in the session exits is orphaned: it
// gets SIGHUP and SIGCONT, and its reads from the terminal fail with EIO.
static void orphaned(int s) {
    say("-- orphaned group\n");
    int fds[2];
    pipe(fds);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t b = fork();
        if (b == 0) {
            setpgid(0, 0);
            signal(SIGHUP, on_hup);
            kill(getpid(), SIGSTOP);
            char buf[8];
            int r = read(s, buf, 1);
            char msg[64];
            int n = snprintf(msg, sizeof(msg), "hup %d read %d errno %s", hup_count, r, strerrorname_np(errno));
            write(fds[1], msg, n);
            _exit(0);
        }
        setpgid(b, b);
        int status;
        waitpid(b, &status, WUNTRACED);
        _exit(WIFSTOPPED(status) ? 0 : 1);
    }
    close(fds[1]);
    int status;
    waitpid(mid, &status, 0);
    char msg[64];
    int n = read(fds[0], msg, sizeof(msg));
    say("orphan: %s\n", n > 0 ? esc(msg, n) : "nothing");
    close(fds[0]);
}

static void on_alarm(int sig) { (void)sig; }

// A blocked read ends with EINTR for a handler without SA_RESTART; an
// unprivileged TIOCSTI fails (dev.tty.legacy_tiocsti is 0).
static void interrupts(int s) {
    say("-- interrupted read\n");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    char buf[8];
    say("read with SIGALRM: %s\n", err(read(s, buf, sizeof(buf))));
    pid_t c = fork();
    if (c == 0) {
        setuid(1000);
        char ch = 'x';
        _exit(ioctl(s, TIOCSTI, &ch) < 0 ? errno : 0);
    }
    int status;
    waitpid(c, &status, 0);
    say("TIOCSTI as uid 1000: errno %d\n", WEXITSTATUS(status));
}

static void hangup(void) {
    say("-- hangup\n");
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    unlockpt(m);
    char name[64];
    ptsname_r(m, name, sizeof(name));
    int ready[2];
    pipe(ready);
    pid_t c = fork();
    if (c == 0) {
        close(ready[0]);
        close(m);
        setsid();
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_hup;
        sigaction(SIGHUP, &sa, NULL);
        sa.sa_handler = on_cont;
        sigaction(SIGCONT, &sa, NULL);
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, &old);
        int s = open(name, O_RDWR);
        int sid = -1;
        say("child: ctty sid is its own: %s\n", ioctl(s, TIOCGSID, &sid) == 0 && sid == getpid() ? "yes" : "no");
        write(ready[1], "x", 1);
        while (!hup_count) sigsuspend(&old);
        say("child: SIGHUP %d SIGCONT %d\n", hup_count, cont_count);
        char buf[8];
        say("child: read after hangup: %s\n", err(read(s, buf, sizeof(buf))));
        say("child: write after hangup: %s\n", err(write(s, "x", 1)));
        pid_t pg = tcgetpgrp(s);
        say("child: tcgetpgrp after hangup: %s\n", err(pg));
        int fd = open("/dev/tty", O_RDWR);
        say("child: open /dev/tty after hangup: %s\n", err(fd));
        _exit(0);
    }
    close(ready[1]);
    char x;
    read(ready[0], &x, 1);
    close(m);
    int status;
    waitpid(c, &status, 0);
    say("hangup child ");
    describe(status);
    struct stat st;
    say("slave node after master close: %s\n", err(stat(name, &st)));
}

static void other_closed(void) {
    say("-- slave closed\n");
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    unlockpt(m);
    char name[64];
    ptsname_r(m, name, sizeof(name));
    say("master write with no slave: %s\n", err(write(m, "x", 1)));
    struct pollfd p = {m, POLLIN, 0};
    poll(&p, 1, 150);
    say("master poll before slave open (the echo): %#x\n", p.revents);
    p.events = POLLIN | POLLOUT;
    int s = open(name, O_RDWR | O_NOCTTY);
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    say("TIOCGPTPEER: %s isatty %d\n", peer >= 0 ? "fd" : err(peer), isatty(peer));
    write(s, "bye\n", 4);
    close(s);
    close(peer);
    drain(m, "after slave close");
    char buf[8];
    say("master read with slave closed: %s\n", err(read(m, buf, sizeof(buf))));
    poll(&p, 1, 0);
    say("master poll with slave closed: %#x\n", p.revents);
    close(m);
}

static void session(void) {
    setsid();
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    say("posix_openpt: %s\n", m >= 0 ? "ok" : err(m));
    unsigned n = 99;
    int r = ioctl(m, TIOCGPTN, &n);
    say("TIOCGPTN: %s %u\n", err(r), n);
    char name[64];
    say("ptsname_r: %s %s\n", err(ptsname_r(m, name, sizeof(name))), name);
    int lock = -1;
    ioctl(m, TIOCGPTLCK, &lock);
    say("locked at first: %d\n", lock);
    say("open before unlockpt: %s\n", err(open(name, O_RDWR)));
    say("grantpt: %s\n", err(grantpt(m)));
    say("unlockpt: %s\n", err(unlockpt(m)));
    struct stat st;
    stat(name, &st);
    say("slave node: mode %o rdev %u:%u\n", st.st_mode, major(st.st_rdev), minor(st.st_rdev));
    stat("/dev/pts/ptmx", &st);
    say("/dev/pts/ptmx: mode %o rdev %u:%u\n", st.st_mode, major(st.st_rdev), minor(st.st_rdev));
    int s = open(name, O_RDWR);
    say("open slave: %s\n", s >= 0 ? "ok" : err(s));
    say("isatty master %d slave %d\n", isatty(m), isatty(s));
    say("slave is controlling: fg is us %d, sid is us %d\n", tcgetpgrp(s) == getpgrp(), tcgetsid(s) == getsid(0));
    int pg = -1;
    r = ioctl(m, TIOCGPGRP, &pg);
    say("TIOCGPGRP on master: %s same %d\n", err(r), pg == getpgrp());
    int tty = open("/dev/tty", O_RDWR);
    say("open /dev/tty: %s\n", tty >= 0 ? "ok" : err(tty));
    if (tty >= 0) close(tty);
    say("TIOCSCTTY again: %s\n", err(ioctl(s, TIOCSCTTY, 0)));
    say("TIOCGSERIAL on pty: %s\n", err(ioctl(s, TIOCGSERIAL, name)));

    canonical(m, s);
    say("-- signals\n");
    signal_key(m, s, "\x03", "^C");
    signal_key(m, s, "\x1c", "^\\");
    signal_key(m, s, "\x1a", "^Z");
    raw_mode(m, s);
    window(m, s);
    job_control(m, s);
    orphaned(s);
    interrupts(s);
    other_closed();
    hangup();
    say("TIOCNOTTY: %s\n", err(ioctl(s, TIOCNOTTY)));
    say("tcgetpgrp after TIOCNOTTY: %s\n", err(tcgetpgrp(s)));
}

int main(void) {
    mkdir("/dev/pts", 0755);
    mknod("/dev/ptmx", S_IFCHR | 0666, makedev(5, 2));
    mknod("/dev/tty", S_IFCHR | 0666, makedev(5, 0));
    say("mount devpts: %s\n", err(mount("devpts", "/dev/pts", "devpts", 0, "")));
    say("pid 1 open /dev/tty: %s\n", err(open("/dev/tty", O_RDWR)));
    pid_t pg = tcgetpgrp(0);
    say("pid 1 tcgetpgrp on console: %s\n", err(pg));
    pid_t c = fork();
    if (c == 0) {
        session();
        _exit(0);
    }
    int status;
    waitpid(c, &status, 0);
    say("session ");
    describe(status);
    return 0;
}
