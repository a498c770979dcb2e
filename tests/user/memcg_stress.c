/* cgroup v2 memory.max in harder cases: four threads of one process
 * faulting together over the limit, a tmpfs writer over the limit (its
 * file stays charged), copy-on-write copies after fork over the limit, and
 * a limit lowered while a process keeps faulting. Nothing may hang; the
 * kernel kills inside the group only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_test.h"

#define MB (1024L * 1024L)

static const char *yes(int b) { return b ? "yes" : "no"; }

static const char *how(int status) {
    static char buf[32];
    if (WIFSIGNALED(status)) snprintf(buf, sizeof buf, "signal %d", WTERMSIG(status));
    else snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(status));
    return buf;
}


static void join(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "/cg/%s/cgroup.procs", name);
    if (put(path, "0")) _exit(3);
}

static void touch(char *p, long bytes) {
    for (long i = 0; i < bytes; i += 4096) p[i] = 1;
}

static void *thread_hog(void *arg) {
    (void)arg;
    char *p = mmap(NULL, 16 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    touch(p, 16 * MB);
    return NULL;
}

static void threads(void) {
    memory_group("thr", "24M");
    pid_t pid = fork();
    if (pid == 0) {
        join("thr");
        pthread_t t[4];
        for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, thread_hog, NULL);
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("thr: four threads touching 64M under 24M end by %s\n", how(st));
    printf("thr: oom_kill %ld, memory.current below 1M: %s\n", key("/cg/thr/memory.events", "oom_kill"),
           yes(num("/cg/thr/memory.current") < MB));
    rmdir("/cg/thr");
}

static void tmpfs_writer(void) {
    mkdir("/tmp", 01777);
    mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
    memory_group("tw", "8M");
    pid_t pid = fork();
    if (pid == 0) {
        join("tw");
        int fd = open("/tmp/big", O_CREAT | O_WRONLY, 0600);
        static char chunk[64 * 1024];
        memset(chunk, 1, sizeof chunk);
        for (int i = 0; i < 256; i++)
            if (write(fd, chunk, sizeof chunk) < 0) _exit(4);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("tw: writing 16M to tmpfs under 8M ends by %s\n", how(st));
    long cur = num("/cg/tw/memory.current");
    struct stat sb;
    stat("/tmp/big", &sb);
    printf("tw: the file keeps what was written (6M..8M), still charged: %s\n",
           yes(sb.st_size >= 6 * MB && sb.st_size <= 8 * MB && cur >= sb.st_size && cur <= 8 * MB));
    printf("tw: oom_kill %ld\n", key("/cg/tw/memory.events", "oom_kill"));
    printf("tw: rmdir while the file is charged: %s\n", rmdir("/cg/tw") ? "failed" : "ok");
    unlink("/tmp/big");
}

static void cow(void) {
    memory_group("cow", "16M");
    pid_t pid = fork();
    if (pid == 0) {
        join("cow");
        char *p = mmap(NULL, 10 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        touch(p, 10 * MB);
        pid_t c = fork();
        if (c == 0) {
            touch(p, 10 * MB); /* every page copied */
            _exit(0);
        }
        int st;
        waitpid(c, &st, 0);
        _exit(WIFSIGNALED(st) ? 10 + WTERMSIG(st) : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    int killed = (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) || (WIFEXITED(st) && WEXITSTATUS(st) == 10 + SIGKILL);
    /* With the parent killed first, its child (now ours) runs on until
     * it is killed too. */
    while (wait(NULL) > 0) {
    }
    printf("cow: copies after fork over the limit: one of the two killed: %s\n", yes(killed));
    printf("cow: oom_kill>=1 %s, memory.current below 1M: %s\n", yes(key("/cg/cow/memory.events", "oom_kill") >= 1),
           yes(num("/cg/cow/memory.current") < MB));
    rmdir("/cg/cow");
}

static void lowered(void) {
    memory_group("lw", "max");
    int r[2];
    pipe(r);
    pid_t pid = fork();
    if (pid == 0) {
        join("lw");
        char *p = mmap(NULL, 64 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        touch(p, 4 * MB);
        char c = 1;
        write(r[1], &c, 1);
        for (;;) touch(p, 64 * MB); /* faulting, then writing over and over */
    }
    char c;
    read(r[0], &c, 1);
    printf("lw: memory.max 2M while it faults: %s\n", put("/cg/lw/memory.max", "2M") ? "failed" : "ok");
    int st;
    waitpid(pid, &st, 0);
    printf("lw: it ends by %s\n", how(st));
    close(r[0]), close(r[1]);
    rmdir("/cg/lw");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    mount_memory_cgroups();
    threads();
    tmpfs_writer();
    cow();
    lowered();
    printf("done\n");
    return 0;
}
