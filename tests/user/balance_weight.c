/* Load balancing by weight, not by count: a nice -10 CPU-bound process and
 * two nice-0 ones, forked on one CPU of two (balance_weight.qemu: two CPUs).
 * Linux leaves the heavy one a CPU of its own and the light ones share the
 * other, half a CPU each. Keel balanced thread counts, and 2:1 was already
 * even: the heavy one shared its CPU with a light one (0.91 and 0.10 of it)
 * while the other light one had a CPU to itself. */
#include "spinners.h"

#define N 3

int main(void) {
    start_on_cpu0();
    static const int nices[N] = {-10, 0, 0};
    pid_t kids[N];
    for (int i = 0; i < N; i++) kids[i] = fork_spinner(nices[i]);
    sleep(1); /* placement settles */
    double t0[N], t[N];
    for (int i = 0; i < N; i++) t0[i] = cpu_seconds(kids[i]);
    struct timespec d = {3, 0};
    nanosleep(&d, NULL);
    for (int i = 0; i < N; i++) t[i] = (cpu_seconds(kids[i]) - t0[i]) / 3.0;
    for (int i = 0; i < N; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < N; i++) waitpid(kids[i], NULL, 0);
    printf("nice -10 has a CPU to itself (over 0.85 of one): %s\n", t[0] > 0.85 ? "yes" : "no");
    int halves = t[1] > 0.35 && t[1] < 0.65 && t[2] > 0.35 && t[2] < 0.65;
    printf("the two nice-0 ones share the other (0.35..0.65 each): %s\n", halves ? "yes" : "no");
    if (getenv("VERBOSE") || t[0] <= 0.85 || !halves) printf("cpus: %.2f %.2f %.2f\n", t[0], t[1], t[2]);
    return 0;
}
