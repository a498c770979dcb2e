// rseq: glibc's registration at startup and sched_getcpu() against
// getcpu(2) across migrations; the registration rules (EBUSY, EPERM,
// EINVAL, EFAULT, sizes and alignment); the ids the kernel writes; and a
// hand-written critical section aborted by a signal and by preemption,
// with a bad signature costing SIGSEGV. fork keeps the registration; exec
// starts without one (glibc registers again).
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIG 0x53053053u

#define SHOW(label, call)                                                \
    do {                                                                 \
        errno = 0;                                                       \
        long r_ = (long)(call);                                          \
        int e_ = errno;                                                  \
        printf("%s: %ld %s\n", label, r_, r_ < 0 ? strerror(e_) : "");   \
    } while (0)

// struct rseq as 6.3+ lays it out.
struct area {
    uint32_t cpu_id_start;
    int32_t cpu_id;
    uint64_t rseq_cs;
    uint32_t flags;
    uint32_t node_id;
    uint32_t mm_cid;
    char end[];
};

static long sys_rseq(void* a, uint32_t len, int flags, uint32_t sig) { return syscall(SYS_rseq, a, len, flags, sig); }

static struct area* glibc_area(void) { return (struct area*)((char*)__builtin_thread_pointer() + __rseq_offset); }

static int kernel_cpu(void) {
    unsigned cpu = 0, node = 0;
    syscall(SYS_getcpu, &cpu, &node, NULL);
    return (int)cpu;
}

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof(s), &s);
}

// cs_spin(&area->rseq_cs, stop): arms the descriptor and spins inside the
// critical section until *stop is set (returns 0) or the kernel aborts it
// (returns 1 from the abort handler). cs_spin_badsig is the same with a
// wrong signature before its abort handler.
int cs_spin(uint64_t* rseq_cs, volatile int* stop);
int cs_spin_badsig(uint64_t* rseq_cs, volatile int* stop);
asm(".text\n"
    ".globl cs_spin\n"
    "cs_spin:\n"
    "  leaq cs_desc(%rip), %rax\n"
    "  movq %rax, (%rdi)\n"
    "cs_start:\n"
    "  cmpl $0, (%rsi)\n"
    "  je cs_start\n"
    "cs_post:\n"
    "  movq $0, (%rdi)\n"
    "  xorl %eax, %eax\n"
    "  ret\n"
    "  .long 0x53053053\n"
    "cs_abort:\n"
    "  movl $1, %eax\n"
    "  ret\n"
    ".globl cs_spin_badsig\n"
    "cs_spin_badsig:\n"
    "  leaq cs_desc_bad(%rip), %rax\n"
    "  movq %rax, (%rdi)\n"
    "cs2_start:\n"
    "  cmpl $0, (%rsi)\n"
    "  je cs2_start\n"
    "cs2_post:\n"
    "  movq $0, (%rdi)\n"
    "  xorl %eax, %eax\n"
    "  ret\n"
    "  .long 0x12345678\n"
    "cs2_abort:\n"
    "  movl $1, %eax\n"
    "  ret\n"
    ".data\n"
    ".balign 32\n"
    "cs_desc:\n"
    "  .long 0, 0\n"
    "  .quad cs_start, cs_post - cs_start, cs_abort\n"
    ".balign 32\n"
    "cs_desc_bad:\n"
    "  .long 0, 0\n"
    "  .quad cs2_start, cs2_post - cs2_start, cs2_abort\n"
    ".text\n");

static volatile int stop_flag, alarms;
static void on_alarm(int sig) {
    (void)sig;
    if (++alarms >= 3) stop_flag = 1;  // a kernel that never aborts still ends the test
}

static void exec_child(void) {
    struct area* a = glibc_area();
    printf("after exec: glibc registered again %s, cpu_id agrees %s\n", a->cpu_id >= 0 ? "yes" : "no",
           a->cpu_id == kernel_cpu() ? "yes" : "no");
    exit(0);
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "exec-child")) exec_child();
    struct area* a = glibc_area();
    printf("glibc: __rseq_size %u, __rseq_flags %u, registered %s\n", __rseq_size, __rseq_flags,
           a->cpu_id >= 0 ? "yes" : "no");
    for (int cpu = 0; cpu < 2; ++cpu) {
        pin(cpu);
        printf("pinned to %d: sched_getcpu %d, getcpu %d, rseq cpu_id %d, cpu_id_start %u, node_id %u, mm_cid %u\n",
               cpu, sched_getcpu(), kernel_cpu(), a->cpu_id, a->cpu_id_start, a->node_id, a->mm_cid);
    }
    pin(0);

    // Registration rules, against glibc's registration (32 bytes).
    SHOW("register again (same)", sys_rseq(a, 32, 0, SIG));
    SHOW("register again, other signature", sys_rseq(a, 32, 0, SIG + 1));
    SHOW("register again, other length", sys_rseq(a, 64, 0, SIG));
    SHOW("register again, other address", sys_rseq((char*)a + 32, 32, 0, SIG));
    SHOW("flags 2", sys_rseq(a, 32, 2, SIG));
    SHOW("unregister, flags 3", sys_rseq(a, 32, 3, SIG));
    SHOW("unregister, wrong signature", sys_rseq(a, 32, RSEQ_FLAG_UNREGISTER, SIG + 1));
    SHOW("unregister, wrong length", sys_rseq(a, 64, RSEQ_FLAG_UNREGISTER, SIG));
    SHOW("unregister, wrong address", sys_rseq((char*)a + 32, 32, RSEQ_FLAG_UNREGISTER, SIG));
    SHOW("unregister", sys_rseq(a, 32, RSEQ_FLAG_UNREGISTER, SIG));
    printf("after unregister: cpu_id %d, cpu_id_start %u\n", a->cpu_id, a->cpu_id_start);
    SHOW("unregister twice", sys_rseq(a, 32, RSEQ_FLAG_UNREGISTER, SIG));

    // Our own areas.
    char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    SHOW("len 16", sys_rseq(page, 16, 0, SIG));
    SHOW("len 28", sys_rseq(page, 28, 0, SIG));
    SHOW("len 32 misaligned (16)", sys_rseq(page + 16, 32, 0, SIG));
    SHOW("len 64 misaligned (16)", sys_rseq(page + 16, 64, 0, SIG));
    SHOW("kernel address", sys_rseq((void*)0xffff800000000000ull, 32, 0, SIG));
    SHOW("len 64 at page+64", sys_rseq(page + 64, 64, 0, SIG));
    struct area* mine = (struct area*)(page + 64);
    printf("own area: cpu_id %d, cpu_id_start %u\n", mine->cpu_id, mine->cpu_id_start);
    SHOW("unregister it", sys_rseq(page + 64, 64, RSEQ_FLAG_UNREGISTER, SIG));
    SHOW("len 33 at page+128", sys_rseq(page + 128, 33, 0, SIG));
    SHOW("unregister it", sys_rseq(page + 128, 33, RSEQ_FLAG_UNREGISTER, SIG));
    // Back to glibc's area, as glibc had it.
    SHOW("register glibc's area again", sys_rseq(a, 32, 0, SIG));
    printf("sched_getcpu %d, getcpu %d\n", sched_getcpu(), kernel_cpu());

    // An unmapped area is accepted, but writing the ids fails: SIGSEGV.
    pid_t pid = fork();
    if (pid == 0) {
        long u = sys_rseq(a, 32, RSEQ_FLAG_UNREGISTER, SIG);
        long g = sys_rseq((void*)0x10000000, 32, 0, SIG);
        printf("child: unregister %ld, unmapped area registered %ld (%s) and survived\n", u, g, g < 0 ? strerror(errno) : "");
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("unmapped area: child %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exited", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

    // A critical section interrupted by a signal resumes at its abort handler.
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    stop_flag = 0;
    int r = cs_spin(&a->rseq_cs, &stop_flag);
    alarm(0);
    // (Linux may abort it on a preemption before the signal comes.)
    printf("signal in critical section: aborted %s, rseq_cs cleared %s\n", r == 1 ? "yes" : "no",
           a->rseq_cs == 0 ? "yes" : "no");
    // Finishing normally commits (the descriptor is cleared by the code itself).
    stop_flag = 1;
    r = cs_spin(&a->rseq_cs, &stop_flag);
    printf("uninterrupted critical section: committed %s\n", r == 0 ? "yes" : "no");

    // Preemption: another process spins on the same CPU.
    pid = fork();
    if (pid == 0) {
        pin(0);
        for (;;) {
        }
    }
    alarms = 0;
    stop_flag = 0;
    alarm(5);
    r = cs_spin(&a->rseq_cs, &stop_flag);
    alarm(0);
    printf("preempted in critical section: aborted %s, without a signal %s\n", r == 1 ? "yes" : "no",
           alarms == 0 ? "yes" : "no");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    // A wrong signature before abort_ip: SIGSEGV when the kernel would abort.
    pid = fork();
    if (pid == 0) {
        alarm(1);
        stop_flag = 0;
        cs_spin_badsig(&a->rseq_cs, &stop_flag);
        printf("child: bad signature survived (unexpected)\n");
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("bad signature: child %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exited", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

    // fork keeps the registration; exec starts afresh.
    pid = fork();
    if (pid == 0) {
        pin(1);
        printf("fork child: registered %s (EBUSY again: %s), cpu_id %d, sched_getcpu %d\n", a->cpu_id >= 0 ? "yes" : "no",
               sys_rseq(a, 32, 0, SIG) < 0 && errno == EBUSY ? "yes" : "no", a->cpu_id, sched_getcpu());
        execl("/init", "init", "exec-child", (char*)NULL);
        _exit(1);
    }
    waitpid(pid, NULL, 0);
    printf("done\n");
    return 0;
}
