#include "difftest.h"
/* Files: poll/select/ppoll on pipes, epoll level/edge/oneshot behaviour and errors. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

static const char *ev(int e) {
    static char bufs[4][64];
    static int next;
    char *b = bufs[next++ % 4];
    b[0] = 0;
    if (e & POLLIN) strcat(b, "IN ");
    if (e & POLLOUT) strcat(b, "OUT ");
    if (e & POLLERR) strcat(b, "ERR ");
    if (e & POLLHUP) strcat(b, "HUP ");
    if (e & POLLNVAL) strcat(b, "NVAL ");
    if (e & POLLRDNORM) strcat(b, "RDNORM ");
    if (e & POLLWRNORM) strcat(b, "WRNORM ");
    if (!b[0]) strcpy(b, "none");
    return b;
}

int main(void) {
    setup();
    int p[2];
    pipe(p);
    /* poll */
    struct pollfd f[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {999, POLLIN, 0}};
    CK("poll_empty_pipe", poll(f, 3, 0));
    CHECK("poll_revents_empty", "%s| %s| %s", ev(f[0].revents), ev(f[1].revents), ev(f[2].revents));
    write(p[1], "x", 1);
    CK("poll_data", poll(f, 2, 0));
    CHECK("poll_revents_data", "%s| %s", ev(f[0].revents), ev(f[1].revents));
    f[0].events = POLLIN | POLLRDNORM | POLLOUT;
    poll(f, 1, 0);
    CHECK("poll_read_end_asks_out", "%s", ev(f[0].revents));
    f[0].events = POLLIN;
    close(p[1]);
    poll(f, 1, 0);
    CHECK("poll_writer_closed_with_data", "%s", ev(f[0].revents));
    char c;
    read(p[0], &c, 1);
    poll(f, 1, 0);
    CHECK("poll_writer_closed_empty", "%s", ev(f[0].revents));
    close(p[0]);
    pipe(p);
    close(p[0]);
    struct pollfd w = {p[1], POLLOUT, 0};
    poll(&w, 1, 0);
    CHECK("poll_reader_closed", "%s", ev(w.revents));
    close(p[1]);
    {
        struct pollfd neg = {-1, POLLIN, 77};
        CK("poll_negative_fd_ignored", poll(&neg, 1, 0));
        CHECK("poll_negative_fd_revents", "%d", neg.revents);
        CK("poll_timeout_10ms", poll(NULL, 0, 10));
        CK("poll_efault", poll((struct pollfd *)8, 1, 0));
        CK("poll_too_many", poll(&neg, 1UL << 20, 0));
        struct timespec ts = {0, -1};
        CK("ppoll_bad_timeout", ppoll(&neg, 1, &ts, NULL));
    }
    /* select */
    {
        pipe(p);
        fd_set r, wr;
        FD_ZERO(&r); FD_ZERO(&wr);
        FD_SET(p[0], &r); FD_SET(p[1], &wr);
        struct timeval tv = {0, 0};
        CK("select_writable_only", select(p[1] + 1, &r, &wr, NULL, &tv));
        CHECK("select_sets", "%d %d", FD_ISSET(p[0], &r) != 0, FD_ISSET(p[1], &wr) != 0);
        write(p[1], "y", 1);
        FD_ZERO(&r); FD_SET(p[0], &r);
        CK("select_readable", select(p[0] + 1, &r, NULL, NULL, &tv));
        FD_ZERO(&r); FD_SET(50, &r);
        CK("select_bad_fd", select(51, &r, NULL, NULL, &tv));
        FD_ZERO(&r); FD_SET(900, &r);
        CK("select_fd_beyond_fd_table_ignored", select(901, &r, NULL, NULL, &tv));
        CK("select_negative_nfds", select(-1, NULL, NULL, NULL, &tv));
        struct timeval t10 = {0, 10000};
        CK("select_timeout", select(0, NULL, NULL, NULL, &t10));
        CHECK("select_timeout_updated_to_zero", "%ld %ld", (long)t10.tv_sec, (long)t10.tv_usec);
        struct timeval badtv = {0, -5};
        CK("select_bad_timeval", select(0, NULL, NULL, NULL, &badtv));
        close(p[0]); close(p[1]);
    }
    /* epoll */
    {
        int ep = epoll_create1(0);
        CK("epoll_create1_bad_flags", epoll_create1(1));
        CK("epoll_create_zero", epoll_create(0));
        CK("epoll_create_one", epoll_create(1) >= 0);
        pipe(p);
        struct epoll_event e = {.events = EPOLLIN, .data.u64 = 0x1122};
        CK("epoll_ctl_add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e));
        CK("epoll_ctl_add_again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e));
        CK("epoll_ctl_mod_missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &e));
        CK("epoll_ctl_del_missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], &e));
        CK("epoll_ctl_self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e));
        CK("epoll_ctl_bad_op", epoll_ctl(ep, 99, p[0], &e));
        CK("epoll_ctl_not_epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &e));
        int file = open("/tmp", O_RDONLY);
        CK("epoll_ctl_regular_dir", epoll_ctl(ep, EPOLL_CTL_ADD, file, &e));
        close(file);
        struct epoll_event out[4];
        CK("epoll_wait_empty", epoll_wait(ep, out, 4, 0));
        CK("epoll_wait_bad_max", epoll_wait(ep, out, 0, 0));
        write(p[1], "ab", 2);
        int n = epoll_wait(ep, out, 4, 0);
        CHECK("epoll_lt_first", "%d ev=%#x data=%#llx", n, out[0].events, (unsigned long long)out[0].data.u64);
        CK("epoll_lt_again", epoll_wait(ep, out, 4, 0));
        /* edge triggered: one report per new arrival */
        e.events = EPOLLIN | EPOLLET;
        CK("epoll_ctl_mod_et", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e));
        CK("epoll_et_after_mod", epoll_wait(ep, out, 4, 0));
        CK("epoll_et_again", epoll_wait(ep, out, 4, 0));
        write(p[1], "c", 1);
        CK("epoll_et_new_data", epoll_wait(ep, out, 4, 0));
        CK("epoll_et_no_more", epoll_wait(ep, out, 4, 0));
        /* oneshot: disabled after one report until re-armed */
        e.events = EPOLLIN | EPOLLONESHOT;
        epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
        CK("epoll_oneshot_first", epoll_wait(ep, out, 4, 0));
        CK("epoll_oneshot_disabled", epoll_wait(ep, out, 4, 0));
        write(p[1], "d", 1);
        CK("epoll_oneshot_still_disabled", epoll_wait(ep, out, 4, 0));
        epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
        CK("epoll_oneshot_rearmed", epoll_wait(ep, out, 4, 0));
        /* hangup */
        e.events = EPOLLIN;
        epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
        char buf[16];
        read(p[0], buf, sizeof buf);
        close(p[1]);
        n = epoll_wait(ep, out, 4, 0);
        CHECK("epoll_hup", "%d ev=%#x", n, n > 0 ? out[0].events : 0);
        /* closing the fd removes it from the set */
        close(p[0]);
        CK("epoll_after_close", epoll_wait(ep, out, 4, 0));
        /* EPOLLEXCLUSIVE cannot be modified */
        pipe(p);
        e.events = EPOLLIN | EPOLLEXCLUSIVE;
        CK("epoll_add_exclusive", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e));
        CK("epoll_mod_exclusive", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e));
        /* epoll_wait timeout and multiple ready fds */
        CK("epoll_wait_timeout_10ms", epoll_wait(ep, out, 4, 10));
        int q[2];
        pipe(q);
        e.events = EPOLLOUT;
        e.data.u64 = 7;
        epoll_ctl(ep, EPOLL_CTL_ADD, q[1], &e);
        write(p[1], "z", 1);
        n = epoll_wait(ep, out, 4, 0);
        unsigned long long sum = 0;
        for (int i = 0; i < n; i++) sum += out[i].data.u64;
        CHECK("epoll_two_ready", "%d sum=%llu", n, sum);
        n = epoll_wait(ep, out, 1, 0);
        CHECK("epoll_maxevents_1", "%d", n);
        /* epoll_pwait2 with a zero timeout */
        struct timespec ts0 = {0, 0};
        CK("epoll_pwait2", syscall(SYS_epoll_pwait2, ep, out, 4, &ts0, NULL, 8));
        close(ep);
    }
    return 0;
}
