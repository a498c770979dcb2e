/* Fairness between CPUs: three equal CPU-bound processes forked on one CPU
 * of two (balance_rotate.qemu: two CPUs). Linux's balancing moves them
 * around, so each gets about 2/3 of a CPU over a few seconds. Keel let the
 * 2:1 split stand: one had a CPU to itself for as long as they ran, the
 * other two half a CPU each. */
#include "spinners.h"

#define N 3

int main(void) {
    start_on_cpu0();
    pid_t kids[N];
    for (int i = 0; i < N; i++) kids[i] = fork_spinner(0);
    sleep(1); /* placement settles */
    double t0[N], t[N], lo = 1e9, hi = 0;
    for (int i = 0; i < N; i++) t0[i] = cpu_seconds(kids[i]);
    struct timespec d = {4, 0};
    nanosleep(&d, NULL);
    for (int i = 0; i < N; i++) {
        t[i] = (cpu_seconds(kids[i]) - t0[i]) / 4.0;
        if (t[i] < lo) lo = t[i];
        if (t[i] > hi) hi = t[i];
    }
    for (int i = 0; i < N; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < N; i++) waitpid(kids[i], NULL, 0);
    printf("least-served gets at least 0.75 x the best-served: %s\n", lo >= 0.75 * hi ? "yes" : "no");
    if (getenv("VERBOSE") || lo < 0.75 * hi) printf("cpus: %.2f %.2f %.2f\n", t[0], t[1], t[2]);
    return 0;
}
