/* execve() from a thread of a multithreaded process: every other thread
 * ends (one asleep, one spinning in user mode), the execing thread takes
 * over the process's ID (the leader's), and the new image runs alone, as
 * Linux's de_thread does. The parent sees one exit of the whole process,
 * with the new image's status. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char pidbuf[16];

static int threads_now(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
    if (f) fclose(f);
    return n;
}

static void *sleeper(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

static void *spinner(void *arg) {
    (void)arg;
    for (volatile unsigned long n = 0;; n++) {
    }
    return NULL;
}

static void *execer(void *arg) {
    (void)arg;
    usleep(20000);
    char *argv[] = {"init", "child", pidbuf, NULL};
    execv("/init", argv);
    printf("execv failed\n");
    _exit(1);
}

static void *leader_body(const char *mode) {
    pthread_t a, b, c;
    snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
    pthread_create(&a, NULL, sleeper, NULL);
    pthread_create(&c, NULL, spinner, NULL);
    pthread_create(&b, NULL, execer, NULL);
    if (!strcmp(mode, "leader-exits")) syscall(SYS_exit, 0); /* the leader thread ends first */
    pthread_join(b, NULL);
    return NULL;
}

static void run(const char *mode) {
    pid_t pid = fork();
    if (pid == 0) {
        leader_body(mode);
        _exit(2);
    }
    int st;
    pid_t w = waitpid(pid, &st, 0);
    printf("%s: waitpid found it: %s, exit status %d\n", mode, w == pid ? "yes" : "no",
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 2 && !strcmp(argv[1], "child")) {
        printf("new image: same pid %s, tid == pid %s, threads %d\n", atoi(argv[2]) == getpid() ? "yes" : "no",
               syscall(SYS_gettid) == getpid() ? "yes" : "no", threads_now());
        return 5;
    }
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    run("leader-waits");
    run("leader-exits");
    return 0;
}
