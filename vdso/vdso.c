// Keel's vDSO: clock_gettime, gettimeofday, time and getcpu without a
// system call. Built as a tiny position-independent shared object (no libc)
// and mapped into every process; AT_SYSINFO_EHDR points at it. Clocks it
// cannot serve fall back to the real system call.
#include <stdint.h>

#include "vdso.h"

typedef long time_t_;
struct kts {
    long tv_sec;
    long tv_nsec;
};
struct ktv {
    long tv_sec;
    long tv_usec;
};

// The data page sits one page below the vDSO image.
extern const struct keel_vvar keel_vvar __attribute__((visibility("hidden")));

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static long sys2(long nr, long a, long b) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

static uint64_t monotonic_ns(int64_t* realtime_offset) {
    const volatile struct keel_vvar* v = &keel_vvar;
    uint32_t seq;
    uint64_t ns;
    do {
        seq = v->seq;
        __asm__ volatile("" ::: "memory");
        uint64_t delta = rdtsc() - v->tsc_base;
        ns = (uint64_t)(((unsigned __int128)delta * v->ns_mult) >> 32);
        if (realtime_offset) *realtime_offset = v->realtime_offset;
        __asm__ volatile("" ::: "memory");
    } while ((seq & 1) || seq != v->seq);
    return ns;
}

int __vdso_clock_gettime(int clock, struct kts* ts) {
    int64_t off = 0;
    uint64_t ns;
    switch (clock) {
    case 0:   // REALTIME
    case 11:  // TAI
        ns = monotonic_ns(&off) + off;
        break;
    case 5:  // REALTIME_COARSE
        ns = monotonic_ns(&off) + off;
        ns -= ns % keel_vvar.coarse_ns;
        break;
    case 1:  // MONOTONIC
    case 4:  // MONOTONIC_RAW
    case 7:  // BOOTTIME
        ns = monotonic_ns(0);
        break;
    case 6:  // MONOTONIC_COARSE
        ns = monotonic_ns(0);
        ns -= ns % keel_vvar.coarse_ns;
        break;
    default:
        return (int)sys2(228 /* clock_gettime */, clock, (long)ts);
    }
    ts->tv_sec = (long)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
    return 0;
}

int __vdso_gettimeofday(struct ktv* tv, void* tz) {
    if (tz) return (int)sys2(96 /* gettimeofday */, (long)tv, (long)tz);
    if (tv) {
        int64_t off;
        uint64_t ns = monotonic_ns(&off) + off;
        tv->tv_sec = (long)(ns / 1000000000);
        tv->tv_usec = (long)(ns % 1000000000 / 1000);
    }
    return 0;
}

time_t_ __vdso_time(time_t_* t) {
    int64_t off;
    time_t_ s = (time_t_)((monotonic_ns(&off) + off) / 1000000000);
    if (t) *t = s;
    return s;
}

// The kernel keeps each CPU's number in TSC_AUX.
int __vdso_getcpu(unsigned* cpu, unsigned* node, void* unused) {
    (void)unused;
    uint32_t aux;
    __asm__ volatile("rdtscp" : "=c"(aux) : : "rax", "rdx");
    if (cpu) *cpu = aux & 0xfff;
    if (node) *node = 0;
    return 0;
}

int clock_gettime(int, struct kts*) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct ktv*, void*) __attribute__((weak, alias("__vdso_gettimeofday")));
time_t_ time(time_t_*) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned*, unsigned*, void*) __attribute__((weak, alias("__vdso_getcpu")));
