/* Pressure stall information under load, on one CPU (psi_quant.qemu; no
 * icount: PSI measures time, and spinning 20 virtual seconds under icount
 * takes minutes of host time, while the stall share does not depend on
 * the host's speed): two spinners keep one of them waiting all the time, so
 * /proc/pressure/cpu's "some" (at least one task waiting) is 100% of the
 * time and avg10 after 20 s is 100 * (1 - (1677/2048)^10) = 86.4, the 2 s
 * decay with Linux's constants; a trigger fires. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void spin_forever(void) {
    for (;;) {
    }
}

static double some_avg10(void) {
    char buf[256] = {0};
    int fd = open("/proc/pressure/cpu", O_RDONLY);
    if (fd < 0) return -1;
    read(fd, buf, sizeof buf - 1);
    close(fd);
    char *p = strstr(buf, "some avg10=");
    return p ? atof(p + 11) : -1;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    sleep(3); /* Linux's kernel threads are busy for a while after boot */

    int fd = open("/proc/pressure/cpu", O_RDWR | O_NONBLOCK);
    const char *trig = "some 150000 1000000";
    printf("trigger accepted: %s\n", fd >= 0 && write(fd, trig, strlen(trig) + 1) > 0 ? "yes" : "no");

    pid_t a = fork();
    if (a == 0) spin_forever();
    pid_t b = fork();
    if (b == 0) spin_forever();

    struct pollfd pfd = {fd, POLLPRI, 0};
    int n = poll(&pfd, 1, 5000);
    printf("trigger fired within 5 s of load: %s\n", n == 1 && (pfd.revents & POLLPRI) ? "yes" : "no");

    struct timespec ts = {20, 0};
    nanosleep(&ts, NULL);
    double avg = some_avg10();
    printf("after 20 s of two spinners: some avg10 between 80%% and 92%%: %s\n", avg >= 80 && avg <= 92 ? "yes" : "no");
    if (getenv("VERBOSE")) printf("  avg10 %.2f\n", avg);
    kill(a, SIGKILL);
    kill(b, SIGKILL);
    while (wait(NULL) > 0) {
    }
    return 0;
}
