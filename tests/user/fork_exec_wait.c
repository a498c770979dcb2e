// Process lifecycle as pid 1: fork, waitpid statuses, execve with argv/envp,
// a "#!" script, vfork, and reaping many children. Output is compared
// line by line by tools/qemu_tests.py.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("exec'd child argc=%d arg2=%s\n", argc, argv[2]);
        return 7;
    }
    int shared = 10;
    pid_t pid = fork();
    if (pid == 0) {
        shared = 20;
        printf("in child: shared=%d ppid=%d\n", shared, (int)getppid());  /* the parent is init: 1 */
        _exit(42);
    }
    int st = 0;
    pid_t w = waitpid(pid, &st, 0);
    printf("parent: waited for it=%d exited=%d status=%d shared=%d\n", w == pid, WIFEXITED(st), WEXITSTATUS(st), shared);
    pid = fork();
    if (pid == 0) {
        char* av[] = {"/init", "child", "hello", NULL};
        char* ev[] = {"A=1", NULL};
        execve("/init", av, ev);
        printf("execve failed\n");
        _exit(99);
    }
    waitpid(pid, &st, 0);
    printf("exec child status=%d\n", WEXITSTATUS(st));
    pid = vfork();
    if (pid == 0) _exit(5);
    waitpid(pid, &st, 0);
    printf("vfork child status=%d\n", WEXITSTATUS(st));
    printf("wait no child: %d\n", (int)waitpid(-1, &st, WNOHANG));
    pid = fork();
    if (pid == 0) { char* av[] = {"/script.sh", "x", NULL}; execv("/script.sh", av); _exit(98); }
    waitpid(pid, &st, 0);
    printf("script status=%d\n", WEXITSTATUS(st));
    for (int i = 0; i < 20; ++i) { if (fork() == 0) { _exit(i); } }
    int sum = 0, n = 0; while ((w = wait(&st)) > 0) { sum += WEXITSTATUS(st); ++n; }
    printf("reaped %d sum %d\n", n, sum);
    return 0;
}
