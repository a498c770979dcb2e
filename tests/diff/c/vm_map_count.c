#include "difftest.h"
/* vm.max_map_count: the sysctl, and mmap, munmap and mprotect at the limit
 * of mappings a process may have (lowered for the test, then restored);
 * the merging of anonymous mappings that decides what counts. */
#include <fcntl.h>
#include <sys/mman.h>

#define PG 4096UL
#define SYSCTL "/proc/sys/vm/max_map_count"

/* Lines of /proc/self/maps but [vsyscall], which is not a mapping of the process. */
static long maps_count(void) {
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0) return -1;
    static char buf[1 << 16];
    long lines = 0;
    char line[256];
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (len < sizeof line - 1) line[len++] = buf[i];
            if (buf[i] != '\n') continue;
            line[len] = 0;
            if (!strstr(line, "[vsyscall]")) lines++;
            len = 0;
        }
    }
    close(fd);
    return lines;
}

/* Mappings of /proc/self/maps that overlap [lo, hi). */
static long maps_in(char *lo, char *hi) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[512];
    long n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s < (unsigned long)hi && e > (unsigned long)lo) n++;
    }
    fclose(f);
    return n;
}

/* Anonymous memory that continues a neighbour with the same rights is one
 * mapping: a reservation grown by mprotect a page at a time (as glibc grows
 * a thread's heap), a piece made read-only and back, mmap next to mmap. */
static int merging(void) {
    char *r = mmap(NULL, 64 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int ok = 1;
    for (int i = 0; i < 16; i++) ok &= mprotect(r + i * PG, PG, PROT_READ | PROT_WRITE) == 0;
    CHECK("grown_ok", "%d", ok);
    CHECK("grown_maps", "%ld", maps_in(r, r + 64 * PG));
    r[0] = 1;
    r[15 * PG] = 2;
    CK("middle_readonly", mprotect(r + 4 * PG, 2 * PG, PROT_READ));
    CHECK("middle_readonly_maps", "%ld", maps_in(r, r + 64 * PG));
    CK("middle_back", mprotect(r + 4 * PG, 2 * PG, PROT_READ | PROT_WRITE));
    CHECK("middle_back_maps", "%ld", maps_in(r, r + 64 * PG));
    CHECK("data_kept", "%d", r[0] == 1 && r[15 * PG] == 2);
    CK("all_none", mprotect(r, 64 * PG, PROT_NONE));
    CHECK("all_none_maps", "%ld", maps_in(r, r + 64 * PG));
    /* mmap right below an existing mapping with the same rights. */
    char *hi = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *lo = mmap(hi - 4 * PG, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("adjacent_placed", "%d", lo == hi - 4 * PG);
    CHECK("adjacent_maps", "%ld", maps_in(lo, hi + 4 * PG));
    CK("unmap_across", munmap(hi - PG, 2 * PG));
    CHECK("unmap_across_maps", "%ld", maps_in(lo, hi + 4 * PG));
    /* Written memory joins a neighbour that never had pages of its own, or
     * one whose pages share its origin. */
    char *res = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *w = mmap(res + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    w[0] = 1;
    char *r2 = mmap(res, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK("below_written_placed", "%d", r2 == w - 2 * PG);
    CHECK("below_written_maps", "%ld", maps_in(r2, w + 2 * PG));
    CHECK("read_below", "%d", r2[0] == 0);
    CK("below_made_writable", mprotect(r2, 2 * PG, PROT_READ | PROT_WRITE));
    CHECK("below_writable_maps", "%ld", maps_in(r2, w + 2 * PG));
    r2[PG] = 3;
    CK("split_written", mprotect(w, PG, PROT_READ));
    CK("rejoin_written", mprotect(w, PG, PROT_READ | PROT_WRITE));
    CHECK("rejoined_maps", "%ld", maps_in(r2, w + 2 * PG));
    CHECK("joined_data", "%d", w[0] == 1 && r2[PG] == 3);
    /* A shared mapping is never joined to a private one. */
    char *sh = mmap(lo - 4 * PG, 4 * PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("shared_placed", "%d", sh == lo - 4 * PG);
    CHECK("shared_maps", "%ld", maps_in(sh, lo + 4 * PG));
    /* mlock and madvise split off what they change and merge it back when
     * it matches its neighbours again. */
    char *m = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CK("mlock_middle", mlock(m + 2 * PG, 2 * PG));
    CHECK("mlock_middle_maps", "%ld", maps_in(m, m + 8 * PG));
    CK("mlock_next", mlock(m + 4 * PG, PG));
    CHECK("mlock_next_maps", "%ld", maps_in(m, m + 8 * PG));
    CK("munlock_all", munlock(m, 8 * PG));
    CHECK("munlock_all_maps", "%ld", maps_in(m, m + 8 * PG));
    CK("dontfork_middle", madvise(m + 3 * PG, PG, MADV_DONTFORK));
    CHECK("dontfork_middle_maps", "%ld", maps_in(m, m + 8 * PG));
    CK("dofork_middle", madvise(m + 3 * PG, PG, MADV_DOFORK));
    CHECK("dofork_middle_maps", "%ld", maps_in(m, m + 8 * PG));
    CHECK("mlocked_data_kept", "%d", m[2 * PG] == 0 && (m[3 * PG] = 5, m[3 * PG] == 5));
    return 0;
}

static long write_sysctl(const char *v) {
    int fd = open(SYSCTL, O_WRONLY);
    if (fd < 0) return -1;
    long r = write(fd, v, strlen(v));
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static long read_sysctl(void) {
    char b[32] = {0};
    int fd = open(SYSCTL, O_RDONLY);
    if (fd < 0) return -1;
    read(fd, b, sizeof b - 1);
    close(fd);
    return atol(b);
}

static void *page(int i) {
    /* Alternately readable and not: neighbours never merge, one mapping each. */
    return mmap(NULL, PG, i % 2 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static int at_limit(void) {
    char *a = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *b = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long limit = maps_count() + 20;
    char v[32];
    snprintf(v, sizeof v, "%ld\n", limit);
    CHECK("lower_limit", "%d", write_sysctl(v) == (long)strlen(v));
    void *last = NULL;
    int e = 0;
    for (int i = 0; i < 1000; i++) {
        void *p = page(i);
        if (p == MAP_FAILED) {
            e = errno;
            break;
        }
        last = p;
    }
    CHECK("mmap_past_limit", "%s", errname(e));
    CHECK("maps_over_limit", "%ld", maps_count() - limit);
    CK("mprotect_split_at_limit", mprotect(a + PG, PG, PROT_READ));
    CK("munmap_hole_at_limit", munmap(a + PG, PG));
    CHECK("maps_after_refusals", "%ld", maps_count() - limit);
    CK("munmap_head_at_limit", munmap(b, PG));
    CK("munmap_tail_at_limit", munmap(a + 2 * PG, PG));
    CHECK("maps_after_head_tail", "%ld", maps_count() - limit);
    CKOK("mmap_still_refused", page(0));
    CK("munmap_whole", munmap(last, PG));
    CHECK("maps_after_whole", "%ld", maps_count() - limit);
    /* The freed page again, readable: it may continue a readable neighbour
     * (one mapping, the count unchanged), which Linux merges. */
    CKOK("mmap_at_limit_ok", page(1));
    CHECK("maps_after_remap", "%ld", maps_count() - limit);
    CKOK("mmap_over_again", page(0));
    CHECK("maps_at_end", "%ld", maps_count() - limit);
    CK("mprotect_whole_ok", mprotect(a, PG, PROT_READ));
    CK("mremap_shrink_hole", (long)mremap(b + PG, 2 * PG, PG, 0) == (long)(b + PG) ? 0 : -1);
    return 0;
}

/* mremap that moves a mapping needs room for three more below the limit
 * (the move may split the source and the destination may not merge). */
static int remap_near_limit(void) {
    char *x = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CK("fence_next", mprotect(x + PG, PG, PROT_NONE)); /* x cannot grow in place */
    char v[32];
    for (int room = 1; room <= 5; room++) {
        snprintf(v, sizeof v, "%ld\n", maps_count() + room);
        write_sysctl(v);
        char *y = mremap(x, PG, 2 * PG, MREMAP_MAYMOVE);
        char name[32];
        snprintf(name, sizeof name, "move_with_room_%d", room);
        CHECK(name, "%s", y == MAP_FAILED ? errname(errno) : "moved");
        if (y == MAP_FAILED) continue;
        /* One page again, fenced: the next try has to move too. */
        x = y;
        munmap(x + PG, PG);
        mmap(x + PG, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    }
    /* To a fixed address: room also for unmapping what is there. */
    char *dst = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int room = 4; room <= 7; room++) {
        snprintf(v, sizeof v, "%ld\n", maps_count() + room);
        write_sysctl(v);
        char *y = mremap(x, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
        char name[40];
        snprintf(name, sizeof name, "fixed_move_with_room_%d", room);
        CHECK(name, "%s", y == MAP_FAILED ? errname(errno) : "moved");
        if (y == MAP_FAILED) continue;
        dst = x;
        x = y;
    }
    return 0;
}

int main(void) {
    setup();
    long def = read_sysctl();
    CHECK("default", "%ld", def);
    CK("write_negative", write_sysctl("-1\n"));
    CK("write_text", write_sysctl("many\n"));
    CK("write_over_int", write_sysctl("2147483648\n"));
    CHECK("unchanged", "%d", read_sysctl() == def);
    CK("write_zero", write_sysctl("0\n"));
    CHECK("reads_zero", "%ld", read_sysctl());
    char v[32];
    snprintf(v, sizeof v, "%ld\n", def);
    CHECK("restored", "%d", write_sysctl(v) == (long)strlen(v) && read_sysctl() == def);
    CHECK("merging", "%s", wstr(in_child(merging)));
    CHECK("at_limit", "%s", wstr(in_child(at_limit)));
    CHECK("remap_near_limit", "%s", wstr(in_child(remap_near_limit)));
    CHECK("restored_after", "%d", write_sysctl(v) == (long)strlen(v) && read_sysctl() == def);
    return 0;
}
