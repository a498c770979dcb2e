/* Reading and writing cgroup files for the cgroup_* difftests: what a call
 * did, as text both kernels can be compared on (include after difftest.h). */
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The file's contents with newlines as '|', or "open/read -1 ERRNO". One
 * buffer per thread: the result lives until the thread's next cat(). */
__attribute__((unused)) static const char *cat(const char *path) {
    static __thread char b[8192];
    int fd = open(path, O_RDONLY);
    if (fd < 0) { snprintf(b, sizeof b, "open -1 %s", errname(errno)); return b; }
    ssize_t n = read(fd, b, sizeof b - 1);
    int e = errno;
    close(fd);
    if (n < 0) { snprintf(b, sizeof b, "read -1 %s", errname(e)); return b; }
    b[n] = 0;
    for (ssize_t i = 0; i < n; i++) if (b[i] == '\n') b[i] = '|';
    return b;
}

/* "ok" when all of `text` was written in one write (pids differ in length,
 * so the count itself is not printed), the count when short, else
 * "-1 ERRNO" ("open -1 ERRNO" when the file cannot be opened). */
__attribute__((unused)) static const char *wr(const char *path, const char *text) {
    static __thread char b[64];
    int fd = open(path, O_WRONLY);
    if (fd < 0) { snprintf(b, sizeof b, "open -1 %s", errname(errno)); return b; }
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    if (n < 0) snprintf(b, sizeof b, "-1 %s", errname(e));
    else if ((size_t)n == strlen(text)) snprintf(b, sizeof b, "ok");
    else snprintf(b, sizeof b, "%zd", n);
    return b;
}
