#include "kernel/exec/elf.h"

#include <asm-generic/mman-common.h>
#include <linux/elf.h>

#include "lib/string.h"

namespace keel::exec {

static_assert(sizeof(Elf64_Ehdr) == kElfHeaderSize);
static_assert(sizeof(Elf64_Phdr) == kElfPhdrSize);
static_assert(kElfEtDynBase == 0x555555554aaa);

namespace {

constexpr u64 page_start(u64 v) { return v & ~(kElfPageSize - 1); }
constexpr u64 page_offset(u64 v) { return v & (kElfPageSize - 1); }
// Only for values the checks below keep under kUserAddressEnd (or under
// 2^64 - page for file offsets), so the addition cannot wrap.
constexpr u64 page_end(u64 v) { return page_start(v + kElfPageSize - 1); }

// The buffers are untrusted bytes at any alignment: copy fields out rather
// than casting pointers.
Elf64_Ehdr read_header(const u8* head, usize n) {
    Elf64_Ehdr eh;
    mem_set(&eh, 0, sizeof eh);
    mem_copy(&eh, head, min(n, sizeof eh));
    return eh;
}

Elf64_Phdr read_phdr(const u8* table, usize index) {
    Elf64_Phdr ph;
    mem_copy(&ph, table + index * sizeof ph, sizeof ph);
    return ph;
}

// A file that is not a usable ELF image. For the interpreter Linux checks
// the same things in load_elf_binary() but reports them as ELIBBAD.
Error bad_format(ElfRole role) { return Error(role == ElfRole::kProgram ? ENOEXEC : ELIBBAD); }

bool loadable_type(const Elf64_Ehdr& eh) { return eh.e_type == ET_EXEC || eh.e_type == ET_DYN; }

Result<PhdrTable> check_header(const Elf64_Ehdr& eh, ElfRole role) {
    if (mem_cmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return bad_format(role);
    // The interpreter's type is checked later, after its program headers
    // were read, and with another errno (see elf_parse).
    if (role == ElfRole::kProgram && !loadable_type(eh)) return bad_format(role);
    if (eh.e_machine != EM_X86_64) return bad_format(role);
    // Keel is stricter than Linux here: Linux reads any class, byte order
    // and version byte as if they were ELFCLASS64/LSB/current once
    // e_machine matches. A file that lies about them is malformed anyway.
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_ident[EI_VERSION] != EV_CURRENT)
        return bad_format(role);
    if (eh.e_phentsize != sizeof(Elf64_Phdr)) return bad_format(role);
    usize size = usize{eh.e_phnum} * sizeof(Elf64_Phdr);
    if (size == 0 || size > kMaxPhdrTableSize) return bad_format(role);
    // An end past 2^64 could never be read: a short read is this errno too.
    if (eh.e_phoff > ~u64{0} - size) return bad_format(role);
    return PhdrTable{eh.e_phoff, size};
}

u32 prot_of(u32 p_flags) {
    u32 prot = 0;
    if (p_flags & PF_R) prot |= PROT_READ;
    if (p_flags & PF_W) prot |= PROT_WRITE;
    if (p_flags & PF_X) prot |= PROT_EXEC;
    return prot;
}

// The PT_INTERP string: Linux wants its last byte to be the NUL.
Result<StringView> interp_path(const u8* bytes, usize n) {
    if (bytes[n - 1] != '\0') return Error(ENOEXEC);
    const char* path = reinterpret_cast<const char*>(bytes);
    return StringView(path, str_nlen(path, n));
}

// PT_INTERP of the program. Linux rejects a size outside [2, PATH_MAX] with
// ENOEXEC, and bytes it cannot read with EIO. Leaves info.interp empty when
// the bytes are still to be read.
Status check_interp(const Elf64_Phdr& ph, const ElfImage& image, ElfInfo& info) {
    if (ph.p_filesz > kMaxInterpSize || ph.p_filesz < 2) return Error(ENOEXEC);
    if (ph.p_offset > image.file_size || ph.p_filesz > image.file_size - ph.p_offset) return Error(EIO);
    info.has_interp = true;
    info.interp_offset = ph.p_offset;
    info.interp_size = ph.p_filesz;
    if (ph.p_offset <= image.head_size && ph.p_filesz <= image.head_size - ph.p_offset)
        info.interp = TRY(interp_path(image.head + ph.p_offset, ph.p_filesz));
    else if (image.interp != nullptr)
        info.interp = TRY(interp_path(image.interp, ph.p_filesz));
    else
        info.complete = false;
    return {};
}

// One PT_LOAD, checked in the order Linux maps and then checks it, so the
// first fault found gives Linux's errno. `first_page` is where the first
// PT_LOAD's page lies before the bias.
Status check_load(const Elf64_Phdr& ph, u16 type, u64 first_page, ElfRole role) {
    // mmap of the file part: the offset must share the address's page
    // offset, and offset + length must not wrap (vm_mmap's EINVAL). Linux
    // maps nothing from the file when p_filesz is 0, so then neither holds.
    if (ph.p_filesz > 0) {
        if (page_offset(ph.p_offset) != page_offset(ph.p_vaddr)) return Error(EINVAL);
        if (ph.p_offset > ~u64{0} - ph.p_filesz ||
            ph.p_offset + ph.p_filesz > ~u64{0} - kElfPageSize)
            return Error(EINVAL);
    }
    // The mapping itself (file part, then the anonymous tail) fails with
    // ENOMEM beyond the user address range, before the check below. An
    // ET_EXEC is mapped where it says; an ET_DYN moves as a whole, so what
    // must fit is its extent from the first page (elf_plan checks the
    // actual place once the bias is known).
    if (ph.p_filesz > 0 || ph.p_memsz > 0) {
        u64 len = max(ph.p_filesz, ph.p_memsz);
        // Room for page_end() too: the end is rounded up to a page below.
        if (len > ~u64{0} - kElfPageSize || ph.p_vaddr > ~u64{0} - kElfPageSize - len) return Error(ENOMEM);
        u64 base = type == ET_EXEC ? 0 : first_page;
        // A segment below the first one is left to the ordering check.
        if (ph.p_vaddr >= base && page_end(ph.p_vaddr + len) - base > kUserAddressEnd) return Error(ENOMEM);
    }
    // Linux's check on the unbiased addresses: EINVAL for the program,
    // ENOMEM for the interpreter (where Linux adds the bias first; Keel
    // wants every ET_DYN to fit unbiased, so that a bias only moves it).
    if (ph.p_vaddr >= kUserAddressEnd || ph.p_filesz > ph.p_memsz || ph.p_memsz > kUserAddressEnd ||
        kUserAddressEnd - ph.p_memsz < ph.p_vaddr)
        return Error(role == ElfRole::kProgram ? EINVAL : ENOMEM);
    return {};
}

}  // namespace

Result<PhdrTable> elf_phdr_table(const u8* head, usize n, ElfRole role) {
    return check_header(read_header(head, n), role);
}

Result<u64> elf_headers_size(const u8* head, usize n, ElfRole role) {
    PhdrTable table = TRY(elf_phdr_table(head, n, role));
    return max(table.end(), u64{kElfHeaderSize});
}

Result<ElfInfo> elf_parse(const u8* data, usize size, ElfRole role) {
    return elf_parse(ElfImage{data, size, size, nullptr}, role);
}

Result<ElfInfo> elf_parse(const ElfImage& image, ElfRole role) {
    KASSERT(image.head_size <= image.file_size);
    Elf64_Ehdr eh = read_header(image.head, image.head_size);
    PhdrTable table = TRY(check_header(eh, role));
    if (table.end() > image.file_size) return bad_format(role);
    const u8* phdrs = image.phdrs;
    if (phdrs == nullptr) {
        // The caller was to read the table separately (elf_phdr_table).
        KASSERT_MSG(table.end() <= image.head_size, "elf_parse: program headers not read");
        phdrs = image.head + table.offset;
    }
    // load_elf_interp()'s own type check.
    if (role == ElfRole::kInterpreter && !loadable_type(eh)) return Error(EINVAL);

    ElfInfo info;
    info.complete = true;  // until the interpreter path turns out to be unread
    info.type = eh.e_type;
    info.entry = eh.e_entry;
    info.phoff = eh.e_phoff;
    info.phnum = eh.e_phnum;
    info.phdrs = phdrs;

    // First pass: everything Linux looks at before it maps anything.
    bool seen_interp = false;
    usize first_load = info.phnum, last_load = info.phnum;
    for (usize i = 0; i < info.phnum; ++i) {
        Elf64_Phdr ph = read_phdr(phdrs, i);
        switch (ph.p_type) {
        case PT_LOAD:
            if (first_load == info.phnum) first_load = i;
            last_load = i;
            ++info.load_count;
            // Linux ignores alignments that are not powers of two.
            if (is_pow2(ph.p_align)) info.max_align = max(info.max_align, u64{ph.p_align});
            break;
        case PT_INTERP:
            // Only the program's first PT_INTERP counts; the interpreter's
            // own is ignored.
            if (role == ElfRole::kProgram && !seen_interp) {
                seen_interp = true;
                TRY(check_interp(ph, image, info));
            }
            break;
        case PT_GNU_STACK:
            info.has_gnu_stack = true;
            info.executable_stack = (ph.p_flags & PF_X) != 0;
            break;
        case PT_PHDR:
            if (!info.has_pt_phdr) {
                info.has_pt_phdr = true;
                info.pt_phdr_vaddr = ph.p_vaddr;
            }
            break;
        case PT_TLS:
            if (!info.has_tls) {
                info.has_tls = true;
                info.tls_vaddr = ph.p_vaddr;
                info.tls_filesz = ph.p_filesz;
                info.tls_memsz = ph.p_memsz;
                info.tls_align = ph.p_align;
            }
            break;
        default:
            break;
        }
    }
    if (info.max_align != 0) info.max_align = page_end(info.max_align);
    if (!info.complete) return info;  // the caller reads the path, then calls again

    // An ET_DYN is placed as a whole: Linux refuses one whose extent, from
    // the first PT_LOAD's page to the end of the last PT_LOAD (wrapping as
    // it does), is empty, and its first mmap reserves that extent, which
    // fails when it exceeds the user address range. For the program Linux
    // only looks at the extent on meeting a PT_LOAD, so a program with none
    // passes; the interpreter's is checked up front.
    u64 first_page = 0;
    if (info.load_count > 0) first_page = page_start(read_phdr(phdrs, first_load).p_vaddr);
    if (info.type == ET_DYN && info.load_count == 0 && role == ElfRole::kInterpreter) return Error(EINVAL);
    if (info.type == ET_DYN && info.load_count > 0) {
        Elf64_Phdr last = read_phdr(phdrs, last_load);
        u64 extent = last.p_vaddr + last.p_memsz - first_page;
        if (extent == 0) return Error(EINVAL);
        if (extent > kUserAddressEnd) return Error(ENOMEM);
    }

    // Second pass: the PT_LOAD segments in mapping order.
    u64 prev_end = 0;
    for (usize i = 0; i < info.phnum; ++i) {
        Elf64_Phdr ph = read_phdr(phdrs, i);
        if (ph.p_type != PT_LOAD) continue;
        TRY(check_load(ph, info.type, first_page, role));
        // Keel only: the ELF specification sorts PT_LOAD by address, and
        // overlapping bytes would make the mapping order matter.
        if (ph.p_vaddr < prev_end) return bad_format(role);
        prev_end = ph.p_vaddr + ph.p_memsz;
        // AT_PHDR: Linux takes the segment whose file bytes hold e_phoff.
        if (ph.p_offset <= info.phoff && info.phoff - ph.p_offset < ph.p_filesz)
            info.phdr_vaddr = info.phoff - ph.p_offset + ph.p_vaddr;
    }
    if (info.load_count > 0) {
        info.first_vaddr = read_phdr(phdrs, first_load).p_vaddr;
        // Sorted and disjoint, so the last segment ends highest.
        info.map_size = page_end(prev_end) - page_start(info.first_vaddr);
    }
    return info;
}

// Linux sets the bias when it maps the first PT_LOAD: without one it stays 0.
u64 elf_load_bias(const ElfInfo& info, u64 base) {
    if (info.type != ET_DYN || info.load_count == 0) return 0;
    if (info.max_align != 0) base &= ~(info.max_align - 1);
    return page_start(base - info.first_vaddr);
}

u64 elf_bias_for_area(const ElfInfo& info, u64 area_start) {
    if (info.type != ET_DYN || info.load_count == 0) return 0;
    KASSERT(page_offset(area_start) == 0);
    return area_start - page_start(info.first_vaddr);
}

Result<LoadPlan> elf_plan(const ElfInfo& info, u64 bias, ElfRole role) {
    KASSERT(info.complete);
    KASSERT(page_offset(bias) == 0);
    KASSERT(info.type == ET_DYN || bias == 0);
    LoadPlan plan;
    plan.bias = bias;
    // Unsigned arithmetic wraps as in Linux: a bias below the first vaddr
    // is a "negative" bias, and start_code stays ~0 + bias without code.
    plan.start_code = ~u64{0};
    // Linux's first mmap of an ET_DYN reserves its whole extent, empty
    // PT_LOADs included, so all of it must fit where the bias puts it.
    if (info.type == ET_DYN && info.load_count > 0) {
        u64 start = bias + page_start(info.first_vaddr);
        if (start > kUserAddressEnd || info.map_size > kUserAddressEnd - start) return Error(ENOMEM);
    }
    u64 brk = 0;
    bool mapped = false;
    for (usize i = 0; i < info.phnum; ++i) {
        Elf64_Phdr ph = read_phdr(info.phdrs, i);
        if (ph.p_type != PT_LOAD) continue;
        if (ph.p_memsz > 0) {
            // elf_parse keeps the unbiased segment below kUserAddressEnd.
            u64 start = bias + page_start(ph.p_vaddr);
            u64 len = page_end(ph.p_vaddr + ph.p_memsz) - page_start(ph.p_vaddr);
            if (start > kUserAddressEnd || len > kUserAddressEnd - start) return Error(ENOMEM);
            if (!mapped) plan.start = start;
            plan.end = start + len;
            mapped = true;
        }
        u64 k = ph.p_vaddr;
        if ((ph.p_flags & PF_X) && k < plan.start_code) plan.start_code = k;
        if (plan.start_data < k) plan.start_data = k;
        k = ph.p_vaddr + ph.p_filesz;
        if ((ph.p_flags & PF_X) && plan.end_code < k) plan.end_code = k;
        if (plan.end_data < k) plan.end_data = k;
        brk = max(brk, u64{ph.p_vaddr + ph.p_memsz});
    }
    plan.start_code += bias;
    plan.end_code += bias;
    plan.start_data += bias;
    plan.end_data += bias;
    plan.brk = page_end(brk) + bias;
    plan.phdr_addr = info.phdr_vaddr + bias;
    plan.entry = info.entry + bias;
    // Linux checks the entry it jumps to: the interpreter's when there is
    // one, so a program with an interpreter may have any e_entry.
    bool jumps_here = role == ElfRole::kInterpreter || !info.has_interp;
    if (jumps_here && plan.entry >= kUserAddressEnd) return Error(EINVAL);
    return plan;
}

ElfSegments::Iterator::Iterator(const ElfInfo* info, u64 bias, usize index)
    : info_(info), bias_(bias), index_(index) {
    skip();
}

void ElfSegments::Iterator::skip() {
    while (index_ < info_->phnum) {
        Elf64_Phdr ph = read_phdr(info_->phdrs, index_);
        if (ph.p_type == PT_LOAD && ph.p_memsz > 0) return;
        ++index_;
    }
}

ElfSegments::Iterator& ElfSegments::Iterator::operator++() {
    ++index_;
    skip();
    return *this;
}

LoadSegment ElfSegments::Iterator::operator*() const {
    Elf64_Phdr ph = read_phdr(info_->phdrs, index_);
    LoadSegment s;
    s.start = bias_ + page_start(ph.p_vaddr);
    s.end = bias_ + page_end(ph.p_vaddr + ph.p_memsz);
    s.file_end = s.zero_start = s.start;
    if (ph.p_filesz > 0) {
        s.file_end = bias_ + page_end(ph.p_vaddr + ph.p_filesz);
        s.file_offset = ph.p_offset - page_offset(ph.p_vaddr);
        // Linux clears the rest of the last file page only when bss
        // follows; otherwise the file's bytes stay visible there.
        s.zero_start = ph.p_memsz > ph.p_filesz ? bias_ + ph.p_vaddr + ph.p_filesz : s.file_end;
    }
    s.prot = prot_of(ph.p_flags);
    s.anon_prot = PROT_READ | PROT_WRITE | ((ph.p_flags & PF_X) ? PROT_EXEC : 0);
    return s;
}

}  // namespace keel::exec
