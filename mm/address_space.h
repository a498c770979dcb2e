// A process's user address space: its page tables (the kernel half shared
// with every other space) and its mappings (VMAs), with demand paging.
//
// Pages a VMA maps are of three kinds, told apart per page table entry:
//  - anonymous pages (and private copies), owned by the address spaces that
//    map them and counted in PageFrame::map_count (copy-on-write after fork);
//  - pages of a file's page cache (tmpfs pages, PTE_CACHE set), owned by
//    the file: never counted or freed here; the file's FileMap knows every
//    VMA that maps them and removes them before the file drops a page;
//  - kernel pages shown as they are (the vDSO, Vma::fixed_phys).
//
// Lock order: inode lock > AddressSpace::lock_ > FileMap lock. The fault
// path therefore never holds lock_ while it takes an inode lock: it looks
// the page up with lock_ released and checks the FileMap's generation again
// under lock_ before installing it.
#pragma once

#include <linux/mman.h>

#include "kernel/sched/wait.h"
#include "lib/intrusive_list.h"
#include "lib/rbtree.h"
#include "lib/result.h"

namespace keel::fs {
class File;
class Inode;
}  // namespace keel::fs

namespace keel::mm {

constexpr uptr USER_TOP_LIMIT = 0x00007ffffffff000ull;  // TASK_SIZE (also USER_TOP below)

class AddressSpace;
class FileMap;

// What a private file mapping made by exec reads its pages from (copies,
// not the page cache). A reference is held for as long as a VMA uses it.
class VmBacking {
public:
    // Fills one page with the file's bytes at `offset` (zeros past the end).
    virtual Status read_page(u64 offset, void* page) = 0;
    virtual void get() = 0;
    virtual void put() = 0;

protected:
    ~VmBacking() = default;
};

// Vma::vm bits: what mprotect may grant and the madvise/mlock state.
enum : u32 {
    VM_MAYREAD = 1u << 0,
    VM_MAYWRITE = 1u << 1,
    VM_MAYEXEC = 1u << 2,
    VM_LOCKED = 1u << 3,
    VM_LOCKONFAULT = 1u << 4,
    VM_DONTFORK = 1u << 5,
    VM_WIPEONFORK = 1u << 6,
    VM_SHMEM = 1u << 7,  // shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, /dev/zero)
    // Linux's commit accounting marks, kept for what they decide about
    // merging: VM_ACCOUNT on private memory made writable (at mmap, brk, or
    // when mprotect first grants write; dropped only when memory that never
    // had a page loses write), VM_NORESERVE on a private MAP_NORESERVE
    // mapping. Memory that was never writable is therefore not joined to
    // memory that was, as on Linux.
    VM_ACCOUNT = 1u << 8,
    VM_NORESERVE = 1u << 9,
};

struct Vma {
    ListNode node;       // in the address space's list, in address order
    RbNode tree_node;    // in its tree by start: lookups in O(log n)
    // The free room between the previous VMA (or USER_MMAP_MIN) and start,
    // and the largest such room in this VMA's subtree of the tree: mmap's
    // search for a gap steers by it (AddressSpace::regap keeps both).
    uptr gap_before = 0;
    uptr gap_max = 0;
    ListNode file_node;  // in fmap's list
    AddressSpace* as = nullptr;
    uptr start = 0;
    uptr end = 0;
    u32 prot = 0;   // PROT_*
    u32 flags = 0;  // MAP_SHARED / MAP_PRIVATE / MAP_GROWSDOWN / MAP_ANONYMOUS
    u32 vm = 0;     // VM_*
    VmBacking* backing = nullptr;  // exec's private file copies
    fs::File* file = nullptr;      // reference held: a mapping of the file's pages
    FileMap* fmap = nullptr;       // the file inode's reverse map
    u64 offset = 0;                // file offset of `start`
    // Kernel pages shown to user space as they are (the vDSO and its data):
    // never copied, never freed, not counted.
    u64 fixed_phys = 0;
    u64 zap_seq = 0;  // FileMap pass that last visited this VMA
    // Linux's anon_vma, for what it decides about merging: 0 until an
    // anonymous page is faulted in; the pieces of one mapping share it,
    // and so may a neighbour that could join it (mm/vma_merge.cpp).
    u64 anon_id = 0;

    bool shared() const { return flags & MAP_SHARED; }
};

// VMAs never overlap, so ordering by start stays right while a VMA's bounds
// move in place (a split, a merge, a growing stack): none passes another.
struct VmaByStart {
    static bool less(const Vma& a, const Vma& b) { return a.start < b.start; }
    static bool recompute(Vma& v);
};

// vm.max_map_count: the mappings a process may have (Linux's default
// 65530); mmap and brk fail with ENOMEM above it, splits at it.
// set_max_map_count: EINVAL outside 0..INT_MAX, as the sysctl.
usize max_map_count();
Status set_max_map_count(i64 n);

// What /proc/<pid>/maps shows of a file mapping.
struct VmaFileInfo {
    fs::File* file;  // borrowed while the caller holds the space's lock
    u64 offset;
    u64 dev;  // new_encode_dev of the file system
    u64 ino;
};

enum class FaultResult { Handled, MapError, AccessError, OutOfMemory, BusError };

class AddressSpace {
public:
    static Result<AddressSpace*> create();
    void get() { __atomic_fetch_add(&refs_, 1, __ATOMIC_RELAXED); }
    // A reference unless the space is already being destroyed.
    bool try_get();
    void put();

    u64 page_table() const { return pml4_; }
    void activate() const;

    // fork(2): a copy of this space sharing every page copy-on-write.
    Result<AddressSpace*> fork();

    // Maps `pages` kernel pages starting at physical `phys` at `addr`,
    // read-only (with PROT_EXEC as asked).
    Result<uptr> map_kernel_pages_at(uptr addr, u64 phys, usize pages, u32 prot);

    // mmap(2) without the file lookup: returns the address or the errno.
    // `file` (a reference is taken) maps the inode's page cache; `backing`
    // private copies (exec). `vm` holds the VM_MAY* rights.
    Result<uptr> map(uptr addr, usize len, u32 prot, u32 flags, VmBacking* backing, u64 offset,
                     fs::File* file = nullptr, u32 vm = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
    Status unmap(uptr addr, usize len);
    Status protect(uptr addr, usize len, u32 prot);
    // madvise(MADV_DONTNEED/MADV_FREE): drop the pages; the next touch
    // faults in zeros (anonymous) or the file's bytes. ENOMEM on a hole.
    Status discard(uptr addr, usize len);
    // madvise advice that sets VMA state (DONTFORK, DOFORK, WIPEONFORK,
    // KEEPONFORK); other advice only checks the range. ENOMEM when part of
    // the range is unmapped (after applying to the rest, as Linux).
    Status advise(uptr addr, usize len, int advice);
    // MADV_REMOVE: the file range behind [addr, addr+len) of a shared
    // mapping, as (file reference, offset, length) for the hole punch.
    Result<fs::File*> remove_range(uptr addr, usize len, u64* off, u64* flen);
    // brk(2): returns the (possibly unchanged) break.
    uptr set_brk(uptr want);
    void init_brk(uptr start);

    // Tests: the VMA tree against the list (order, gap fields and maxima),
    // and mmap's gap search for `len` against a walk of every gap.
    bool vma_index_consistent(usize len);

    // mremap(2).
    Result<uptr> remap(uptr old_addr, usize old_len, usize new_len, u32 flags, uptr new_addr);
    // msync(2) after the flag checks: ENOMEM for unmapped pages, EBUSY for
    // MS_INVALIDATE on locked ones.
    Status sync(uptr addr, usize len, int flags);
    // mincore(2): one byte per page into vec (kernel buffer of len pages).
    Status residency(uptr addr, usize pages, u8* vec);
    // mlock family. `lock`: VM_LOCKED (| VM_LOCKONFAULT) to set, 0 to clear.
    // The caller has checked RLIMIT_MEMLOCK with locked_bytes().
    Status set_locked(uptr addr, usize len, u32 lock);
    void set_locked_all(u32 lock);
    // Bytes of locked VMAs within [start, end).
    u64 locked_bytes(uptr start = 0, uptr end = USER_TOP_LIMIT);
    // Bytes of all VMAs (mlockall's check against RLIMIT_MEMLOCK).
    u64 total_bytes();
    // mlockall(MCL_FUTURE): new mappings start locked.
    u32 def_lock = 0;
    // Faults every page of the range in (MAP_POPULATE, mlock): as reads,
    // or as writes for writable private mappings.
    void populate(uptr addr, usize len);

    FaultResult handle_fault(uptr addr, bool write, bool exec);

    // Writes into the space whatever the protections say (exec: clearing
    // the tail of a read-only segment's last file page, writing the stack).
    Status poke(uptr addr, const void* src, usize n);
    Status poke_zero(uptr addr, usize n);
    // Copies up to n bytes at addr into dst (kernel memory), faulting pages
    // in as reads would: the count copied, short at the first page that
    // cannot be read (/proc/<pid>/mem).
    usize peek(uptr addr, void* dst, usize n);

    // /proc/<pid>/maps: calls fn(vma, file info or nullptr) for each VMA in
    // address order with the space's lock held.
    template <typename Fn>
    void for_each_vma(Fn fn) {
        sched::MutexGuard g(lock_);
        for (Vma* v = vmas_.front(); v; v = vmas_.next(*v)) {
            VmaFileInfo info;
            fn(*v, file_info(*v, info) ? &info : nullptr);
        }
    }
    bool file_info(const Vma& v, VmaFileInfo& out) const;
    // Calls fn(the VMA containing addr, or nullptr) with the space's lock
    // held (futex keys).
    template <typename Fn>
    void with_vma(uptr addr, Fn fn) {
        sched::MutexGuard g(lock_);
        fn(static_cast<const Vma*>(find(addr)));
    }
    // The heap ("[heap]" in maps): from the program's end to the break.
    uptr brk_start() const { return brk_start_; }
    uptr brk_end() const { return align_up<uptr>(brk_, 4096); }

    // Drops the page-cache pages [first, end) of `fmap`'s file from this
    // space (and private copies of them when asked). FileMap's zap pass.
    void zap_file_pages(FileMap* fmap, u64 seq, u64 first, u64 end, bool private_copies);

    // The user stack's top, set up by exec.
    uptr stack_top = 0;

    // Public for make<>/destroy<>; use create() and put().
    AddressSpace() = default;
    ~AddressSpace();

private:
    Status poke_page(uptr addr, const u8* from, usize k);  // within one page; under lock_
    Vma* find(uptr addr);  // VMA containing addr
    Vma* at_or_below(uptr addr);  // the last VMA starting at or below addr
    Vma* first_ending_above(uptr addr);  // the VMA containing addr, or the next one
    uptr next_vma_start(uptr a, uptr end);
    Vma* prev_of(Vma* v);
    // A fault on a file mapping whose page must be looked up in the file
    // (with lock_ released; see the lock order above).
    struct FileFault {
        bool needed = false;
        fs::File* file = nullptr;  // reference held
        u64 index = 0;             // page index in the file
    };
    FaultResult fault_locked(uptr addr, bool write, bool exec, FileFault* ff);
    FaultResult install_file_page(uptr addr, bool write, const FileFault& ff, void* page, u64 gen, bool* retry);
    Status fork_into(AddressSpace* child);
    bool grow_stack(uptr addr);
    bool range_free(uptr start, uptr end);
    Result<uptr> find_free(usize len, uptr hint, bool below_2g = false);
    // v becomes [start, at), a new VMA [at, end); `limited`: ENOMEM when
    // the space has vm.max_map_count mappings already (as Linux's split_vma).
    Status split(Vma* v, uptr at, bool limited = true);
    Status split_range(uptr start, uptr end);  // VMA boundaries at start and end
    bool covered(uptr start, uptr end);
    Status unmap_locked(uptr start, uptr end);
    Status protect_locked(uptr start, uptr end, u32 prot);  // without the TLB flush
    // mm/vma_merge.cpp. absorb: the piece [from, to) of v, which starts or
    // ends where v does (not both), given rights `prot`, moved into the
    // anonymous neighbour it would continue instead of split off (Linux's
    // mprotect moves the boundary: no new mapping, so it works at the
    // limit); that neighbour, or null. merge_range: whole anonymous
    // mappings in and next to [start, end] joined with the ones they continue.
    Vma* absorb(Vma* v, uptr from, uptr to, u32 prot);
    void merge_range(uptr start, uptr end);
    // An anonymous page was faulted into v: it gets its anon_id, a
    // neighbour's it could share (as Linux's anon_vma_prepare) or a new one.
    void note_anon_page(Vma* v);
    void insert(Vma* v);  // into the list and the tree
    void unlink(Vma* v);  // out of both
    // v's gap_before again from its predecessor, and the maxima above it:
    // after v's start or its predecessor's end moved.
    void regap(Vma* v);
    Vma* highest_gap(Vma* subtree, uptr limit, usize len);
    void attach(Vma* v);  // takes its references and joins its FileMap
    void free_vma(Vma* v);
    void release_pages(uptr start, uptr end);
    void clear_ptes(uptr start, uptr end);
    u64 pte_flags(const Vma& v, bool writable) const;
    Result<Vma*> clone_vma(const Vma& v);
    Status move_ptes(uptr from, uptr to, usize len);
    // The leaf entry for user address va, making the tables on the way;
    // each new table page is charged to the current thread's memory cgroup
    // (ENOMEM over memory.max, as for a user page). Every user table is
    // made here, so each frame says where it is charged.
    Result<u64*> pte_alloc(uptr va);

    u64 pml4_ = 0;
    u32 refs_ = 1;
    sched::Mutex lock_;
    // The same VMAs twice: the list for walks in address order, the tree
    // for finding one by address (page faults, futex keys, hints).
    IntrusiveList<Vma, &Vma::node> vmas_;  // sorted by start, non-overlapping
    RbTree<Vma, &Vma::tree_node, VmaByStart> tree_;
    uptr brk_start_ = 0;
    uptr brk_ = 0;
};

// Limits of the user half, as Linux x86-64 with 4-level paging has them.
constexpr uptr USER_MMAP_MIN = 0x10000;              // vm.mmap_min_addr
// The lowest address the calling process may map at: vm.mmap_min_addr,
// or 0 with CAP_SYS_RAWIO.
uptr mmap_min_addr();
constexpr uptr USER_TOP = 0x00007ffffffff000ull;     // TASK_SIZE
constexpr uptr USER_MMAP_BASE = 0x00007ffff7fff000ull;  // top-down mmap base below the stack
constexpr uptr STACK_GUARD_GAP = 256 * 4096;            // stack_guard_gap

// A PTE bit the MMU ignores: the page belongs to a file's page cache.
constexpr u64 PTE_CACHE = 1ull << 9;

// Frees a page-table page of a user address space, uncharged from its
// memory cgroup (arch::set_table_page_release's hook: only user tables are
// ever freed, and each was made by AddressSpace::pte_alloc).
void release_table_page(u64 pa);

}  // namespace keel::mm
