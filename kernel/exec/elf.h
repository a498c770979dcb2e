// ELF64 executables for execve: validation of hostile headers and the
// mapping plan Linux 6.12 follows for them on x86-64.
//
// How execve uses this (a program, then its interpreter if it has one):
//
//   1. Read the start of the file (a page is plenty for ordinary binaries).
//      elf_phdr_table() says where the program header table is; if it lies
//      beyond what was read, read it separately (it is at most one page).
//   2. elf_parse() validates the header and the program headers. The
//      ElfInfo it returns points into the caller's buffers: keep them alive.
//      If it comes back with info.complete false, the PT_INTERP string lies
//      beyond what was read: read info.interp_size bytes at
//      info.interp_offset into a buffer (a short read is EIO, as in Linux),
//      point ElfImage::interp at it and call elf_parse again. Linux checks
//      that string before the segments, so this keeps its errno order.
//   3. Choose the load bias: 0 for ET_EXEC, elf_load_bias() for a PIE,
//      elf_bias_for_area() for the interpreter or a static PIE placed in a
//      free area of info.map_size bytes.
//   4. elf_plan() checks the biased addresses and gives entry, AT_PHDR, brk
//      and the /proc/<pid>/stat code and data bounds; elf_segments() lists
//      the mappings to make, in order.
//
// The errno values are the ones Linux's execve returns for the same fault,
// which depend on whether the file is the program or its interpreter (see
// ElfRole). Where Keel is stricter than Linux the comment at the check says
// so.
#pragma once

#include "lib/result.h"
#include "lib/string_view.h"
#include "lib/types.h"

namespace keel::exec {

constexpr u64 kElfPageSize = 4096;
// TASK_SIZE on x86-64 with 4-level paging: the first address user space
// cannot map (one guard page below the canonical hole).
constexpr u64 kUserAddressEnd = 0x7ffffffff000;
// ELF_ET_DYN_BASE without randomization: two thirds of the user address
// space, deliberately not page-aligned (elf_load_bias rounds it).
constexpr u64 kElfEtDynBase = kUserAddressEnd / 3 * 2;
// sizeof(Elf64_Ehdr) and sizeof(Elf64_Phdr): AT_PHENT.
constexpr usize kElfHeaderSize = 64;
constexpr usize kElfPhdrSize = 56;
// Linux 6.12 reads at most one page of program headers (73 entries); later
// kernels relax this to 64 KiB.
constexpr usize kMaxPhdrTableSize = 4096;
// PATH_MAX: the longest PT_INTERP Linux accepts, NUL included.
constexpr usize kMaxInterpSize = 4096;

// Which file of an execve is being parsed. Linux reports a malformed
// interpreter with ELIBBAD, EINVAL or ENOMEM where the same fault in the
// program itself gives ENOEXEC or EINVAL.
enum class ElfRole : u8 { kProgram, kInterpreter };

struct PhdrTable {
    u64 offset = 0;  // e_phoff
    usize size = 0;  // e_phnum * kElfPhdrSize, at most kMaxPhdrTableSize
    u64 end() const { return offset + size; }
};

// Validates the ELF header in the first `n` bytes of a file and says where
// its program header table is. Fewer than 64 bytes are treated as the rest
// being zero, as Linux does with its zero-filled header buffer, so a
// truncated header fails with the same errno as a bad one.
Result<PhdrTable> elf_phdr_table(const u8* head, usize n, ElfRole role = ElfRole::kProgram);

// How many leading bytes of the file hold the ELF header and the program
// header table: if the first read covered this much, elf_parse can work on
// that buffer alone.
Result<u64> elf_headers_size(const u8* head, usize n, ElfRole role = ElfRole::kProgram);

// What the kernel has read of a file.
struct ElfImage {
    const u8* head = nullptr;  // the first head_size bytes of the file
    usize head_size = 0;
    u64 file_size = 0;         // the size of the whole file
    // The program header table (PhdrTable::size bytes read at its offset)
    // when it is not inside `head`; null when it is.
    const u8* phdrs = nullptr;
    // The PT_INTERP bytes (ElfInfo::interp_size of them) when elf_parse
    // asked for them; null otherwise.
    const u8* interp = nullptr;
};

struct ElfInfo {
    // False when elf_parse stopped to have the interpreter path read (see
    // the top of this file): nothing past the PT_INTERP fields is checked
    // yet, and elf_plan/elf_segments refuse such an ElfInfo.
    bool complete = false;

    u16 type = 0;        // ET_EXEC or ET_DYN
    u64 entry = 0;       // e_entry, before the load bias
    u64 phoff = 0;       // e_phoff
    u16 phnum = 0;       // AT_PHNUM
    const u8* phdrs = nullptr;  // the table in the caller's buffer

    // PT_LOAD segments. Keel requires them sorted by address and not
    // overlapping (the ELF specification does; Linux does not check).
    usize load_count = 0;
    u64 first_vaddr = 0;  // p_vaddr of the first PT_LOAD
    // Bytes from the first PT_LOAD's page to the page-aligned end of the
    // last one: the area an ET_DYN needs (Linux's total_mapping_size).
    u64 map_size = 0;
    // Largest power-of-two p_align of a PT_LOAD rounded up to a page; 0 if
    // none is a power of two. A PIE's base is aligned to it.
    u64 max_align = 0;
    // AT_PHDR before the bias: where the PT_LOAD whose file bytes contain
    // e_phoff puts it (the last such segment, as in Linux), else 0.
    u64 phdr_vaddr = 0;

    // The program's first PT_INTERP (the interpreter's own is ignored, as
    // Linux does). `interp` is the path up to its first NUL, pointing into
    // ElfImage::head or ElfImage::interp.
    bool has_interp = false;
    u64 interp_offset = 0;
    u64 interp_size = 0;  // NUL included
    StringView interp;

    // The last PT_GNU_STACK decides. Without one the x86-64 stack is not
    // executable either (Linux 5.8+).
    bool has_gnu_stack = false;
    bool executable_stack = false;

    // Recorded for the kernel's bookkeeping; nothing here depends on them.
    bool has_pt_phdr = false;
    u64 pt_phdr_vaddr = 0;
    bool has_tls = false;
    u64 tls_vaddr = 0, tls_filesz = 0, tls_memsz = 0, tls_align = 0;
};

// Validates everything that does not depend on the load bias.
Result<ElfInfo> elf_parse(const ElfImage& image, ElfRole role = ElfRole::kProgram);
// The whole file in memory (tests, the fuzzer, tiny files): always complete.
Result<ElfInfo> elf_parse(const u8* data, usize size, ElfRole role = ElfRole::kProgram);

// The bias that Linux gives a PIE (an ET_DYN program with an interpreter)
// loaded at `base`: base aligned down to max_align, less the first PT_LOAD's
// address, page-aligned down. kElfEtDynBase gives Linux's address without
// randomization, 0x555555554000 for the usual first vaddr 0. 0 for ET_EXEC.
u64 elf_load_bias(const ElfInfo& info, u64 base);

// The bias that puts the first PT_LOAD's page at `area_start` (page-aligned):
// for an ET_DYN placed where the kernel found room for info.map_size bytes,
// as Linux places the interpreter and static PIEs. 0 for ET_EXEC.
u64 elf_bias_for_area(const ElfInfo& info, u64 area_start);

struct LoadPlan {
    u64 bias = 0;
    u64 entry = 0;      // e_entry + bias (AT_ENTRY for the program)
    u64 phdr_addr = 0;  // AT_PHDR
    u64 start = 0;      // lowest mapped page
    u64 end = 0;        // page-aligned end of the highest mapped segment
    u64 brk = 0;        // start_brk: page-aligned end of the highest PT_LOAD
    // /proc/<pid>/stat's startcode..enddata, computed as Linux does.
    u64 start_code = 0, end_code = 0, start_data = 0, end_data = 0;
};

// Checks the segments at `bias` (page-aligned) against the user address
// range and returns the addresses execve needs.
Result<LoadPlan> elf_plan(const ElfInfo& info, u64 bias, ElfRole role = ElfRole::kProgram);

// One PT_LOAD as mapped at a bias. Addresses are page-aligned unless noted.
//  [start, file_end)  private file mapping of file_offset.., with `prot`;
//  [zero_start, file_end)  (not page-aligned at its start) bytes after the
//                     file data in the last file page, to be zeroed;
//  [file_end, end)    anonymous zero pages with `anon_prot`.
// Consecutive segments may share a page: as in Linux, the later mapping
// replaces the earlier one there.
struct LoadSegment {
    u64 start = 0;
    u64 file_end = 0;
    u64 end = 0;
    u64 file_offset = 0;
    u64 zero_start = 0;
    u32 prot = 0;       // PROT_READ/PROT_WRITE/PROT_EXEC from p_flags
    // Linux maps the anonymous tail like brk memory: read-write whatever
    // p_flags say, executable if the segment is.
    u32 anon_prot = 0;
};

// The segments with p_memsz > 0, in order: `for (LoadSegment s :
// elf_segments(info, bias))`. Only meaningful once elf_plan accepted bias.
class ElfSegments {
public:
    class Iterator {
    public:
        LoadSegment operator*() const;
        Iterator& operator++();
        bool operator!=(const Iterator& o) const { return index_ != o.index_; }

    private:
        friend class ElfSegments;
        Iterator(const ElfInfo* info, u64 bias, usize index);
        void skip();
        const ElfInfo* info_;
        u64 bias_;
        usize index_;
    };

    ElfSegments(const ElfInfo& info, u64 bias) : info_(&info), bias_(bias) { KASSERT(info.complete); }
    Iterator begin() const { return Iterator(info_, bias_, 0); }
    Iterator end() const { return Iterator(info_, bias_, info_->phnum); }

private:
    const ElfInfo* info_;
    u64 bias_;
};

inline ElfSegments elf_segments(const ElfInfo& info, u64 bias) { return ElfSegments(info, bias); }

}  // namespace keel::exec
