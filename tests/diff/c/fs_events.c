#include "difftest.h"
/* Files: eventfd, timerfd (counts only), signalfd, memfd_create + seals, sendfile, splice,
 * tee, copy_file_range, /dev/zero and /dev/null, inotify-free. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>

int main(void) {
    setup();
    /* eventfd */
    {
        int e = eventfd(3, 0);
        uint64_t v = 0;
        CK("eventfd_read", read(e, &v, 8));
        CHECK("eventfd_value", "%llu", (unsigned long long)v);
        int en = eventfd(0, EFD_NONBLOCK);
        CK("eventfd_read_empty_nonblock", read(en, &v, 8));
        CK("eventfd_short_read", read(e, &v, 4));
        v = 5;
        CK("eventfd_write", write(en, &v, 8));
        v = 2;
        write(en, &v, 8);
        read(en, &v, 8);
        CHECK("eventfd_sum", "%llu", (unsigned long long)v);
        v = UINT64_MAX;
        CK("eventfd_write_max", write(en, &v, 8));
        v = UINT64_MAX - 1;
        CK("eventfd_write_overflow_ok", write(en, &v, 8));
        v = 1;
        CK("eventfd_write_would_overflow", write(en, &v, 8));
        int es = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
        v = 3;
        write(es, &v, 8);
        uint64_t r1 = 0, r2 = 0;
        read(es, &r1, 8);
        read(es, &r2, 8);
        CHECK("eventfd_semaphore", "%llu %llu", (unsigned long long)r1, (unsigned long long)r2);
        CK("eventfd_bad_flags", eventfd(0, 0x10));
        struct pollfd pf = {es, POLLIN | POLLOUT, 0};
        poll(&pf, 1, 0);
        CHECK("eventfd_poll", "%#x", pf.revents);
        close(e); close(en); close(es);
    }
    /* timerfd */
    {
        int t = timerfd_create(CLOCK_MONOTONIC, 0);
        CK("timerfd_create_bad_clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
        CK("timerfd_create_bad_flags", timerfd_create(CLOCK_MONOTONIC, 0x1));
        struct itimerspec its = {{0, 0}, {0, 20 * 1000 * 1000}};
        CK("timerfd_settime", timerfd_settime(t, 0, &its, NULL));
        uint64_t n = 0;
        CK("timerfd_read_blocks_until_expiry", read(t, &n, 8));
        CHECK("timerfd_oneshot_count", "%llu", (unsigned long long)n);
        struct itimerspec cur;
        timerfd_gettime(t, &cur);
        CHECK("timerfd_disarmed_after_oneshot", "%d", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
        int tn = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
        CK("timerfd_read_unarmed_nonblock", read(tn, &n, 8));
        struct itimerspec per = {{0, 5 * 1000 * 1000}, {0, 5 * 1000 * 1000}};
        timerfd_settime(tn, 0, &per, NULL);
        struct timespec sl = {0, 60 * 1000 * 1000};
        nanosleep(&sl, NULL);
        read(tn, &n, 8);
        CHECK("timerfd_periodic_overruns_at_least_5", "%d", n >= 5);
        struct itimerspec bad = {{0, 0}, {0, 2000000000}};
        CK("timerfd_settime_bad_nsec", timerfd_settime(tn, 0, &bad, NULL));
        CK("timerfd_settime_bad_flags", timerfd_settime(tn, 0x10, &per, NULL));
        struct itimerspec abs_past = {{0, 0}, {1, 0}};
        timerfd_settime(t, TFD_TIMER_ABSTIME, &abs_past, NULL);
        CK("timerfd_abstime_past_fires_at_once", read(t, &n, 8));
        CHECK("timerfd_abstime_count", "%llu", (unsigned long long)n);
        CK("timerfd_short_read", read(t, &n, 4));
        close(t); close(tn);
    }
    /* signalfd */
    {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigprocmask(SIG_BLOCK, &s, NULL);
        int sfd = signalfd(-1, &s, SFD_NONBLOCK);
        struct signalfd_siginfo si;
        CK("signalfd_read_empty", read(sfd, &si, sizeof si));
        raise(SIGUSR1);
        CK("signalfd_read", read(sfd, &si, sizeof si));
        CHECK("signalfd_info", "signo=%u code=%d pid_match=%d", si.ssi_signo, si.ssi_code, si.ssi_pid == (uint32_t)getpid());
        CK("signalfd_small_buffer", read(sfd, &si, 8));
        CK("signalfd_bad_flags", signalfd(-1, &s, 0x1));
        close(sfd);
    }
    /* memfd + seals */
    {
        int m = memfd_create("keel", MFD_ALLOW_SEALING);
        CK("memfd_write", write(m, "memfd-data", 10));
        CK("memfd_get_seals", fcntl(m, F_GET_SEALS));
        CK("memfd_add_seal_shrink", fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK));
        CK("memfd_shrink_sealed", ftruncate(m, 2));
        CK("memfd_grow_ok", ftruncate(m, 100));
        CK("memfd_add_seal_write_grow", fcntl(m, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW));
        CK("memfd_write_sealed", pwrite(m, "x", 1, 0));
        CK("memfd_grow_sealed", ftruncate(m, 200));
        CK("memfd_mmap_shared_write_sealed", (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0) == -1 ? -1 : 0);
        CK("memfd_mmap_private_ok", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, m, 0) == -1 ? -1 : 0);
        CK("memfd_add_seal_seal", fcntl(m, F_ADD_SEALS, F_SEAL_SEAL));
        CK("memfd_seals_now", fcntl(m, F_GET_SEALS));
        CK("memfd_add_after_seal_seal", fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK));
        char b[16] = "";
        pread(m, b, 10, 0);
        CHECK("memfd_content", "%s", b);
        int m2 = memfd_create("nosealing", 0);
        CK("memfd_no_sealing_get", fcntl(m2, F_GET_SEALS));
        CK("memfd_no_sealing_add", fcntl(m2, F_ADD_SEALS, F_SEAL_SHRINK));
        CK("memfd_bad_flags", memfd_create("x", 0x100));
        char longname[300];
        memset(longname, 'n', sizeof longname - 1);
        longname[299] = 0;
        CK("memfd_name_too_long", memfd_create(longname, 0));
        char link[64], target[128] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%d", m);
        readlink(link, target, sizeof target - 1);
        CHECK("memfd_proc_link", "%s", target);
        struct stat st;
        fstat(m, &st);
        CHECK("memfd_stat", "mode=%06o size=%ld nlink=%lu", (unsigned)st.st_mode, (long)st.st_size, (unsigned long)st.st_nlink);
        /* mapping a writable shared memfd, then F_SEAL_WRITE fails with EBUSY */
        int m3 = memfd_create("busy", MFD_ALLOW_SEALING);
        ftruncate(m3, 4096);
        void *mp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m3, 0);
        CK("memfd_seal_write_while_mapped", fcntl(m3, F_ADD_SEALS, F_SEAL_WRITE));
        munmap(mp, 4096);
        CK("memfd_seal_write_after_unmap", fcntl(m3, F_ADD_SEALS, F_SEAL_WRITE));
        close(m); close(m2); close(m3);
    }
    /* sendfile, splice, tee, copy_file_range */
    {
        int src = open("src", O_RDWR | O_CREAT | O_TRUNC, 0644);
        write(src, "0123456789abcdefghij", 20);
        int dst = open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
        off_t off = 5;
        CK("sendfile_file_to_file", sendfile(dst, src, &off, 10));
        CHECK("sendfile_offset_updated", "%ld", (long)off);
        CK("sendfile_src_offset_untouched", lseek(src, 0, SEEK_CUR));
        char b[32] = "";
        pread(dst, b, 10, 0);
        CHECK("sendfile_content", "%s", b);
        lseek(src, 15, SEEK_SET);
        CK("sendfile_null_offset_uses_pos", sendfile(dst, src, NULL, 100));
        CK("sendfile_pos_after", lseek(src, 0, SEEK_CUR));
        int p[2];
        pipe(p);
        CK("sendfile_to_pipe", sendfile(p[1], src, &(off_t){0}, 4));
        CK("sendfile_from_pipe", sendfile(dst, p[0], NULL, 4));
        CK("splice_pipe_to_file", splice(p[0], NULL, dst, &(loff_t){100}, 4, 0));
        write(p[1], "tee!", 4);
        int q[2];
        pipe(q);
        CK("tee", tee(p[0], q[1], 4, 0));
        CK("splice_after_tee_still_there", splice(p[0], NULL, q[1], NULL, 4, 0));
        char tb[16] = "";
        CK("tee_read_both", read(q[0], tb, sizeof tb));
        CHECK("tee_content", "%s", tb);
        CK("splice_no_pipe", splice(src, NULL, dst, NULL, 4, 0));
        CK("splice_offset_on_pipe", splice(p[0], &(loff_t){0}, dst, NULL, 4, 0));
        CK("splice_nonblock_empty", splice(p[0], NULL, dst, NULL, 4, SPLICE_F_NONBLOCK));
        CK("tee_same_pipe", tee(p[0], p[1], 4, 0));
        int c = open("cfr", O_RDWR | O_CREAT | O_TRUNC, 0644);
        loff_t io = 2, oo = 0;
        CK("copy_file_range", copy_file_range(src, &io, c, &oo, 8, 0));
        CHECK("copy_file_range_offsets", "%ld %ld", (long)io, (long)oo);
        CK("copy_file_range_bad_flags", copy_file_range(src, &io, c, &oo, 8, 1));
        CK("copy_file_range_past_eof", copy_file_range(src, &(loff_t){1000}, c, &oo, 8, 0));
        CK("copy_file_range_pipe", copy_file_range(p[0], NULL, c, NULL, 8, 0));
        loff_t s1 = 0, d1 = 2;
        CK("copy_file_range_same_file_overlap", copy_file_range(src, &s1, src, &d1, 8, 0));
        memset(b, 0, sizeof b);
        pread(c, b, 8, 0);
        CHECK("copy_file_range_content", "%s", b);
        close(src); close(dst); close(c);
    }
    /* /dev/zero, /dev/null, /dev/full */
    {
        int z = open("/dev/zero", O_RDWR);
        char b[8] = "xxxxxxx";
        CK("dev_zero_read", read(z, b, 8));
        CHECK("dev_zero_zeroes", "%d", b[0] == 0 && b[7] == 0);
        CK("dev_zero_write", write(z, b, 8));
        int n = open("/dev/null", O_RDWR);
        CK("dev_null_read", read(n, b, 8));
        CK("dev_null_write", write(n, b, 8));
        CK("dev_null_lseek", lseek(n, 100, SEEK_SET));
        int f = open("/dev/full", O_WRONLY);
        CK("dev_full_write", write(f, b, 8));
        close(z); close(n); close(f);
    }
    return 0;
}
