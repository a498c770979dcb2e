// libFuzzer target for kernel/exec/elf: any bytes as an executable file.
// Beyond crashes and sanitizer reports it checks that whatever elf_parse
// accepts yields load plans inside the limits they claim (page-aligned,
// below the user address end, file offsets that do not wrap), and that
// parsing from a short first read plus a separately read table agrees with
// parsing the whole file.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernel/exec/elf.h"
#include "tests/fuzz/fuzz_check.h"

KEEL_FUZZ_ASSERT_HANDLER

using namespace keel;
using namespace keel::exec;

namespace {

constexpr u64 kPage = kElfPageSize;

bool aligned(u64 v) { return v % kPage == 0; }

void check_plan(const ElfInfo& info, u64 bias, ElfRole role) {
    auto r = elf_plan(info, bias, role);
    if (r.is_error()) {
        int e = r.error().code();
        CHECK(e == ENOMEM || e == EINVAL);
        return;
    }
    const LoadPlan& plan = r.value();
    CHECK(plan.bias == bias);
    bool jumps_here = role == ElfRole::kInterpreter || !info.has_interp;
    CHECK(!jumps_here || plan.entry < kUserAddressEnd);
    CHECK(aligned(plan.brk));
    CHECK(plan.brk <= kUserAddressEnd);
    usize count = 0;
    u64 prev_end = 0;
    for (LoadSegment s : elf_segments(info, bias)) {
        ++count;
        CHECK(aligned(s.start) && aligned(s.file_end) && aligned(s.end) && aligned(s.file_offset));
        CHECK(s.start < s.end && s.end <= kUserAddressEnd);
        CHECK(s.start <= s.file_end && s.file_end <= s.end);
        CHECK(s.zero_start >= s.start && s.zero_start <= s.file_end);
        CHECK(s.file_end - s.zero_start < kPage || s.zero_start == s.file_end);
        CHECK(s.file_offset <= ~u64{0} - (s.file_end - s.start));
        CHECK((s.prot & ~7u) == 0 && (s.anon_prot & ~7u) == 0);
        CHECK(s.start >= plan.start && s.end <= plan.end);
        CHECK(s.end <= plan.brk);
        // Sorted; at most the boundary page is shared with the previous.
        CHECK(s.start + kPage >= prev_end);
        prev_end = s.end;
    }
    CHECK(count <= info.load_count);
    if (count > 0) CHECK(plan.start < plan.end && plan.end <= kUserAddressEnd && aligned(plan.start));
}

void check_info(const ElfInfo& info, const u8* data, usize size, ElfRole role) {
    CHECK(info.complete);  // the whole file was given
    CHECK(info.type == 2 || info.type == 3);  // ET_EXEC, ET_DYN
    usize table = usize{info.phnum} * kElfPhdrSize;
    CHECK(info.phnum > 0 && table <= kMaxPhdrTableSize);
    CHECK(info.phdrs >= data && info.phdrs + table <= data + size);
    CHECK(info.load_count <= info.phnum);
    CHECK(aligned(info.map_size) && info.map_size <= kUserAddressEnd);
    CHECK(info.max_align == 0 || (aligned(info.max_align) && (info.max_align & (info.max_align - 1)) == 0));
    if (info.has_interp) {
        CHECK(role == ElfRole::kProgram);
        CHECK(info.interp_size >= 2 && info.interp_size <= kMaxInterpSize);
        CHECK(info.interp_offset + info.interp_size <= size);
        CHECK(info.interp.data() == reinterpret_cast<const char*>(data + info.interp_offset));
        CHECK(info.interp.size() < info.interp_size);
    }

    // The biases the kernel would use, plus a few awkward ones.
    const u64 biases[] = {
        elf_load_bias(info, kElfEtDynBase),
        elf_bias_for_area(info, (kUserAddressEnd - info.map_size) & ~(kPage - 1)),
        elf_bias_for_area(info, 0x7ffff7000000),
        elf_bias_for_area(info, kPage),
        elf_bias_for_area(info, 0),
    };
    for (u64 bias : biases) {
        CHECK(aligned(bias));
        if (info.type == 2) CHECK(bias == 0);
        check_plan(info, bias, role);
    }
}

// Parses as the kernel would after reading only the first `head` bytes:
// the table separately if it lies beyond them, the interpreter path too.
// The outcome must be the whole-file parse's, errno included.
void check_split(const u8* data, usize size, usize head, ElfRole role, const Result<ElfInfo>& whole) {
    head = head < size ? head : size;
    auto hs = elf_headers_size(data, head, role);
    if (hs.is_error()) {
        CHECK(whole.is_error() && whole.error() == hs.error());
        return;
    }
    PhdrTable t = elf_phdr_table(data, head, role).release_value();
    CHECK(hs.value() == (t.end() > 64 ? t.end() : 64));
    if (t.end() > size) {  // the kernel's read of the table comes up short
        CHECK(whole.is_error() && whole.error().code() == (role == ElfRole::kProgram ? ENOEXEC : ELIBBAD));
        return;
    }
    std::vector<u8> table(data + t.offset, data + t.end());
    ElfImage image{data, head, size, t.end() <= head ? nullptr : table.data(), nullptr};
    std::vector<u8> interp;
    auto parse_like_the_kernel = [&]() -> Result<ElfInfo> {
        auto first = elf_parse(image, role);
        if (first.is_error() || first.value().complete) return first;
        const ElfInfo& part = first.value();
        CHECK(part.has_interp && part.interp_offset + part.interp_size <= size);
        interp.assign(data + part.interp_offset, data + part.interp_offset + part.interp_size);
        image.interp = interp.data();
        return elf_parse(image, role);
    };
    auto split = parse_like_the_kernel();
    CHECK(split.is_ok() == whole.is_ok());
    if (split.is_error()) {
        CHECK(split.error() == whole.error());
        return;
    }
    const ElfInfo& a = split.value();
    const ElfInfo& b = whole.value();
    CHECK(a.complete);
    CHECK(a.entry == b.entry && a.load_count == b.load_count && a.map_size == b.map_size);
    CHECK(a.phdr_vaddr == b.phdr_vaddr && a.first_vaddr == b.first_vaddr && a.max_align == b.max_align);
    CHECK(a.has_interp == b.has_interp && a.interp_offset == b.interp_offset && a.interp_size == b.interp_size);
    CHECK(a.interp == b.interp);
    CHECK(a.executable_stack == b.executable_stack && a.has_tls == b.has_tls);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A private copy so that ASan flags any read past the end.
    std::vector<u8> file(data, data + size);
    const u8* p = file.data();
    for (ElfRole role : {ElfRole::kProgram, ElfRole::kInterpreter}) {
        auto whole = elf_parse(p, size, role);
        if (whole.is_ok()) check_info(whole.value(), p, size, role);
        for (usize head : {usize{64}, usize{256}, usize{1024}}) check_split(p, size, head, role, whole);
    }
    return 0;
}
