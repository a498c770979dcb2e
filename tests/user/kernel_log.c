// syslog(2) (what dmesg uses) and /dev/kmsg: reading records, the formats,
// writing records from user space, clearing, and the errno cases.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_ < 0 ? -1L : r_ > 0 ? 1L : 0L, r_ < 0 ? errno : 0); \
    } while (0)

static char big[1 << 18];

// Is `line` a well-formed "<N>[sssss.uuuuuu] " syslog line?
static int syslog_line_ok(const char* l) {
    if (l[0] != '<') return 0;
    const char* p = strchr(l, '>');
    if (!p || p[1] != '[') return 0;
    const char* q = strchr(p, ']');
    return q && q[1] == ' ' && q - p == 14 && p[7] == '.';
}

int main(void) {
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    SHOW("size buffer", klogctl(10, NULL, 0));
    SHOW("read_all null", klogctl(3, NULL, 10));
    SHOW("read_all negative", klogctl(3, big, -1));
    SHOW("read_all zero", klogctl(3, big, 0));
    SHOW("read_all bad pointer", klogctl(3, (char*)8, 100));
    SHOW("bad action", klogctl(99, NULL, 0));
    SHOW("console level 0", klogctl(8, NULL, 0));
    SHOW("console level 9", klogctl(8, NULL, 9));
    SHOW("console level 7", klogctl(8, NULL, 7));
    SHOW("open", klogctl(1, NULL, 0));
    SHOW("close", klogctl(0, NULL, 0));

    int n = klogctl(3, big, sizeof(big));
    big[n > 0 ? n : 0] = 0;
    int lines = 0, good = 0, linux_line = 0;
    for (char* l = strtok(big, "\n"); l; l = strtok(NULL, "\n")) {
        ++lines;
        good += syslog_line_ok(l);
        if (strstr(l, "Linux version") || strstr(l, "Keel version")) linux_line = 1;
    }
    printf("read_all: lines>10 %d mostly well-formed %d version line %d\n", lines > 10, good * 10 >= lines * 9, linux_line);
    n = klogctl(3, big, 50);
    printf("read_all 50 bytes: got<=50 %d whole lines %d\n", n <= 50, n == 0 || big[n - 1] == '\n');

    int fd = open("/dev/kmsg", O_RDWR | O_NONBLOCK);
    printf("open kmsg %d\n", fd >= 0);
    SHOW("write kmsg", write(fd, "<5>keel-test: hello from user\n", 30));
    SHOW("write kmsg no prefix", write(fd, "plain user line\n", 16));
    SHOW("write kmsg too long", write(fd, big, 2000));
    char rec[4096];
    SHOW("read tiny buffer", read(fd, rec, 4));
    int found = 0, found_plain = 0, records = 0;
    for (;;) {
        ssize_t r = read(fd, rec, sizeof(rec) - 1);
        if (r < 0) {
            printf("end of records errno=%d\n", errno);
            break;
        }
        rec[r] = 0;
        ++records;
        int prio;
        unsigned long long seq, usec;
        char flag;
        if (sscanf(rec, "%d,%llu,%llu,%c;", &prio, &seq, &usec, &flag) != 4) printf("bad record: %s", rec);
        if (strstr(rec, "keel-test: hello from user")) {
            found = 1;
            printf("user record prio %d flag %c ends with newline %d\n", prio, flag, rec[r - 1] == '\n');
        }
        if (strstr(rec, ";plain user line\n")) {
            found_plain = 1;
            printf("plain record prio %d\n", prio);
        }
    }
    printf("records>10 %d found %d %d\n", records > 10, found, found_plain);
    SHOW("lseek set", lseek(fd, 0, SEEK_SET));
    SHOW("read after rewind", read(fd, rec, sizeof(rec)));
    SHOW("lseek end", lseek(fd, 0, SEEK_END));
    SHOW("read at end", read(fd, rec, sizeof(rec)));
    SHOW("lseek cur", lseek(fd, 0, SEEK_CUR));
    SHOW("lseek nonzero", lseek(fd, 5, SEEK_SET));
    close(fd);

    SHOW("clear", klogctl(5, NULL, 0));
    n = klogctl(3, big, sizeof(big));
    printf("read_all after clear: small %d\n", n < 200);
    SHOW("read_clear", klogctl(4, big, sizeof(big)));

    if (fork() == 0) {
        setuid(1000);
        SHOW("unprivileged read_all", klogctl(3, big, 100));
        SHOW("unprivileged size", klogctl(10, NULL, 0));
        SHOW("unprivileged open kmsg", open("/dev/kmsg", O_RDONLY));
        SHOW("unprivileged write kmsg", open("/dev/kmsg", O_WRONLY));
        _exit(0);
    }
    sleep(1);
    return 0;
}
