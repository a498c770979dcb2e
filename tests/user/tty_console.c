// The serial console as Linux 6.12 shows it to init: /dev/console is not
// a controlling terminal, TIOCGSERIAL names the line (what cttyhack uses),
// /dev/ttyS0 becomes the controlling terminal of a session leader that
// opens it, TIOCSTI feeds its line discipline (echo on the console), and
// the session leader's exit hangs the line up for descriptors opened
// through /dev/ttyS0 but not for /dev/console.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void say(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) write(1, buf, n);
}

static const char* err(long r) {
    static char buf[64];
    if (r >= 0) snprintf(buf, sizeof(buf), "%ld", r);
    else snprintf(buf, sizeof(buf), "-1 %s", strerrorname_np(errno));
    return buf;
}

static void inject(int fd, const char* s) {
    for (; *s; ++s)
        if (ioctl(fd, TIOCSTI, s) < 0) say("TIOCSTI: %s\n", err(-1));
}

static volatile int hups;
static void on_hup(int sig) { (void)sig; ++hups; }

int main(void) {
    mknod("/dev/ttyS0", S_IFCHR | 0600, makedev(4, 64));
    mknod("/dev/tty", S_IFCHR | 0666, makedev(5, 0));
    say("isatty 0 1 2: %d %d %d\n", isatty(0), isatty(1), isatty(2));
    struct serial_struct ss;
    memset(&ss, 0, sizeof(ss));
    int r = ioctl(0, TIOCGSERIAL, &ss);
    say("TIOCGSERIAL on console: %s line %d port %#x\n", err(r), ss.line, ss.port);
    say("init tcgetpgrp(0): %s\n", err(tcgetpgrp(0)));
    say("init open /dev/tty: %s\n", err(open("/dev/tty", O_RDWR)));
    struct termios t;
    r = tcgetattr(0, &t);
    say("console lflag ICANON %d ECHO %d ISIG %d, oflag ONLCR %d\n", !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO),
        !!(t.c_lflag & ISIG), !!(t.c_oflag & ONLCR));
    int line = open("/dev/ttyS0", O_RDWR | O_NOCTTY);
    say("init open /dev/ttyS0 O_NOCTTY: %s\n", line >= 0 ? "ok" : err(line));
    say("still no ctty: %s\n", err(tcgetpgrp(line)));

    pid_t c = fork();
    if (c == 0) {
        setsid();
        signal(SIGHUP, on_hup);
        int fd = open("/dev/ttyS0", O_RDWR);
        say("leader open /dev/ttyS0: %s\n", fd >= 0 ? "ok" : err(fd));
        say("fg is the leader %d, sid is the leader %d\n", tcgetpgrp(fd) == getpid(), tcgetsid(fd) == getpid());
        int con = open("/dev/console", O_RDWR);
        say("TIOCSCTTY through /dev/console: %s\n", err(ioctl(con, TIOCSCTTY, 0)));
        say("tcgetpgrp through /dev/console: same %d\n", tcgetpgrp(con) == getpid());
        int tty = open("/dev/tty", O_RDWR);
        say("open /dev/tty: %s\n", tty >= 0 ? "ok" : err(tty));
        inject(fd, "typed\n");
        char buf[64];
        int n = read(tty, buf, sizeof(buf));
        say("read back %d bytes: %.*s", n, n > 0 ? n : 0, buf);
        inject(fd, "ab\x7f" "c\n");
        n = read(fd, buf, sizeof(buf));
        say("read after erase: %.*s", n > 0 ? n : 0, buf);
        int nr = -1;
        inject(fd, "part");
        r = ioctl(fd, FIONREAD, &nr);
        say("FIONREAD with a partial line: %s %d\n", err(r), nr);
        tcflush(fd, TCIFLUSH);
        r = ioctl(fd, FIONREAD, &nr);
        say("after TCIFLUSH: %s %d\n", err(r), nr);
        say("\n");
        _exit(0);
    }
    int status;
    waitpid(c, &status, 0);
    say("leader exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    char buf[8];
    say("/dev/ttyS0 after the leader's exit: read %s", err(read(line, buf, sizeof(buf))));
    say(", write %s\n", err(write(line, "", 0)));
    say("console still writable: %s\n", err(write(1, "", 0)));
    return 0;
}
