// A process's user address space: its page tables (the kernel half shared
// with every other space) and its mappings (VMAs), with demand paging.
#pragma once

#include <linux/mman.h>

#include "kernel/sched/wait.h"
#include "lib/intrusive_list.h"
#include "lib/result.h"

namespace keel::mm {

// What a file-backed mapping reads its pages from. The file system
// implements it; a reference is held for as long as a VMA uses it.
class VmBacking {
public:
    // Fills one page with the file's bytes at `offset` (zeros past the end).
    virtual Status read_page(u64 offset, void* page) = 0;
    virtual void get() = 0;
    virtual void put() = 0;

protected:
    ~VmBacking() = default;
};

struct Vma {
    ListNode node;
    uptr start = 0;
    uptr end = 0;
    u32 prot = 0;   // PROT_*
    u32 flags = 0;  // MAP_SHARED / MAP_PRIVATE / MAP_GROWSDOWN / MAP_ANONYMOUS
    VmBacking* backing = nullptr;  // nullptr: anonymous
    u64 offset = 0;                // file offset of `start`
    // Kernel pages shown to user space as they are (the vDSO and its data):
    // never copied, never freed, not counted.
    u64 fixed_phys = 0;
};

enum class FaultResult { Handled, MapError, AccessError, OutOfMemory, BusError };

class AddressSpace {
public:
    static Result<AddressSpace*> create();
    void get() { __atomic_fetch_add(&refs_, 1, __ATOMIC_RELAXED); }
    void put();

    u64 page_table() const { return pml4_; }
    void activate() const;

    // fork(2): a copy of this space sharing every page copy-on-write.
    Result<AddressSpace*> fork();

    // Maps `pages` kernel pages starting at physical `phys` at `addr`,
    // read-only (with PROT_EXEC as asked).
    Result<uptr> map_kernel_pages_at(uptr addr, u64 phys, usize pages, u32 prot);

    // mmap(2) without the file lookup: returns the address or the errno.
    Result<uptr> map(uptr addr, usize len, u32 prot, u32 flags, VmBacking* backing, u64 offset);
    Status unmap(uptr addr, usize len);
    Status protect(uptr addr, usize len, u32 prot);
    // madvise(MADV_DONTNEED/MADV_FREE): drop the pages; the next touch
    // faults in zeros (anonymous) or the file's bytes. ENOMEM on a hole.
    Status discard(uptr addr, usize len);
    // brk(2): returns the (possibly unchanged) break.
    uptr set_brk(uptr want);
    void init_brk(uptr start);

    FaultResult handle_fault(uptr addr, bool write, bool exec);

    // Writes into the space whatever the protections say (exec: clearing
    // the tail of a read-only segment's last file page, writing the stack).
    Status poke(uptr addr, const void* src, usize n);
    Status poke_zero(uptr addr, usize n);

    // The user stack's top, set up by exec.
    uptr stack_top = 0;

    // Public for make<>/destroy<>; use create() and put().
    AddressSpace() = default;
    ~AddressSpace();

private:
    Vma* find(uptr addr);  // VMA containing addr
    FaultResult fault_locked(uptr addr, bool write, bool exec);
    bool range_free(uptr start, uptr end);
    Result<uptr> find_free(usize len, uptr hint);
    Status split(Vma* v, uptr at);  // v becomes [start, at), a new VMA [at, end)
    void unmap_locked(uptr start, uptr end);
    void insert(Vma* v);
    void release_pages(uptr start, uptr end);
    void clear_ptes(uptr start, uptr end);
    u64 pte_flags(const Vma& v, bool writable) const;

    u64 pml4_ = 0;
    u32 refs_ = 1;
    sched::Mutex lock_;
    IntrusiveList<Vma, &Vma::node> vmas_;  // sorted by start, non-overlapping
    uptr brk_start_ = 0;
    uptr brk_ = 0;
};

// Limits of the user half, as Linux x86-64 with 4-level paging has them.
constexpr uptr USER_MMAP_MIN = 0x10000;              // vm.mmap_min_addr
constexpr uptr USER_TOP = 0x00007ffffffff000ull;     // TASK_SIZE
constexpr uptr USER_MMAP_BASE = 0x00007ffff7fff000ull;  // top-down mmap base below the stack

}  // namespace keel::mm
