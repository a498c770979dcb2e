// /proc as programs read it: the per-process files' shapes, the links, the
// descriptor directory and the system-wide files' keys. Values differ
// between kernels, so only formats and stable facts are printed.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[65536];

static int slurp(const char* path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("open %s failed\n", path);
        return -1;
    }
    int n = 0, r;
    while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0) n += r;
    close(fd);
    buf[n] = 0;
    return n;
}

// The key of each "Key:\tvalue" line.
static void keys(const char* path, char sep) {
    if (slurp(path) < 0) return;
    printf("%s keys:", path);
    for (char* line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char* c = sep ? strchr(line, sep) : line + 25;  // limits: the name column
        if (c && c < line + strlen(line)) *c = 0;
        printf(" %s", line);
    }
    printf("\n");
}

static void link_of(const char* path) {
    char target[256];
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0) {
        printf("readlink %s failed\n", path);
        return;
    }
    target[n] = 0;
    printf("%s -> %s\n", path, target);
}

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

static void list(const char* path) {
    DIR* d = opendir(path);
    if (!d) {
        printf("opendir %s failed\n", path);
        return;
    }
    char* names[256];
    int n = 0;
    struct dirent* e;
    while ((e = readdir(d)) && n < 256) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp);
    printf("%s:", path);
    for (int i = 0; i < n; ++i) printf(" %s", names[i]);
    printf("\n");
}

int main(void) {
    mkdir("/proc", 0555);
    if (mount("proc", "/proc", "proc", 0, NULL) != 0) {
        perror("mount");
        return 1;
    }
    // stat: 52 fields, the name in parentheses.
    slurp("/proc/self/stat");
    int fields = 0;
    char* name_end = strrchr(buf, ')');
    for (char* t = strtok(name_end + 1, " \n"); t; t = strtok(NULL, " \n")) ++fields;
    char* name_start = strchr(buf, '(');
    *name_end = 0;
    printf("stat: %d fields, name (%s)\n", fields + 2, name_start + 1);
    slurp("/proc/self/statm");
    fields = 0;
    for (char* t = strtok(buf, " \n"); t; t = strtok(NULL, " \n")) ++fields;
    printf("statm: %d fields\n", fields);

    keys("/proc/self/status", ':');
    slurp("/proc/self/comm");
    printf("comm: %s", buf);
    int n = slurp("/proc/self/cmdline");
    printf("cmdline: %d bytes, %s\n", n, buf);

    link_of("/proc/self/exe");
    link_of("/proc/self/cwd");
    link_of("/proc/self/root");
    link_of("/proc/mounts");
    char want[32];
    snprintf(want, sizeof(want), "%d", getpid());
    char got[32] = {0};
    readlink("/proc/self", got, sizeof(got) - 1);
    printf("self is getpid: %s\n", strcmp(want, got) == 0 ? "yes" : "no");

    // A new descriptor appears with its path; a pipe with its inode.
    int fd = open("/proc/version", O_RDONLY);
    int p[2];
    pipe(p);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    link_of(path);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
    char target[64] = {0};
    readlink(path, target, sizeof(target) - 1);
    printf("pipe link starts with pipe:[ %s\n", strncmp(target, "pipe:[", 6) == 0 ? "yes" : "no");
    list("/proc/self/fd");
    list("/proc/self/fdinfo");
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    keys(path, ':');
    close(p[0]);
    close(p[1]);
    close(fd);

    // stat() through a magic link reaches the file itself.
    struct stat a, b;
    stat("/proc/self/exe", &a);
    stat("/init", &b);
    printf("exe is /init: %s\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");

    // maps: the stack and vdso lines with their permissions.
    slurp("/proc/self/maps");
    for (char* line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char* name = strstr(line, "[stack]") ? "[stack]" : strstr(line, "[vdso]") ? "[vdso]" : NULL;
        if (!name) continue;
        printf("maps %s %.4s\n", name, strchr(line, ' ') + 1);
    }

    keys("/proc/meminfo", ':');
    slurp("/proc/uptime");
    printf("uptime fields: %s\n", strchr(buf, ' ') && strchr(buf, '.') ? "2" : "?");
    slurp("/proc/loadavg");
    printf("loadavg has slash: %s\n", strchr(buf, '/') ? "yes" : "no");
    keys("/proc/self/limits", '\0');
    slurp("/proc/sys/kernel/ostype");
    printf("ostype: %s", buf);
    slurp("/proc/sys/kernel/pid_max");
    printf("pid_max: %s", buf);
    slurp("/proc/sys/kernel/random/uuid");
    printf("uuid length %zu, version %c\n", strlen(buf), buf[14]);
    slurp("/proc/stat");
    printf("stat starts with cpu: %s\n", strncmp(buf, "cpu  ", 5) == 0 ? "yes" : "no");
    printf("stat has btime and processes: %s\n", strstr(buf, "\nbtime ") && strstr(buf, "\nprocesses ") ? "yes" : "no");
    struct stat st;
    stat("/proc/self/status", &st);
    printf("status: mode %o size %lld\n", st.st_mode, (long long)st.st_size);
    stat("/proc", &st);
    printf("/proc: mode %o\n", st.st_mode);
    printf("done\n");
    return 0;
}
