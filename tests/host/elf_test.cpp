// kernel/exec/elf: ELF validation with Linux's errno values, the load plan,
// and (where the host lets a test trace a child) the same images run through
// the host's own execve to confirm each errno.
#include <gtest/gtest.h>

#include <asm-generic/mman-common.h>
#include <fcntl.h>
#include <linux/auxvec.h>
#include <linux/elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "kernel/exec/elf.h"

using namespace keel;
using namespace keel::exec;

namespace {

using Bytes = std::vector<u8>;

Elf64_Phdr seg(u32 type, u32 flags, u64 offset, u64 vaddr, u64 filesz, u64 memsz, u64 align = 0x1000) {
    Elf64_Phdr p{};
    p.p_type = type;
    p.p_flags = flags;
    p.p_offset = offset;
    p.p_vaddr = p.p_paddr = vaddr;
    p.p_filesz = filesz;
    p.p_memsz = memsz;
    p.p_align = align;
    return p;
}

// A synthetic ELF file: header, program headers at phoff, and any extra
// bytes at given offsets; everything past `size` is cut off.
struct Image {
    Elf64_Ehdr eh{};
    std::vector<Elf64_Phdr> ph;
    std::vector<std::pair<u64, std::string>> blobs;
    usize size = 0x4000;
    int phnum = -1;  // >= 0 overrides ph.size()

    Image() {
        std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = ELFCLASS64;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        eh.e_ident[EI_VERSION] = EV_CURRENT;
        eh.e_type = ET_EXEC;
        eh.e_machine = EM_X86_64;
        eh.e_version = EV_CURRENT;
        eh.e_entry = 0x401000;
        eh.e_phoff = sizeof(Elf64_Ehdr);
        eh.e_ehsize = sizeof(Elf64_Ehdr);
        eh.e_phentsize = sizeof(Elf64_Phdr);
    }

    Bytes bytes() const {
        Bytes b(size);
        auto put = [&](u64 off, const void* p, usize n) {
            for (usize i = 0; i < n && off + i < b.size(); ++i) b[off + i] = static_cast<const u8*>(p)[i];
        };
        Elf64_Ehdr h = eh;
        h.e_phnum = static_cast<u16>(phnum >= 0 ? phnum : static_cast<int>(ph.size()));
        put(0, &h, sizeof h);
        for (usize i = 0; i < ph.size(); ++i) put(eh.e_phoff + i * sizeof(Elf64_Phdr), &ph[i], sizeof ph[i]);
        for (const auto& [off, s] : blobs) put(off, s.data(), s.size());
        return b;
    }
};

// A classic static ET_EXEC: text with the headers, then data + bss whose
// file part ends inside a page.
Image exec_image() {
    Image im;
    im.ph.push_back(seg(PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x1234, 0x1234));
    im.ph.push_back(seg(PT_LOAD, PF_R | PF_W, 0x2010, 0x403010, 0x100, 0x3000));
    im.ph.push_back(seg(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16));
    return im;
}

// An ET_DYN linked at 0 (a static PIE, or a PIE when given an interpreter).
Image dyn_image(const std::string& interp = "") {
    Image im;
    im.eh.e_type = ET_DYN;
    im.eh.e_entry = 0x1100;
    im.ph.push_back(seg(PT_PHDR, PF_R, 64, 64, 5 * 56, 5 * 56, 8));
    if (!interp.empty()) {
        im.ph.push_back(seg(PT_INTERP, PF_R, 0x300, 0x300, interp.size() + 1, interp.size() + 1, 1));
        im.blobs.push_back({0x300, interp + '\0'});
    }
    im.ph.push_back(seg(PT_LOAD, PF_R | PF_X, 0, 0, 0x1800, 0x1800));
    im.ph.push_back(seg(PT_LOAD, PF_R | PF_W, 0x1800, 0x2800, 0x100, 0x900));
    im.ph.push_back(seg(PT_TLS, PF_R, 0x1800, 0x2800, 0x10, 0x40, 64));
    return im;
}

int parse_errno(const Image& im, ElfRole role = ElfRole::kProgram) {
    Bytes b = im.bytes();
    auto r = elf_parse(b.data(), b.size(), role);
    return r.is_ok() ? 0 : r.error().code();
}

// A free area where a static PIE or an interpreter would go.
constexpr u64 kMmapArea = 0x7ffff7000000;

u64 default_bias(const ElfInfo& info, ElfRole role) {
    if (info.type != ET_DYN) return 0;
    if (role == ElfRole::kProgram && info.has_interp) return elf_load_bias(info, kElfEtDynBase);
    return elf_bias_for_area(info, kMmapArea - align_up(info.map_size, kElfPageSize));
}

// Parse, then plan at the bias Linux would use without randomization.
int load_errno(const Image& im, ElfRole role = ElfRole::kProgram) {
    Bytes b = im.bytes();
    auto r = elf_parse(b.data(), b.size(), role);
    if (r.is_error()) return r.error().code();
    auto plan = elf_plan(r.value(), default_bias(r.value(), role), role);
    return plan.is_ok() ? 0 : plan.error().code();
}

std::vector<LoadSegment> segments(const ElfInfo& info, u64 bias) {
    std::vector<LoadSegment> out;
    for (LoadSegment s : elf_segments(info, bias)) out.push_back(s);
    return out;
}

Bytes read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
}

std::vector<std::pair<u64, u64>> self_auxv() {
    Bytes raw = read_file("/proc/self/auxv");
    std::vector<std::pair<u64, u64>> out;
    for (usize i = 0; i + 16 <= raw.size(); i += 16) {
        u64 kv[2];
        std::memcpy(kv, raw.data() + i, 16);
        out.push_back({kv[0], kv[1]});
    }
    return out;
}

u64 auxv_value(u64 type) {
    for (auto [k, v] : self_auxv())
        if (k == type) return v;
    return 0;
}

}  // namespace

TEST(ElfParse, ValidExecutable) {
    Bytes b = exec_image().bytes();
    auto r = elf_parse(b.data(), b.size());
    ASSERT_TRUE(r.is_ok()) << r.error().code();
    const ElfInfo& info = r.value();
    EXPECT_EQ(info.type, ET_EXEC);
    EXPECT_EQ(info.entry, 0x401000u);
    EXPECT_EQ(info.phnum, 3u);
    EXPECT_EQ(info.load_count, 2u);
    EXPECT_FALSE(info.has_interp);
    EXPECT_TRUE(info.has_gnu_stack);
    EXPECT_FALSE(info.executable_stack);
    EXPECT_EQ(info.first_vaddr, 0x400000u);
    EXPECT_EQ(info.map_size, 0x7000u);
    EXPECT_EQ(info.max_align, 0x1000u);
    EXPECT_EQ(info.phdr_vaddr, 0x400040u);  // the text segment holds the headers
    EXPECT_EQ(elf_load_bias(info, kElfEtDynBase), 0u);
    EXPECT_EQ(elf_bias_for_area(info, kMmapArea), 0u);
}

TEST(ElfParse, LoadPlanWithBssInAPartialPage) {
    Bytes b = exec_image().bytes();
    ElfInfo info = elf_parse(b.data(), b.size()).release_value();
    LoadPlan plan = elf_plan(info, 0).release_value();
    EXPECT_EQ(plan.entry, 0x401000u);
    EXPECT_EQ(plan.phdr_addr, 0x400040u);
    EXPECT_EQ(plan.start, 0x400000u);
    EXPECT_EQ(plan.end, 0x407000u);
    EXPECT_EQ(plan.brk, 0x407000u);  // 0x403010 + 0x3000, page-aligned up
    EXPECT_EQ(plan.start_code, 0x400000u);
    EXPECT_EQ(plan.end_code, 0x401234u);
    EXPECT_EQ(plan.start_data, 0x403010u);
    EXPECT_EQ(plan.end_data, 0x403110u);

    auto s = segments(info, 0);
    ASSERT_EQ(s.size(), 2u);
    // Text: file pages only, no bss, so nothing is zeroed.
    EXPECT_EQ(s[0].start, 0x400000u);
    EXPECT_EQ(s[0].file_end, 0x402000u);
    EXPECT_EQ(s[0].end, 0x402000u);
    EXPECT_EQ(s[0].file_offset, 0u);
    EXPECT_EQ(s[0].zero_start, s[0].file_end);
    EXPECT_EQ(s[0].prot, u32{PROT_READ | PROT_EXEC});
    // Data: one file page whose tail after 0x403110 is zeroed, then
    // anonymous read-write pages up to the end of bss.
    EXPECT_EQ(s[1].start, 0x403000u);
    EXPECT_EQ(s[1].file_offset, 0x2000u);
    EXPECT_EQ(s[1].file_end, 0x404000u);
    EXPECT_EQ(s[1].zero_start, 0x403110u);
    EXPECT_EQ(s[1].end, 0x407000u);
    EXPECT_EQ(s[1].prot, u32{PROT_READ | PROT_WRITE});
    EXPECT_EQ(s[1].anon_prot, u32{PROT_READ | PROT_WRITE});
}

TEST(ElfParse, BssOnlyAndReadOnlyTails) {
    Image im;
    im.ph = {seg(PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x800, 0x800),
             // Read-only with a tail: Linux maps the tail read-write anyway.
             seg(PT_LOAD, PF_R, 0x1000, 0x401000, 0x10, 0x2000),
             // No file bytes at all, and an offset that need not match.
             seg(PT_LOAD, PF_R | PF_W | PF_X, 0x123, 0x500000, 0, 0x1800),
             // Empty: never mapped, but it still counts for brk.
             seg(PT_LOAD, PF_R, 0, 0x600000, 0, 0)};
    Bytes b = im.bytes();
    auto r = elf_parse(b.data(), b.size());
    ASSERT_TRUE(r.is_ok()) << r.error().code();
    auto s = segments(r.value(), 0);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[1].zero_start, 0x401010u);
    EXPECT_EQ(s[1].file_end, 0x402000u);
    EXPECT_EQ(s[1].end, 0x403000u);
    EXPECT_EQ(s[1].prot, u32{PROT_READ});
    EXPECT_EQ(s[1].anon_prot, u32{PROT_READ | PROT_WRITE});
    EXPECT_EQ(s[2].start, 0x500000u);
    EXPECT_EQ(s[2].file_end, 0x500000u);
    EXPECT_EQ(s[2].zero_start, 0x500000u);
    EXPECT_EQ(s[2].end, 0x502000u);
    EXPECT_EQ(s[2].anon_prot, u32{PROT_READ | PROT_WRITE | PROT_EXEC});
    LoadPlan plan = elf_plan(r.value(), 0).release_value();
    EXPECT_EQ(plan.end, 0x502000u);
    EXPECT_EQ(plan.brk, 0x600000u);
    EXPECT_EQ(plan.start_data, 0x600000u);  // Linux: the highest p_vaddr
}

TEST(ElfParse, SegmentsMaySharePages) {
    // Without -z separate-code, data starts in the page where text ends.
    Image im;
    im.ph = {seg(PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x1234, 0x1234),
             seg(PT_LOAD, PF_R | PF_W, 0x1e10, 0x401e10, 0x100, 0x200)};
    Bytes b = im.bytes();
    ElfInfo info = elf_parse(b.data(), b.size()).release_value();
    auto s = segments(info, 0);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].end, 0x402000u);
    EXPECT_EQ(s[1].start, 0x401000u);  // the later mapping replaces the shared page
    EXPECT_EQ(s[1].file_offset, 0x1000u);
}

TEST(ElfParse, StaticPie) {
    Bytes b = dyn_image().bytes();
    auto r = elf_parse(b.data(), b.size());
    ASSERT_TRUE(r.is_ok()) << r.error().code();
    const ElfInfo& info = r.value();
    EXPECT_EQ(info.type, ET_DYN);
    EXPECT_FALSE(info.has_interp);
    EXPECT_TRUE(info.has_pt_phdr);
    EXPECT_EQ(info.pt_phdr_vaddr, 64u);
    EXPECT_TRUE(info.has_tls);
    EXPECT_EQ(info.tls_memsz, 0x40u);
    EXPECT_EQ(info.tls_align, 64u);
    EXPECT_FALSE(info.has_gnu_stack);
    EXPECT_EQ(info.map_size, 0x4000u);
    EXPECT_EQ(elf_load_bias(info, kElfEtDynBase), 0x555555554000u);

    u64 bias = elf_bias_for_area(info, 0x7ffff7ff0000);
    EXPECT_EQ(bias, 0x7ffff7ff0000u);
    LoadPlan plan = elf_plan(info, bias).release_value();
    EXPECT_EQ(plan.entry, 0x7ffff7ff1100u);
    EXPECT_EQ(plan.phdr_addr, 0x7ffff7ff0040u);
    EXPECT_EQ(plan.start, 0x7ffff7ff0000u);
    EXPECT_EQ(plan.end, 0x7ffff7ff4000u);
    EXPECT_EQ(plan.brk, 0x7ffff7ff4000u);
    auto s = segments(info, bias);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[1].start, 0x7ffff7ff2000u);
    EXPECT_EQ(s[1].file_offset, 0x1000u);
    EXPECT_EQ(s[1].zero_start, 0x7ffff7ff2900u);
    // Placed so that it would reach past the user address range.
    EXPECT_EQ(elf_plan(info, elf_bias_for_area(info, 0x7ffffffff000 - 0x3000)).error().code(), ENOMEM);
}

TEST(ElfParse, PieBiasFollowsLinux) {
    Image im = dyn_image("/lib64/ld-linux-x86-64.so.2");
    Bytes b = im.bytes();
    ElfInfo info = elf_parse(b.data(), b.size()).release_value();
    EXPECT_TRUE(info.has_interp);
    EXPECT_TRUE(info.complete);
    EXPECT_EQ(std::string(info.interp.data(), info.interp.size()), "/lib64/ld-linux-x86-64.so.2");
    EXPECT_EQ(elf_load_bias(info, kElfEtDynBase), 0x555555554000u);
    // A 2 MiB p_align aligns the base down.
    im.ph[2].p_align = 0x200000;
    b = im.bytes();
    info = elf_parse(b.data(), b.size()).release_value();
    EXPECT_EQ(info.max_align, 0x200000u);
    EXPECT_EQ(elf_load_bias(info, kElfEtDynBase), 0x555555400000u);
    // Alignments that are not powers of two are ignored, small ones
    // round up to a page.
    im.ph[2].p_align = 0x3000;
    im.ph[3].p_align = 8;
    b = im.bytes();
    info = elf_parse(b.data(), b.size()).release_value();
    EXPECT_EQ(info.max_align, 0x1000u);
    // A first segment that does not start at 0 is moved down by its page.
    im = dyn_image("/x");
    im.ph[2] = seg(PT_LOAD, PF_R | PF_X, 0, 0x10000, 0x1800, 0x1800);
    im.ph[3] = seg(PT_LOAD, PF_R | PF_W, 0x1800, 0x12800, 0x100, 0x900);
    b = im.bytes();
    info = elf_parse(b.data(), b.size()).release_value();
    u64 bias = elf_load_bias(info, kElfEtDynBase);
    EXPECT_EQ(bias, 0x555555544000u);
    EXPECT_EQ(segments(info, bias)[0].start, 0x555555554000u);
    EXPECT_EQ(elf_bias_for_area(info, 0x7ffff7000000), 0x7ffff7000000u - 0x10000);
}

TEST(ElfParse, AtPhdrFollowsTheSegmentHoldingTheHeaders) {
    // patchelf may move the table to the end of the file, into a segment
    // of its own; PT_PHDR is not what Linux uses.
    Image im;
    im.eh.e_phoff = 0x3000;
    im.ph = {seg(PT_PHDR, PF_R, 0x3000, 0x123000, 3 * 56, 3 * 56, 8),
             seg(PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x1000, 0x1000),
             seg(PT_LOAD, PF_R, 0x3000, 0x600000, 0x1000, 0x1000)};
    Bytes b = im.bytes();
    ElfInfo info = elf_parse(b.data(), b.size()).release_value();
    EXPECT_EQ(info.phdr_vaddr, 0x600000u);
    EXPECT_EQ(info.pt_phdr_vaddr, 0x123000u);
    // No segment holds the table: Linux passes 0 + bias.
    im.ph[2].p_offset = 0x2000;
    im.ph[2].p_vaddr = 0x602000;
    b = im.bytes();
    info = elf_parse(b.data(), b.size()).release_value();
    EXPECT_EQ(info.phdr_vaddr, 0u);
}

TEST(ElfParse, HeadersSizeAndSeparateTable) {
    Image im = exec_image();
    im.eh.e_phoff = 0x3000;
    im.ph[1].p_filesz = 0x1100;  // so that the data segment holds the table
    Bytes b = im.bytes();
    EXPECT_EQ(elf_headers_size(b.data(), 64).value(), 0x3000u + 3 * 56);
    PhdrTable t = elf_phdr_table(b.data(), 64).release_value();
    EXPECT_EQ(t.offset, 0x3000u);
    EXPECT_EQ(t.size, 3u * 56);
    // The kernel read one page, then the table on its own.
    Bytes table(b.begin() + 0x3000, b.begin() + 0x3000 + t.size);
    ElfImage image{b.data(), 0x1000, b.size(), table.data(), nullptr};
    auto r = elf_parse(image);
    ASSERT_TRUE(r.is_ok()) << r.error().code();
    EXPECT_EQ(r.value().phdr_vaddr, 0x403010u + 0x3000 - 0x2010);
    // Short files read as zero-filled: the header is still checked.
    EXPECT_EQ(elf_headers_size(b.data(), 20).error().code(), ENOEXEC);
    EXPECT_EQ(elf_headers_size(b.data(), 0).error().code(), ENOEXEC);
}

TEST(ElfParse, InterpreterOutsideTheBuffer) {
    Image im = dyn_image("/lib/ld.so");
    im.ph[1].p_offset = 0x3800;
    im.blobs = {{0x3800, std::string("/lib/ld.so") + '\0'}};
    // A segment fault that Linux would only find after the path.
    im.ph[3].p_filesz = 0x1000;
    Bytes b = im.bytes();
    ElfImage image{b.data(), 0x1000, b.size(), nullptr, nullptr};
    ElfInfo info = elf_parse(image).release_value();
    EXPECT_FALSE(info.complete);
    EXPECT_TRUE(info.has_interp);
    EXPECT_EQ(info.interp_offset, 0x3800u);
    EXPECT_EQ(info.interp_size, 11u);
    // The kernel reads the path and parses again.
    image.interp = b.data() + info.interp_offset;
    EXPECT_EQ(elf_parse(image).error().code(), EINVAL);
    im.ph[3].p_filesz = 0x100;
    b = im.bytes();
    image = {b.data(), 0x1000, b.size(), nullptr, b.data() + 0x3800};
    info = elf_parse(image).release_value();
    EXPECT_TRUE(info.complete);
    EXPECT_EQ(std::string(info.interp.data(), info.interp.size()), "/lib/ld.so");
    // A bad path wins over the bad segment, as in Linux.
    im.ph[3].p_filesz = 0x1000;
    im.blobs = {{0x3800, "/lib/ld.so!"}};
    b = im.bytes();
    image = {b.data(), 0x1000, b.size(), nullptr, b.data() + 0x3800};
    EXPECT_EQ(elf_parse(image).error().code(), ENOEXEC);
}

TEST(ElfParse, InterpreterPathChecks) {
    auto with_interp = [](u64 offset, u64 size, const std::string& bytes) {
        Image im = dyn_image();
        im.ph.insert(im.ph.begin() + 1, seg(PT_INTERP, PF_R, offset, offset, size, size, 1));
        im.blobs.push_back({offset, bytes});
        return im;
    };
    EXPECT_EQ(parse_errno(with_interp(0x300, 5, std::string("/a/b") + '\0')), 0);
    EXPECT_EQ(parse_errno(with_interp(0x300, 4, "/a/b")), ENOEXEC);           // not NUL-terminated
    EXPECT_EQ(parse_errno(with_interp(0x300, 1, std::string(1, '\0'))), ENOEXEC);  // too short
    EXPECT_EQ(parse_errno(with_interp(0x300, 4097, "")), ENOEXEC);            // longer than PATH_MAX
    EXPECT_EQ(parse_errno(with_interp(0x3ffc, 8, "")), EIO);                  // runs past the end of the file
    EXPECT_EQ(parse_errno(with_interp(~u64{0} - 2, 8, "")), EIO);             // offset + size wraps
    // A NUL inside ends the path, as for any C string.
    Image im = with_interp(0x300, 6, std::string("/a\0b", 4) + '\0');
    Bytes b = im.bytes();
    ElfInfo info = elf_parse(b.data(), b.size()).release_value();
    EXPECT_TRUE(info.complete);
    EXPECT_EQ(std::string(info.interp.data(), info.interp.size()), "/a");
    // The interpreter's own PT_INTERP is not looked at; a second one in the
    // program is not either.
    EXPECT_EQ(parse_errno(with_interp(0x300, 4, "/a/b"), ElfRole::kInterpreter), 0);
    im = with_interp(0x300, 5, std::string("/a/b") + '\0');
    im.ph.insert(im.ph.begin() + 2, seg(PT_INTERP, PF_R, 0x300, 0x300, 4, 4, 1));
    EXPECT_EQ(parse_errno(im), 0);
}

TEST(ElfParse, GnuStack) {
    Image im = exec_image();
    im.ph[2].p_flags = PF_R | PF_W | PF_X;
    Bytes b = im.bytes();
    EXPECT_TRUE(elf_parse(b.data(), b.size()).value().executable_stack);
    im.ph.push_back(seg(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0));  // the last one decides
    b = im.bytes();
    EXPECT_FALSE(elf_parse(b.data(), b.size()).value().executable_stack);
}

TEST(ElfParse, HeaderRejections) {
    struct Case {
        const char* what;
        void (*mutate)(Image&);
        int program, interpreter;
    };
    const Case cases[] = {
        {"bad magic", [](Image& im) { im.eh.e_ident[1] = 'X'; }, ENOEXEC, ELIBBAD},
        {"32-bit class", [](Image& im) { im.eh.e_ident[EI_CLASS] = ELFCLASS32; }, ENOEXEC, ELIBBAD},
        {"big endian", [](Image& im) { im.eh.e_ident[EI_DATA] = ELFDATA2MSB; }, ENOEXEC, ELIBBAD},
        {"ident version", [](Image& im) { im.eh.e_ident[EI_VERSION] = 0; }, ENOEXEC, ELIBBAD},
        {"i386", [](Image& im) { im.eh.e_machine = EM_386; }, ENOEXEC, ELIBBAD},
        {"ET_REL", [](Image& im) { im.eh.e_type = ET_REL; }, ENOEXEC, EINVAL},
        {"ET_CORE", [](Image& im) { im.eh.e_type = ET_CORE; }, ENOEXEC, EINVAL},
        {"phentsize", [](Image& im) { im.eh.e_phentsize = 32; }, ENOEXEC, ELIBBAD},
        {"no phdrs", [](Image& im) { im.phnum = 0; }, ENOEXEC, ELIBBAD},
        {"74 phdrs", [](Image& im) { im.phnum = 74; }, ENOEXEC, ELIBBAD},
        {"PN_XNUM", [](Image& im) { im.phnum = 0xffff; }, ENOEXEC, ELIBBAD},
        {"phdrs past EOF", [](Image& im) { im.eh.e_phoff = 0x4000 - 100; }, ENOEXEC, ELIBBAD},
        {"phoff wraps", [](Image& im) { im.eh.e_phoff = ~u64{0} - 8; }, ENOEXEC, ELIBBAD},
        {"truncated file", [](Image& im) { im.size = 64 + 2 * 56; }, ENOEXEC, ELIBBAD},
        {"truncated header", [](Image& im) { im.size = 40; }, ENOEXEC, ELIBBAD},
        {"empty file", [](Image& im) { im.size = 0; }, ENOEXEC, ELIBBAD},
    };
    for (const Case& c : cases) {
        Image im = exec_image();
        c.mutate(im);
        EXPECT_EQ(parse_errno(im), c.program) << c.what;
        EXPECT_EQ(parse_errno(im, ElfRole::kInterpreter), c.interpreter) << c.what;
    }
    // 73 entries (one page) are fine.
    Image im = exec_image();
    im.ph.resize(73, seg(PT_NULL, 0, 0, 0, 0, 0));
    EXPECT_EQ(parse_errno(im), 0);
}

TEST(ElfParse, SegmentRejections) {
    struct Case {
        const char* what;
        bool dyn;
        Elf64_Phdr data;  // replaces the data segment
        int program, interpreter;
    };
    const u64 top = kUserAddressEnd;
    const Case cases[] = {
        {"filesz > memsz", false, seg(PT_LOAD, PF_R, 0x2000, 0x403000, 0x200, 0x100), EINVAL, ENOMEM},
        {"filesz > memsz, dyn", true, seg(PT_LOAD, PF_R, 0x2000, 0x3000, 0x200, 0x100), EINVAL, ENOMEM},
        {"misaligned offset", false, seg(PT_LOAD, PF_R, 0x2010, 0x403020, 0x100, 0x100), EINVAL, EINVAL},
        {"offset + filesz wraps", false, seg(PT_LOAD, PF_R, ~u64{0xfff}, 0x403000, 0x2000, 0x2000), EINVAL, EINVAL},
        {"beyond the user range", false, seg(PT_LOAD, PF_R, 0x2000, top, 0x100, 0x100), ENOMEM, ENOMEM},
        {"ends past the user range", false, seg(PT_LOAD, PF_R, 0x2000, top - 0x1000, 0x100, 0x2000), ENOMEM, ENOMEM},
        {"vaddr + memsz wraps", false, seg(PT_LOAD, PF_R, 0x2000, 0x403000, 0x100, ~u64{0}), ENOMEM, ENOMEM},
        {"ends in the last page", false, seg(PT_LOAD, PF_R, 0x2000, 0x403000, 0x100, ~u64{0} - 0x403100), ENOMEM, ENOMEM},
        // An ET_DYN is mapped (ENOMEM) before Linux checks its addresses.
        {"dyn beyond the user range", true, seg(PT_LOAD, PF_R, 0x2000, top, 0x100, 0x100), ENOMEM, ENOMEM},
        {"dyn memsz wraps", true, seg(PT_LOAD, PF_R, 0x2000, 0x3000, 0x100, ~u64{0} - 0x1000), ENOMEM, ENOMEM},
        {"dyn extent too large", true, seg(PT_LOAD, PF_R, 0x2000, top - 0x1000, 0x100, 0x100), ENOMEM, ENOMEM},
        {"overlapping", false, seg(PT_LOAD, PF_R, 0x1000, 0x401000, 0x100, 0x100), ENOEXEC, ELIBBAD},
        {"unsorted", false, seg(PT_LOAD, PF_R, 0x2000, 0x300000, 0x100, 0x100), ENOEXEC, ELIBBAD},
    };
    for (const Case& c : cases) {
        Image im = c.dyn ? dyn_image() : exec_image();
        im.ph[c.dyn ? 2 : 1] = c.data;
        if (c.dyn) im.ph[1] = seg(PT_LOAD, PF_R | PF_X, 0, 0, 0x1800, 0x1800);
        EXPECT_EQ(load_errno(im), c.program) << c.what;
        EXPECT_EQ(load_errno(im, ElfRole::kInterpreter), c.interpreter) << c.what;
    }
    // A misaligned offset does not matter when nothing comes from the file.
    Image im = exec_image();
    im.ph[1] = seg(PT_LOAD, PF_R | PF_W, 0x2010, 0x403020, 0, 0x100);
    EXPECT_EQ(load_errno(im), 0);
}

TEST(ElfParse, EntryAndExtentRejections) {
    Image im = exec_image();
    im.eh.e_entry = kUserAddressEnd;
    EXPECT_EQ(load_errno(im), EINVAL);
    EXPECT_EQ(load_errno(im, ElfRole::kInterpreter), EINVAL);
    // With an interpreter Linux jumps there, not to e_entry.
    im.ph.push_back(seg(PT_INTERP, PF_R, 0x300, 0x300, 3, 3, 1));
    im.blobs.push_back({0x300, std::string("/x") + '\0'});
    EXPECT_EQ(load_errno(im), 0);

    // Without a PT_LOAD, Linux never computes an ET_DYN program's extent
    // (nor its bias), but it does check the interpreter's.
    im = dyn_image();
    im.ph = {seg(PT_NOTE, PF_R, 0x300, 0x300, 4, 4)};
    EXPECT_EQ(load_errno(im), 0);
    EXPECT_EQ(load_errno(im, ElfRole::kInterpreter), EINVAL);
    Bytes b = im.bytes();
    ElfInfo info = elf_parse(b.data(), b.size()).release_value();
    EXPECT_EQ(elf_load_bias(info, kElfEtDynBase), 0u);
    EXPECT_EQ(segments(info, 0).size(), 0u);
    // A PT_LOAD with an empty extent is refused in both.
    im.ph.push_back(seg(PT_LOAD, PF_R, 0, 0x2000, 0, 0));
    EXPECT_EQ(load_errno(im), EINVAL);
    EXPECT_EQ(load_errno(im, ElfRole::kInterpreter), EINVAL);
    im.eh.e_type = ET_EXEC;
    im.ph = {seg(PT_NOTE, PF_R, 0x300, 0x300, 4, 4)};
    EXPECT_EQ(load_errno(im), 0);
}

TEST(ElfParse, HostTestBinary) {
    // This test program itself: a dynamic PIE built by the host toolchain.
    Bytes b = read_file("/proc/self/exe");
    ASSERT_GT(b.size(), 4096u);
    EXPECT_LE(elf_headers_size(b.data(), 4096).value(), 4096u);
    auto r = elf_parse(b.data(), b.size());
    ASSERT_TRUE(r.is_ok()) << r.error().code();
    const ElfInfo& info = r.value();
    ASSERT_TRUE(info.has_interp);
    EXPECT_TRUE(info.complete);
    std::string interp(info.interp.data(), info.interp.size());
    EXPECT_NE(interp.find("ld-linux-x86-64.so.2"), std::string::npos) << interp;
    EXPECT_GE(info.load_count, 2u);

    // What the host kernel did with it must match the plan at its bias.
    u64 bias = auxv_value(AT_ENTRY) - info.entry;
    EXPECT_EQ(bias % kElfPageSize, 0u);
    if (info.type == ET_EXEC) {
        EXPECT_EQ(bias, 0u);
    }
    auto plan = elf_plan(info, bias);
    ASSERT_TRUE(plan.is_ok()) << plan.error().code();
    EXPECT_EQ(plan.value().phdr_addr, auxv_value(AT_PHDR));
    EXPECT_EQ(auxv_value(AT_PHNUM), info.phnum);

    // Each file-backed range is mapped from /proc/self/exe at our offset
    // (mappings may be split by RELRO, so compare page by page).
    std::string exe(4096, '\0');
    exe.resize(readlink("/proc/self/exe", exe.data(), exe.size()));
    struct Map {
        u64 lo, hi, off;
        std::string perms;
    };
    std::vector<Map> maps;
    std::ifstream f("/proc/self/maps");
    for (std::string line; std::getline(f, line);) {
        std::istringstream in(line);
        std::string range, perms, off, dev, inode, path;
        in >> range >> perms >> off >> dev >> inode >> path;
        if (path != exe) continue;
        usize dash = range.find('-');
        maps.push_back({std::stoull(range.substr(0, dash), nullptr, 16), std::stoull(range.substr(dash + 1), nullptr, 16),
                        std::stoull(off, nullptr, 16), perms});
    }
    for (LoadSegment s : elf_segments(info, bias)) {
        for (u64 page = s.start; page < s.file_end; page += kElfPageSize) {
            auto m = std::find_if(maps.begin(), maps.end(), [&](const Map& mp) { return mp.lo <= page && page < mp.hi; });
            ASSERT_NE(m, maps.end()) << std::hex << page;
            EXPECT_EQ(m->off + (page - m->lo), s.file_offset + (page - s.start)) << std::hex << page;
            if (s.prot & PROT_EXEC) {
                EXPECT_EQ(m->perms, "r-xp");
            }
        }
    }
}

// ---- The same images through the host kernel's execve ----

namespace {

// Runs execve(path) in a traced child and returns what the system call
// returned (0 or an errno), read at its syscall-exit stop: after the point
// of no return Linux kills the process, but the tracer still sees the
// value. -1 when the host does not allow this.
int host_execve(const std::string& path) {
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        raise(SIGSTOP);
        char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
        char* envp[] = {nullptr};
        syscall(SYS_execve, path.c_str(), argv, envp);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) return -1;
    ptrace(PTRACE_SETOPTIONS, pid, nullptr, reinterpret_cast<void*>(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
    int result = -1;
    bool entered = false;
    while (ptrace(PTRACE_SYSCALL, pid, nullptr, nullptr) == 0 && waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
        if (WSTOPSIG(status) != (SIGTRAP | 0x80)) continue;
        user_regs_struct regs{};
        ptrace(PTRACE_GETREGS, pid, nullptr, &regs);
        if (regs.orig_rax != SYS_execve) continue;
        if (entered) {
            result = static_cast<int>(-static_cast<i64>(regs.rax));
            break;
        }
        entered = true;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return result;
}

// Writes the image to an executable temporary file and runs it.
int host_execve(const Image& im) {
    char path[] = "/tmp/keel-elf-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    Bytes b = im.bytes();
    bool ok = write(fd, b.data(), b.size()) == static_cast<ssize_t>(b.size()) && fchmod(fd, 0755) == 0;
    close(fd);  // before exec: a file open for writing is ETXTBSY
    int result = ok ? host_execve(path) : -1;
    unlink(path);
    return result;
}

std::string host_interp() {
    Bytes b = read_file("/proc/self/exe");
    auto r = elf_parse(b.data(), b.size());
    return r.is_ok() ? std::string(r.value().interp.data(), r.value().interp.size()) : "";
}

}  // namespace

TEST(ElfHostExecve, SameErrnoAsTheHostKernel) {
    Image probe = exec_image();
    if (host_execve(probe) != 0) GTEST_SKIP() << "cannot trace execve of a temporary file here";
    std::string ld = host_interp();
    ASSERT_FALSE(ld.empty());

    struct Case {
        const char* what;
        Image im;
    };
    std::vector<Case> cases;
    auto add = [&](const char* what, Image im) { cases.push_back({what, std::move(im)}); };
    add("valid ET_EXEC", exec_image());
    add("static PIE", dyn_image());
    add("PIE", dyn_image(ld));
    {
        Image im = exec_image();
        im.eh.e_ident[1] = 'X';
        add("bad magic", im);
        im = exec_image();
        im.eh.e_machine = EM_386;
        add("i386", im);
        im = exec_image();
        im.eh.e_type = ET_REL;
        add("ET_REL", im);
        im = exec_image();
        im.eh.e_phentsize = 32;
        add("phentsize", im);
        im = exec_image();
        im.phnum = 0;
        add("no phdrs", im);
        im = exec_image();
        im.eh.e_phoff = 0x4000 - 100;
        add("phdrs past EOF", im);
        im = exec_image();
        im.size = 40;
        add("truncated header", im);
        im = exec_image();
        im.eh.e_entry = kUserAddressEnd;
        add("entry beyond the user range", im);
    }
    for (auto [what, data] : {std::pair{"filesz > memsz", seg(PT_LOAD, PF_R, 0x2000, 0x403000, 0x200, 0x100)},
                              {"misaligned offset", seg(PT_LOAD, PF_R, 0x2010, 0x403020, 0x100, 0x100)},
                              {"offset + filesz wraps", seg(PT_LOAD, PF_R, ~u64{0xfff}, 0x403000, 0x2000, 0x2000)},
                              {"beyond the user range", seg(PT_LOAD, PF_R, 0x2000, kUserAddressEnd, 0x100, 0x100)},
                              {"vaddr + memsz wraps", seg(PT_LOAD, PF_R, 0x2000, 0x403000, 0x100, ~u64{0})},
                              {"ends in the last page", seg(PT_LOAD, PF_R, 0x2000, 0x403000, 0x100, ~u64{0} - 0x403100)},
                              {"empty, misaligned", seg(PT_LOAD, PF_R | PF_W, 0x2010, 0x403020, 0, 0x100)}}) {
        Image im = exec_image();
        im.ph[1] = data;
        add(what, im);
    }
    {
        Image im = dyn_image();
        im.ph[2] = seg(PT_LOAD, PF_R, 0x2000, kUserAddressEnd, 0x100, 0x100);
        add("dyn beyond the user range", im);
        im = dyn_image();
        im.ph[2] = seg(PT_LOAD, PF_R, 0x2000, kUserAddressEnd - 0x1000, 0x100, 0x100);
        add("dyn extent too large", im);
        im = dyn_image();
        im.ph = {seg(PT_NOTE, PF_R, 0x300, 0x300, 4, 4)};
        add("dyn without PT_LOAD", im);
        im.ph.push_back(seg(PT_LOAD, PF_R, 0, 0x2000, 0, 0));
        add("dyn with an empty extent", im);
        im = dyn_image();
        im.ph[3] = seg(PT_LOAD, PF_R, 0x2000, 0x3000, 0x100, ~u64{0} - 0x1000);
        add("dyn memsz wraps", im);
        im = dyn_image();
        im.ph[3] = seg(PT_LOAD, PF_R, 0x2000, 0x3000, 0x200, 0x100);
        add("dyn filesz > memsz", im);
        for (auto [what, offset, size, bytes] :
             {std::tuple{"interp not terminated", u64{0x300}, u64{4}, std::string("/a/b")},
              {"interp too short", 0x300, 1, std::string(1, '\0')},
              {"interp too long", 0x300, 4097, std::string()},
              {"interp past EOF", 0x3ffc, 8, std::string()}}) {
            im = dyn_image();
            im.ph.insert(im.ph.begin() + 1, seg(PT_INTERP, PF_R, offset, offset, size, size, 1));
            im.blobs.push_back({offset, bytes});
            add(what, im);
        }
    }
    for (const Case& c : cases) EXPECT_EQ(host_execve(c.im), load_errno(c.im)) << c.what;
}
