#include "difftest.h"
/* Processes: argv, envp and the auxiliary vector as the kernel builds them for a static binary. */
#include <elf.h>
#include <sys/auxv.h>
#include <cpuid.h>

static const char *keyname(unsigned long k) {
    switch (k) {
    case AT_NULL: return "AT_NULL"; case AT_IGNORE: return "AT_IGNORE"; case AT_EXECFD: return "AT_EXECFD";
    case AT_PHDR: return "AT_PHDR"; case AT_PHENT: return "AT_PHENT"; case AT_PHNUM: return "AT_PHNUM";
    case AT_PAGESZ: return "AT_PAGESZ"; case AT_BASE: return "AT_BASE"; case AT_FLAGS: return "AT_FLAGS";
    case AT_ENTRY: return "AT_ENTRY"; case AT_UID: return "AT_UID"; case AT_EUID: return "AT_EUID";
    case AT_GID: return "AT_GID"; case AT_EGID: return "AT_EGID"; case AT_PLATFORM: return "AT_PLATFORM";
    case AT_HWCAP: return "AT_HWCAP"; case AT_CLKTCK: return "AT_CLKTCK"; case AT_SECURE: return "AT_SECURE";
    case AT_BASE_PLATFORM: return "AT_BASE_PLATFORM"; case AT_RANDOM: return "AT_RANDOM";
    case AT_HWCAP2: return "AT_HWCAP2"; case AT_EXECFN: return "AT_EXECFN";
    case AT_SYSINFO_EHDR: return "AT_SYSINFO_EHDR"; case 27: return "AT_RSEQ_FEATURE_SIZE";
    case 28: return "AT_RSEQ_ALIGN"; case 51: return "AT_MINSIGSTKSZ";
    }
    static char b[24];
    snprintf(b, sizeof b, "AT_%lu", k);
    return b;
}

int main(int argc, char **argv, char **envp) {
    setup();
    /* the auxiliary vector follows envp's NULL */
    char **e = envp;
    while (*e) e++;
    Elf64_auxv_t *auxv = (Elf64_auxv_t *)(e + 1);
    CHECK("argc", "%d", argc);
    CHECK("argv0", "%s", argv[0]);
    CHECK("argv_terminated", "%d", argv[argc] == NULL);
    CHECK("envp_follows_argv", "%d", envp == argv + argc + 1);
    int n = 0;
    for (char **p = envp; *p; p++, n++) CHECK("env", "%s", *p);
    CHECK("envc", "%d", n);
    /* set of keys, in numeric order (the order in memory is not part of the ABI) */
    {
        char keys[1024] = "";
        for (unsigned long k = 1; k < 64; k++)
            for (Elf64_auxv_t *a = auxv; a->a_type != AT_NULL; a++)
                if (a->a_type == k) {
                    strcat(keys, keyname(k));
                    strcat(keys, " ");
                    break;
                }
        CHECK("auxv_keys", "%s", keys);
        int dups = 0, count = 0;
        for (Elf64_auxv_t *a = auxv; a->a_type != AT_NULL; a++, count++)
            for (Elf64_auxv_t *b = a + 1; b->a_type != AT_NULL; b++) dups += a->a_type == b->a_type;
        CHECK("auxv_duplicate_keys", "%d", dups);
    }
    CHECK("AT_PAGESZ", "%lu", getauxval(AT_PAGESZ));
    CHECK("AT_PHENT", "%lu", getauxval(AT_PHENT));
    CHECK("AT_SECURE", "%lu", getauxval(AT_SECURE));
    CHECK("AT_UID", "%lu", getauxval(AT_UID));
    CHECK("AT_EUID", "%lu", getauxval(AT_EUID));
    CHECK("AT_GID", "%lu", getauxval(AT_GID));
    CHECK("AT_EGID", "%lu", getauxval(AT_EGID));
    CHECK("AT_CLKTCK", "%lu", getauxval(AT_CLKTCK));
    CHECK("AT_FLAGS", "%lu", getauxval(AT_FLAGS));
    CHECK("AT_BASE_static", "%lu", getauxval(AT_BASE));
    {
        errno = 0;
        unsigned long h2 = getauxval(AT_HWCAP2);
        CHECK("AT_HWCAP2_present", "%d", !(h2 == 0 && errno == ENOENT));
        int found = 0;
        for (Elf64_auxv_t *a = auxv; a->a_type != AT_NULL; a++) found |= a->a_type == AT_HWCAP2;
        CHECK("AT_HWCAP2_in_vector", "%d", found);
        /* bit 1 (FSGSBASE) is set when the kernel enabled FSGSBASE instructions */
        CHECK("AT_HWCAP2_fsgsbase", "%lu", (h2 >> 1) & 1);
    }
    {
        unsigned a, b, c, d;
        __cpuid(1, a, b, c, d);
        unsigned long hw = 0;
        for (Elf64_auxv_t *x = auxv; x->a_type != AT_NULL; x++) if (x->a_type == AT_HWCAP) hw = x->a_un.a_val;
        CHECK("AT_HWCAP_is_cpuid1_edx", "%d", hw == d); /* glibc's getauxval(AT_HWCAP) is its own value */
    }
    {
        const char *plat = (const char *)getauxval(AT_PLATFORM);
        CHECK("AT_PLATFORM", "%s", plat ? plat : "(none)");
        const char *fn = (const char *)getauxval(AT_EXECFN);
        CHECK("AT_EXECFN_is_argv0", "%d", fn && !strcmp(fn, argv[0]));
        const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
        int nz = 0;
        if (rnd) for (int i = 0; i < 16; i++) nz |= rnd[i];
        CHECK("AT_RANDOM_nonzero", "%d", rnd != NULL && nz != 0);
        CHECK("AT_RANDOM_on_stack_above_sp", "%d", rnd && (char *)rnd > (char *)&nz);
        CHECK("AT_EXECFN_above_envp_strings", "%d", fn && (envp[0] == NULL || fn > envp[0]));
    }
    {
        /* AT_PHDR/AT_PHNUM/AT_ENTRY agree with the binary's ELF header */
        extern char __ehdr_start[] __attribute__((weak));
        const Elf64_Ehdr *eh = (const Elf64_Ehdr *)__ehdr_start;
        if (eh) {
            CHECK("AT_PHNUM_matches_ehdr", "%d", getauxval(AT_PHNUM) == eh->e_phnum);
            CHECK("AT_PHDR_matches_ehdr", "%d", getauxval(AT_PHDR) == (unsigned long)__ehdr_start + eh->e_phoff);
            CHECK("AT_ENTRY_matches_ehdr", "%d", getauxval(AT_ENTRY) == eh->e_entry ||
                  getauxval(AT_ENTRY) == (unsigned long)__ehdr_start + eh->e_entry);
        }
        unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
        CHECK("AT_SYSINFO_EHDR_is_elf", "%d", vdso && !memcmp((void *)vdso, ELFMAG, SELFMAG));
        CHECK("AT_SYSINFO_EHDR_page_aligned", "%d", (vdso & 4095) == 0);
        unsigned long mss = getauxval(51);
        CHECK("AT_MINSIGSTKSZ_sane", "%d", mss >= 1024 && mss <= 65536);
    }
    {
        /* initial stack: 16-byte aligned argv area, and strings above the vectors */
        CHECK("argv_strings_above_vectors", "%d", (char *)argv[0] > (char *)auxv);
        CHECK("argv_pointer_aligned", "%lu", ((unsigned long)argv) % 8);
    }
    return 0;
}
