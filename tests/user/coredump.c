// Core dumps with core_pattern "core": which deaths write one (RLIMIT_CORE,
// dumpability, handled and ignored signals), the WCOREDUMP bit and
// CLD_DUMPED, the file's mode, and its ELF structure: an ET_CORE header,
// a PT_NOTE with the process status, info and signal, and PT_LOAD
// segments holding the memory (a marker written before the crash is found
// at its address).
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile uint64_t marker;

static int die(int sig, rlim_t core_limit, int undumpable) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        struct rlimit rl = {core_limit, core_limit};
        setrlimit(RLIMIT_CORE, &rl);
        if (undumpable) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        marker = 0x6b65656c636f7265ull;
        signal(sig, SIG_DFL);
        raise(sig);
        _exit(99);
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, p, &si, WEXITED | WNOWAIT);
    int st;
    waitpid(p, &st, 0);
    printf("signal %d limit %ld%s: killed by %d, core bit %d, si_code %d, core file %d\n", sig, (long)core_limit,
           undumpable ? " undumpable" : "", WIFSIGNALED(st) ? WTERMSIG(st) : -1, WCOREDUMP(st) ? 1 : 0, si.si_code,
           access("core", F_OK) == 0);
    return p;
}

static void check_core(pid_t pid, int sig) {
    int fd = open("core", O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    printf("core mode %04o regular %d\n", st.st_mode & 07777, S_ISREG(st.st_mode));
    char *buf = malloc(st.st_size);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, st.st_size - got);
        if (n <= 0) break;
        got += n;
    }
    close(fd);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    printf("magic %d class %d data %d type %d machine %d phentsize %d\n", memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0,
           eh->e_ident[EI_CLASS], eh->e_ident[EI_DATA], eh->e_type, eh->e_machine, eh->e_phentsize);
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff);
    int loads = 0, marker_found = 0, notes = 0, prstatus_ok = 0, siginfo_ok = 0, psinfo_ok = 0, in_file = 1;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_offset + ph[i].p_filesz > (uint64_t)st.st_size) in_file = 0;
        if (ph[i].p_type == PT_LOAD) {
            loads++;
            uint64_t at = (uint64_t)(uintptr_t)&marker;
            if (at >= ph[i].p_vaddr && at + 8 <= ph[i].p_vaddr + ph[i].p_filesz)
                marker_found = *(uint64_t *)(buf + ph[i].p_offset + (at - ph[i].p_vaddr)) == 0x6b65656c636f7265ull;
        }
        if (ph[i].p_type != PT_NOTE) continue;
        notes++;
        size_t off = ph[i].p_offset, end = off + ph[i].p_filesz;
        while (off + sizeof(Elf64_Nhdr) <= end) {
            Elf64_Nhdr *nh = (Elf64_Nhdr *)(buf + off);
            char *name = buf + off + sizeof *nh;
            char *desc = name + ((nh->n_namesz + 3) & ~3u);
            if (nh->n_type == NT_PRSTATUS && strcmp(name, "CORE") == 0) {
                // pr_cursig at 12, pr_pid at 32, the registers at 112
                prstatus_ok = *(int16_t *)(desc + 12) == sig && *(int32_t *)(desc + 32) == pid && nh->n_descsz == 336;
            }
            if (nh->n_type == NT_PRPSINFO) {
                psinfo_ok = *(int32_t *)(desc + 24) == pid;
                printf("psinfo fname [%.16s] psargs [%.80s]\n", desc + 40, desc + 56);
            }
            if (nh->n_type == NT_SIGINFO) siginfo_ok = ((siginfo_t *)desc)->si_signo == sig;
            off = desc - buf + ((nh->n_descsz + 3) & ~3u);
        }
    }
    printf("first phdr is a note %d, notes %d, loads>0 %d, segments inside file %d\n", ph[0].p_type == PT_NOTE, notes,
           loads > 0, in_file);
    printf("prstatus %d psinfo %d siginfo %d marker %d\n", prstatus_ok, psinfo_ok, siginfo_ok, marker_found);
    free(buf);
}

int main(int argc, char **argv) {
    // Re-run with a second argument, for the command line in the core.
    if (argc < 2) execl("/init", "/init", "core-test", (char *)NULL);
    (void)argv;
    umask(022);
    chdir("/");
    unlink("core");
    die(SIGQUIT, 0, 0);
    die(SIGQUIT, 1000, 0);
    die(SIGTERM, RLIM_INFINITY, 0);
    die(SIGKILL, RLIM_INFINITY, 0);
    die(SIGQUIT, RLIM_INFINITY, 1);
    pid_t p = die(SIGSEGV, RLIM_INFINITY, 0);
    check_core(p, SIGSEGV);
    // An old core is replaced, not appended to.
    int fd = open("core", O_WRONLY | O_APPEND);
    write(fd, "junk", 4);
    close(fd);
    p = die(SIGABRT, RLIM_INFINITY, 0);
    check_core(p, SIGABRT);
    return 0;
}
