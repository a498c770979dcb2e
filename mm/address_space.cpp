// Address spaces: the VMA list and the calls that change it (mmap, munmap,
// mprotect, brk, fork). Faults are in vm_fault.cpp, the other memory calls
// (mremap, msync, mincore, mlock) in vm_calls.cpp.
#include "mm/address_space.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "fs/core/file.h"
#include "fs/vfs_file.h"
#include "kernel/cgroup/memcg.h"
#include "kernel/percpu.h"
#include "kernel/process/process.h"
#include "kernel/smp.h"
#include "lib/alloc.h"
#include "mm/file_map.h"
#include "mm/layout.h"
#include "mm/page_alloc.h"
#include "mm/vm_internal.h"

namespace keel::mm {

void release_user_page(u64 pa) {
    PageFrame& f = page_frame(pa);
    if (__atomic_sub_fetch(&f.map_count, 1, __ATOMIC_ACQ_REL)) return;
    memcg::uncharge_frame(f);
    free_pages(pa, 0);
}

void flush_user(u64 pml4, uptr va, usize pages) {
    // The caller changed live translations of this address space; other
    // CPUs may run its threads.
    if (arch::irqs_enabled()) tlb_shootdown_tables(pml4, va, pages);
    else for (usize i = 0; i < pages; ++i) arch::invlpg(va + i * PAGE_SIZE);
}

void put_file(fs::File* f) { RefPtr<fs::File> drop = RefPtr<fs::File>::adopt(f); }

uptr mmap_min_addr() {
    proc::Process* p = proc::current_process();
    return p && fs::cred_of(*p).capable(CAP_SYS_RAWIO) ? 0 : USER_MMAP_MIN;
}

namespace {

// The tables on va's path below the top level: PDPT, PD and PT by physical
// address, 0 from the first one missing.
void table_path(u64 pml4, uptr va, u64 (&out)[3]) {
    const u64* t = phys_to_ptr<u64>(pml4);
    for (int l = 3, i = 0; l > 0; --l, ++i) {
        u64 e = t[(va >> (12 + 9 * l)) & 511];
        out[i] = (e & arch::pte::P) ? (e & arch::pte::ADDR_MASK) : 0;
        for (int j = i + 1; !out[i] && j < 3; ++j) out[j] = 0;
        if (!out[i]) return;
        t = phys_to_ptr<u64>(out[i]);
    }
}

}  // namespace

Result<AddressSpace*> AddressSpace::create() {
    AddressSpace* as = TRY(make_accounted<AddressSpace>());
    auto pml4 = arch::new_user_pml4();
    if (pml4.is_error()) {
        destroy(as);
        return pml4.error();
    }
    as->pml4_ = pml4.value();
    if (Status st = memcg::try_charge_frame(page_frame(as->pml4_), memcg::PAGETABLES); st.is_error()) {
        destroy(as);
        return st.error();
    }
    return as;
}

Result<u64*> AddressSpace::pte_alloc(uptr va) {
    if (u64* e = arch::pte_lookup(pml4_, va)) return e;
    // Charged before the tables exist, each to the frame that needs it once
    // they do (an allocation that fails half-way made some of them).
    u64 before[3], after[3];
    table_path(pml4_, va, before);
    cgroup::Cgroup* charges[3] = {};
    usize missing = 0;
    for (u64 t : before) {
        if (t) continue;
        auto c = memcg::try_charge(memcg::PAGETABLES);
        if (c.is_error()) {
            while (missing) memcg::uncharge(charges[--missing], memcg::PAGETABLES);
            return c.error();
        }
        charges[missing++] = c.value();
    }
    auto r = arch::pte_create(pml4_, va);
    table_path(pml4_, va, after);
    usize used = 0;
    for (int i = 0; i < 3; ++i)
        if (!before[i] && after[i]) page_frame(after[i]).memcg = charges[used++];
    while (used < missing) memcg::uncharge(charges[used++], memcg::PAGETABLES);
    return r;
}

void release_table_page(u64 pa) {
    memcg::uncharge_frame(page_frame(pa), memcg::PAGETABLES);
    free_pages(pa, 0);
}

namespace {

// Loads the kernel's tables on this CPU if it still runs on `pml4`.
void let_go_of_tables(void* pml4) {
    if ((arch::read_cr3() & arch::pte::ADDR_MASK) == reinterpret_cast<u64>(pml4)) load_page_tables(arch::kernel_pml4());
}

}  // namespace

AddressSpace::~AddressSpace() {
    // An idle CPU keeps the last user tables it ran on loaded (the
    // scheduler's switch_user_state), and so may this CPU, dropping the
    // last reference on its way out: all move to the kernel's tables before
    // these are freed. No thread of the space is left to load them again.
    if (pml4_) {
        PreemptGuard pin;
        let_go_of_tables(reinterpret_cast<void*>(pml4_));
        smp_call_others(let_go_of_tables, reinterpret_cast<void*>(pml4_));
    }
    // Page-cache and kernel pages are not ours to free: only owned pages go
    // back, then the tables.
    while (Vma* v = vmas_.front()) {
        unlink(v);
        if (v->fixed_phys) clear_ptes(v->start, v->end);
        else release_pages(v->start, v->end);
        free_vma(v);
    }
    if (pml4_) {
        arch::free_user_half(pml4_, release_user_page);
        release_table_page(pml4_);
    }
}

bool AddressSpace::try_get() {
    u32 n = __atomic_load_n(&refs_, __ATOMIC_RELAXED);
    while (n) {
        if (__atomic_compare_exchange_n(&refs_, &n, n + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return true;
    }
    return false;
}

void AddressSpace::put() {
    if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0) destroy(this);
}

namespace {
// Linux's DEFAULT_MAX_MAP_COUNT (USHRT_MAX - 5).
usize g_max_map_count = 65530;
}  // namespace

usize max_map_count() { return __atomic_load_n(&g_max_map_count, __ATOMIC_RELAXED); }

Status set_max_map_count(i64 n) {
    if (n < 0 || n > 0x7fffffff) return Error(EINVAL);
    __atomic_store_n(&g_max_map_count, static_cast<usize>(n), __ATOMIC_RELAXED);
    return {};
}

void AddressSpace::activate() const { load_page_tables(pml4_); }

bool VmaByStart::recompute(Vma& v) {
    using Tree = RbTree<Vma, &Vma::tree_node, VmaByStart>;
    uptr m = v.gap_before;
    if (Vma* l = Tree::left(v)) m = max(m, l->gap_max);
    if (Vma* r = Tree::right(v)) m = max(m, r->gap_max);
    if (m == v.gap_max) return false;
    v.gap_max = m;
    return true;
}

void AddressSpace::regap(Vma* v) {
    if (!v) return;
    Vma* p = vmas_.prev(*v);
    uptr floor = p ? p->end : USER_MMAP_MIN;
    v->gap_before = v->start > floor ? v->start - floor : 0;
    tree_.propagate(*v);
}

// The highest VMA of `subtree` that starts at or below `limit` with at
// least `len` free below it.
Vma* AddressSpace::highest_gap(Vma* n, uptr limit, usize len) {
    while (n && n->gap_max >= len) {
        if (n->start > limit) {
            n = tree_.left(*n);
            continue;
        }
        if (Vma* r = highest_gap(tree_.right(*n), limit, len)) return r;
        if (n->gap_before >= len) return n;
        n = tree_.left(*n);
    }
    return nullptr;
}

bool AddressSpace::vma_index_consistent(usize len) {
    sched::MutexGuard g(lock_);
    if (tree_.validate() < 0 || tree_.size() != vmas_.size()) return false;
    uptr floor = USER_MMAP_MIN;
    Vma* t = tree_.first();
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v), t = tree_.next(*t)) {
        if (t != v || v->gap_before != (v->start > floor ? v->start - floor : 0)) return false;
        uptr m = v->gap_before;
        if (Vma* l = tree_.left(*v)) m = max(m, l->gap_max);
        if (Vma* r = tree_.right(*v)) m = max(m, r->gap_max);
        if (v->gap_max != m) return false;
        floor = v->end;
    }
    // The walk mmap used to do: every gap from the top down.
    uptr want = 0;  // none
    uptr ceiling = USER_MMAP_BASE;
    for (Vma* v = vmas_.back();; v = vmas_.prev(*v)) {
        uptr below = v ? v->end : USER_MMAP_MIN;
        if (below < ceiling && ceiling - below >= len) {
            want = ceiling - len;
            break;
        }
        if (!v) break;
        if (v->start < ceiling) ceiling = v->start;
    }
    Result<uptr> got = find_free(len, 0);
    return got.is_ok() ? got.value() == want : want == 0;
}

Vma* AddressSpace::at_or_below(uptr addr) {
    Vma* best = nullptr;
    for (Vma* n = tree_.root(); n;) {
        if (n->start <= addr) {
            best = n;
            n = tree_.right(*n);
        } else {
            n = tree_.left(*n);
        }
    }
    return best;
}

Vma* AddressSpace::first_ending_above(uptr addr) {
    Vma* v = at_or_below(addr);
    if (v && v->end > addr) return v;
    return v ? vmas_.next(*v) : vmas_.front();
}

Vma* AddressSpace::find(uptr addr) {
    Vma* v = at_or_below(addr);
    return v && addr < v->end ? v : nullptr;
}

Vma* AddressSpace::prev_of(Vma* v) { return vmas_.prev(*v); }

// Only the last VMA starting below `end` can reach into [start, end).
bool AddressSpace::range_free(uptr start, uptr end) {
    Vma* v = at_or_below(end - 1);
    return !v || v->end <= start;
}

bool AddressSpace::covered(uptr start, uptr end) {
    for (uptr a = start; a < end;) {
        Vma* v = find(a);
        if (!v) return false;
        a = v->end;
    }
    return true;
}

// Top-down first fit below the mmap base, as Linux's default layout does;
// MAP_32BIT searches [1 GiB, 2 GiB) bottom-up, as x86-64 Linux does.
Result<uptr> AddressSpace::find_free(usize len, uptr hint, bool below_2g) {
    if (hint && hint >= USER_MMAP_MIN && hint <= USER_TOP - len && range_free(hint, hint + len)) return hint;
    if (below_2g) {
        constexpr uptr lo = 0x40000000, hi = 0x80000000;
        for (uptr a = lo; a + len <= hi;) {
            Vma* blocker = nullptr;
            for (Vma* v = vmas_.front(); v; v = vmas_.next(*v))
                if (v->start < a + len && a < v->end) blocker = v;
            if (!blocker) return a;
            a = blocker->end;
        }
        return Error(ENOMEM);
    }
    // Top down: first the room under USER_MMAP_BASE above the highest VMA
    // that starts below it, then the highest gap below a VMA at or under
    // that one, found by the tree's gap maxima.
    constexpr uptr ceiling = USER_MMAP_BASE;
    Vma* top = at_or_below(ceiling - 1);
    uptr floor = top ? top->end : USER_MMAP_MIN;
    if (floor < ceiling && ceiling - floor >= len) return ceiling - len;
    if (!top) return Error(ENOMEM);
    Vma* v = highest_gap(tree_.root(), top->start, len);
    if (!v) return Error(ENOMEM);
    return v->start - len;
}

void AddressSpace::insert(Vma* v) {
    v->gap_before = v->gap_max = 0;
    tree_.insert(*v);
    Vma* after = tree_.next(*v);
    if (after) vmas_.insert_before(*after, *v);
    else vmas_.push_back(*v);
    regap(v);
    regap(after);
}

void AddressSpace::unlink(Vma* v) {
    Vma* after = vmas_.next(*v);
    tree_.erase(*v);
    vmas_.remove(*v);
    regap(after);
}

void AddressSpace::attach(Vma* v) {
    v->as = this;
    if (v->backing) v->backing->get();
    if (v->file) v->file->ref();
    if (v->fmap) v->fmap->add(*v);
}

void AddressSpace::free_vma(Vma* v) {
    if (v->fmap) v->fmap->remove(*v);
    if (v->backing) v->backing->put();
    if (v->file) put_file(v->file);
    destroy(v);
}

Result<Vma*> AddressSpace::clone_vma(const Vma& v) {
    Vma* c = TRY(make_accounted<Vma>());
    c->start = v.start;
    c->end = v.end;
    c->prot = v.prot;
    c->flags = v.flags;
    c->vm = v.vm;
    c->backing = v.backing;
    c->file = v.file;
    c->fmap = v.fmap;
    c->offset = v.offset;
    c->fixed_phys = v.fixed_phys;
    c->zap_seq = v.zap_seq;
    c->anon_id = v.anon_id;
    return c;
}

Status AddressSpace::split(Vma* v, uptr at, bool limited) {
    if (limited && vmas_.size() >= max_map_count()) return Error(ENOMEM);
    Vma* tail = TRY(clone_vma(*v));
    tail->start = at;
    tail->offset = v->offset + (at - v->start);
    if (v->fixed_phys) tail->fixed_phys = v->fixed_phys + (at - v->start);
    v->end = at;
    attach(tail);
    insert(tail);
    return {};
}

Status AddressSpace::split_range(uptr start, uptr end) {
    if (Vma* v = find(start); v && v->start < start) TRY(split(v, start));
    if (Vma* v = find(end - 1); v && v->end > end) TRY(split(v, end));
    return {};
}

void AddressSpace::release_pages(uptr start, uptr end) {
    for_each_pte(pml4_, start, end, [](uptr, u64* pte) {
        u64 e = *pte;
        *pte = 0;
        if (pte_has_page(e) && !(e & PTE_CACHE)) release_user_page(e & arch::pte::ADDR_MASK);
    });
}

void AddressSpace::clear_ptes(uptr start, uptr end) {
    for_each_pte(pml4_, start, end, [](uptr, u64* pte) { *pte = 0; });
}

Status AddressSpace::unmap_locked(uptr start, uptr end) {
    // As Linux: unmapping may take the count of mappings past
    // vm.max_map_count for a moment, but not leave it there: only a hole
    // punched inside one mapping (one more VMA) is refused at the limit.
    if (Vma* v = find(start); v && v->start < start && v->end > end && vmas_.size() >= max_map_count())
        return Error(ENOMEM);
    for (Vma* v = first_ending_above(start); v && v->start < end;) {
        Vma* next = vmas_.next(*v);
        // A split can fail for lack of memory only: the rest of the range
        // stays mapped, and the caller reports ENOMEM.
        if (v->start < start) {
            TRY(split(v, start, false));
            v = vmas_.next(*v);
            continue;
        }
        if (v->end > end) TRY(split(v, end, false));
        if (v->fixed_phys) clear_ptes(v->start, v->end);
        else release_pages(v->start, v->end);
        unlink(v);
        free_vma(v);
        v = next;
    }
    return {};
}

Result<uptr> AddressSpace::map_kernel_pages_at(uptr addr, u64 phys, usize pages, u32 prot) {
    sched::MutexGuard g(lock_);
    if (!range_free(addr, addr + pages * PAGE_SIZE)) return Error(EEXIST);
    Vma* v = TRY(make_accounted<Vma>());
    v->start = addr;
    v->end = addr + pages * PAGE_SIZE;
    v->prot = prot & (PROT_READ | PROT_EXEC);
    v->flags = MAP_SHARED;
    v->vm = VM_MAYREAD | VM_MAYEXEC;
    v->fixed_phys = phys;
    attach(v);
    insert(v);
    return addr;
}

Result<uptr> AddressSpace::map(uptr addr, usize len, u32 prot, u32 flags, VmBacking* backing, u64 offset,
                               fs::File* file, u32 vm) {
    if (len == 0) return Error(EINVAL);
    usize size = align_up<usize>(len, PAGE_SIZE);
    if (size < len || size > USER_TOP) return Error(ENOMEM);
    if (!page_aligned(offset)) return Error(EINVAL);
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (fixed && !page_aligned(addr)) return Error(EINVAL);
    if (fixed && addr < mmap_min_addr()) return Error(EPERM);
    if (fixed && addr > USER_TOP - size) return Error(ENOMEM);
    FileMap* fmap = nullptr;
    if (file) fmap = TRY(FileMap::of(file->inode()));

    Vma* v = TRY(make_accounted<Vma>());
    v->prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
    v->flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN | MAP_ANONYMOUS);
    if (!v->shared() && (flags & MAP_NORESERVE)) vm |= VM_NORESERVE;
    else if (!v->shared() && (prot & PROT_WRITE)) vm |= VM_ACCOUNT;
    v->vm = vm;
    v->backing = backing;
    v->file = file;
    v->fmap = fmap;
    v->offset = offset;
    {
        sched::MutexGuard g(lock_);
        if (vmas_.size() > max_map_count()) {  // Linux's test, before anything is unmapped
            destroy(v);
            return Error(ENOMEM);
        }
        if (flags & MAP_FIXED_NOREPLACE) {
            if (!range_free(addr, addr + size)) {
                destroy(v);
                return Error(EEXIST);
            }
        } else if (flags & MAP_FIXED) {
            Status st = unmap_locked(addr, addr + size);
            flush_user(pml4_, addr, size / PAGE_SIZE);
            if (st.is_error()) {
                destroy(v);
                return st.error();
            }
        } else {
            auto where = find_free(size, align_down<uptr>(addr, PAGE_SIZE), flags & MAP_32BIT);
            if (where.is_error()) {
                destroy(v);
                return where.error();
            }
            addr = where.value();
        }
        v->start = addr;
        v->end = addr + size;
        v->vm |= ((flags & MAP_LOCKED) ? u32{VM_LOCKED} : 0u) | def_lock;
        vm = v->vm;  // v may go as soon as the lock does
        attach(v);
        insert(v);
        merge_range(addr, addr + size);
    }
    // MAP_NONBLOCK turns MAP_POPULATE off, as in Linux.
    if ((flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE || ((vm & VM_LOCKED) && !(vm & VM_LOCKONFAULT)))
        populate(addr, size);
    return addr;
}

Status AddressSpace::unmap(uptr addr, usize len) {
    if (!page_aligned(addr) || len == 0) return Error(EINVAL);
    usize size = align_up<usize>(len, PAGE_SIZE);
    if (addr >= USER_TOP || size > USER_TOP - addr) return Error(EINVAL);
    sched::MutexGuard g(lock_);
    Status st = unmap_locked(addr, addr + size);
    flush_user(pml4_, addr, size / PAGE_SIZE);
    return st;
}

u64 AddressSpace::pte_flags(const Vma& v, bool writable) const {
    u64 f = arch::pte::P | arch::pte::U;
    if (writable && (v.prot & PROT_WRITE)) f |= arch::pte::W;
    if (!(v.prot & PROT_EXEC)) f |= arch::pte::NX;
    return f;
}

Status AddressSpace::protect(uptr addr, usize len, u32 prot) {
    if (!page_aligned(addr)) return Error(EINVAL);
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return Error(EINVAL);
    usize size = align_up<usize>(len, PAGE_SIZE);
    if (size == 0) return {};
    uptr end = addr + size;
    if (end < addr || end > USER_TOP) return Error(ENOMEM);
    prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
    sched::MutexGuard g(lock_);
    // As Linux: VMAs before a hole, a refused one or a failed split keep
    // their new rights (and may join their neighbours).
    Status st = protect_locked(addr, end, prot);
    merge_range(addr, end);
    flush_user(pml4_, addr, size / PAGE_SIZE);
    return st;
}

Status AddressSpace::protect_locked(uptr addr, uptr end, u32 prot) {
    for (uptr a = addr; a < end;) {
        Vma* v = find(a);
        if (!v) return Error(ENOMEM);
        // The rights the mapping was made with bound what it may get.
        if (((prot & PROT_READ) && !(v->vm & VM_MAYREAD)) || ((prot & PROT_WRITE) && !(v->vm & VM_MAYWRITE)) ||
            ((prot & PROT_EXEC) && !(v->vm & VM_MAYEXEC)))
            return Error(EACCES);
        uptr piece_end = min(end, v->end);
        if (Vma* n = absorb(v, a, piece_end, prot)) {
            v = n;
        } else {
            if (v->start < a) TRY(split(v, a));
            v = find(a);
            if (v->end > end) TRY(split(v, end));
            v->vm = vm_after_protect(*v, prot);
            v->prot = v->fixed_phys ? prot & (PROT_READ | PROT_EXEC) : prot;
        }
        for_each_pte(pml4_, a, piece_end, [&](uptr, u64* pte) {
            u64 e = *pte;
            if (!pte_has_page(e)) return;
            if (v->fixed_phys) {
                *pte = 0;  // refault with the new rights
                return;
            }
            u64 pa = e & arch::pte::ADDR_MASK;
            bool cache = e & PTE_CACHE;
            if (!v->prot) {
                // PROT_NONE keeps the page, not present, for when rights return.
                *pte = pa | (e & PTE_CACHE) | PTE_PROTNONE | (e & arch::pte::W);
                return;
            }
            bool was_writable = e & arch::pte::W;
            // A shared (copy-on-write) page stays read-only until written;
            // a page-cache page of a private mapping always does.
            bool exclusive = cache ? v->shared() : page_frame(pa).map_count == 1;
            *pte = pa | (e & PTE_CACHE) | pte_flags(*v, cache && !v->shared() ? false : was_writable || exclusive);
        });
        a = piece_end;
    }
    return {};
}

// The start of the first VMA above `a`, or `end`. Lock held.
uptr AddressSpace::next_vma_start(uptr a, uptr end) {
    Vma* v = at_or_below(a);
    v = v ? vmas_.next(*v) : vmas_.front();
    return v ? min(v->start, end) : end;
}

Status AddressSpace::discard(uptr addr, usize len) {
    usize size = align_up<usize>(len, PAGE_SIZE);
    uptr end = addr + size;
    if (end < addr || end > USER_TOP) return Error(ENOMEM);
    sched::MutexGuard g(lock_);
    bool hole = false;
    for (uptr a = addr; a < end;) {
        Vma* v = find(a);
        if (!v) {
            // Skip the hole in one step: a page at a time, a range of the
            // whole address space took hours (sysfuzz found it).
            hole = true;
            a = next_vma_start(a, end);
            continue;
        }
        uptr stop = min(v->end, end);
        // Shared pages stay in their file; the mapping forgets them.
        if (!v->fixed_phys) release_pages(a, stop);
        a = stop;
    }
    flush_user(pml4_, addr, size / PAGE_SIZE);
    return hole ? Status(Error(ENOMEM)) : Status{};
}

Status AddressSpace::advise(uptr addr, usize len, int advice) {
    usize size = align_up<usize>(len, PAGE_SIZE);
    uptr end = addr + size;
    if (end < addr || end > USER_TOP) return Error(ENOMEM);
    if (size == 0) return {};
    sched::MutexGuard g(lock_);
    // WIPEONFORK is only for private anonymous memory (EINVAL otherwise).
    if (advice == MADV_WIPEONFORK) {
        for (uptr a = addr; a < end;) {
            Vma* v = find(a);
            if (!v) break;
            if (v->shared() || v->file || v->backing || v->fixed_phys) return Error(EINVAL);
            a = v->end;
        }
    }
    bool hole = false;
    for (uptr a = addr; a < end;) {
        Vma* v = find(a);
        if (!v) {
            hole = true;
            a = next_vma_start(a, end);
            continue;
        }
        // Pure hints keep no state here: only the range is checked.
        bool sets_state = advice == MADV_DONTFORK || advice == MADV_DOFORK || advice == MADV_WIPEONFORK ||
                          advice == MADV_KEEPONFORK;
        if (!sets_state) {
            a = min(v->end, end);
            continue;
        }
        if (v->start < a) TRY(split(v, a));
        v = find(a);
        if (v->end > end) TRY(split(v, end));
        switch (advice) {
        case MADV_DONTFORK: v->vm |= VM_DONTFORK; break;
        case MADV_DOFORK: v->vm &= ~VM_DONTFORK; break;
        case MADV_WIPEONFORK: v->vm |= VM_WIPEONFORK; break;
        case MADV_KEEPONFORK: v->vm &= ~VM_WIPEONFORK; break;
        }
        a = v->end;
    }
    // What now matches its neighbours again joins them, as Linux merges.
    merge_range(addr, end);
    return hole ? Status(Error(ENOMEM)) : Status{};
}

void AddressSpace::init_brk(uptr start) { brk_start_ = brk_ = align_up<uptr>(start, PAGE_SIZE); }

uptr AddressSpace::set_brk(uptr want) {
    sched::MutexGuard g(lock_);
    if (want < brk_start_) return brk_;
    uptr old_end = align_up<uptr>(brk_, PAGE_SIZE);
    uptr new_end = align_up<uptr>(want, PAGE_SIZE);
    if (new_end < old_end) {
        Status st = unmap_locked(new_end, old_end);
        flush_user(pml4_, new_end, (old_end - new_end) / PAGE_SIZE);
        if (st.is_error()) return brk_;
    } else if (new_end > old_end) {
        if (new_end > USER_MMAP_BASE || !range_free(old_end, new_end)) return brk_;
        if (vmas_.size() > max_map_count()) return brk_;
        // Overcommit's heuristic (vm.overcommit_memory 0): no single growth
        // beyond all of RAM.
        if ((new_end - old_end) / PAGE_SIZE > mem_stats().total_pages) return brk_;
        auto made = make_accounted<Vma>();
        if (made.is_error()) return brk_;
        Vma* v = made.value();
        v->start = old_end;
        v->end = new_end;
        v->prot = PROT_READ | PROT_WRITE;
        v->flags = MAP_PRIVATE | MAP_ANONYMOUS;
        v->vm = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | (def_lock & VM_LOCKED ? def_lock : 0);
        attach(v);
        insert(v);
        merge_range(old_end, new_end);  // the heap grows as one mapping
    }
    brk_ = want;
    return brk_;
}

Result<AddressSpace*> AddressSpace::fork() {
    for (int tries = 0;; ++tries) {
        AddressSpace* child = TRY(create());
        Status st;
        {
            sched::MutexGuard g(lock_);
            // A FileMap zap pass may reach the child as soon as its VMAs join.
            sched::MutexGuard cg(child->lock_);
            st = fork_into(child);
            // Write permissions just went from pages now shared with the
            // child. Every CPU drops its translations, not just this one:
            // another thread of this process kept writing through a stale
            // writable entry into the shared page, and the child saw the
            // writes (a forked child of a multithreaded process walked a
            // thread list another thread was changing and spun forever:
            // difftest cgroup_stress).
            tlb_shootdown_tables(pml4_, 0, USER_END / PAGE_SIZE);
        }
        if (st.is_ok()) return child;
        // The copied page tables are charged: over memory.max, with the
        // partial copy still charged so that the group shows over its limit,
        // its OOM killer makes room and fork tries again, as on Linux.
        bool retry = st.error().code() == ENOMEM && tries < 8 && memcg::handle_oom();
        child->put();
        if (!retry) return st.error();
    }
}

Status AddressSpace::fork_into(AddressSpace* child) {
    child->brk_start_ = brk_start_;
    child->brk_ = brk_;
    child->stack_top = stack_top;
    Status failed;
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v)) {
        if (v->vm & VM_DONTFORK) continue;
        Vma* c = TRY(clone_vma(*v));
        c->vm &= ~(VM_LOCKED | VM_LOCKONFAULT);  // locks are not inherited
        child->attach(c);
        child->insert(c);
        if (v->vm & VM_WIPEONFORK) continue;  // the child starts with zeros
        bool shared = v->shared();
        for_each_pte(pml4_, v->start, v->end, [&](uptr va, u64* pte) {
            if (failed.is_error() || !pte_has_page(*pte)) return;
            auto cpte = child->pte_alloc(va);
            if (cpte.is_error()) {
                failed = cpte.error();
                return;
            }
            if (v->fixed_phys || (*pte & PTE_CACHE)) {  // not owned: shared as they are
                *cpte.value() = *pte;
                return;
            }
            // Private pages become read-only in both spaces; the first write
            // on either side copies (the fault handler).
            if (!shared) *pte &= ~arch::pte::W;
            *cpte.value() = *pte;
            __atomic_add_fetch(&page_frame(*pte & arch::pte::ADDR_MASK).map_count, 1, __ATOMIC_RELAXED);
        });
        TRY(failed);
    }
    return {};
}

Status AddressSpace::poke(uptr addr, const void* src, usize n) {
    auto* from = static_cast<const u8*>(src);
    for (int oom_rounds = 0; n;) {
        usize k = min<usize>(n, PAGE_SIZE - (addr - align_down<uptr>(addr, PAGE_SIZE)));
        if (Status st = poke_page(addr, from, k); st.is_error()) {
            // Over a cgroup's memory.max (exec builds the new image here):
            // its OOM killer makes room, or not, as for a page fault.
            if (st.error().code() != ENOMEM || ++oom_rounds > 16 || !memcg::handle_oom()) return st;
            continue;
        }
        if (from) from += k;
        addr += k;
        n -= k;
    }
    return {};
}

Status AddressSpace::poke_page(uptr addr, const u8* from, usize k) {
    sched::MutexGuard g(lock_);
    uptr page_va = align_down<uptr>(addr, PAGE_SIZE);
    // Fault the page in as a write would (private copy), ignoring prot.
    Vma* v = find(addr);
    if (!v) return Error(EFAULT);
    u32 saved = v->prot;
    v->prot |= PROT_READ | PROT_WRITE;
    FileFault ff;
    FaultResult r = fault_locked(addr, true, false, &ff);
    v->prot = saved;
    if (ff.file) put_file(ff.file);
    if (ff.needed) return Error(EFAULT);  // exec writes only anonymous and copied pages
    if (r != FaultResult::Handled) return Error(r == FaultResult::OutOfMemory ? ENOMEM : EFAULT);
    u64* pte = arch::pte_lookup(pml4_, page_va);
    if (!(saved & PROT_WRITE)) *pte &= ~arch::pte::W;  // keep the user's view read-only
    u8* dst = static_cast<u8*>(phys_to_virt(*pte & arch::pte::ADDR_MASK)) + (addr - page_va);
    if (from) __builtin_memcpy(dst, from, k);
    else __builtin_memset(dst, 0, k);
    return {};
}

Status AddressSpace::poke_zero(uptr addr, usize n) { return poke(addr, nullptr, n); }

usize AddressSpace::peek(uptr addr, void* dst, usize n) {
    auto* to = static_cast<u8*>(dst);
    usize done = 0;
    int tries = 0;
    while (done < n) {
        uptr va = addr + done;
        if (va < addr || va >= USER_TOP) break;
        uptr page_va = align_down<uptr>(va, PAGE_SIZE);
        usize k = min<usize>(n - done, PAGE_SIZE - (va - page_va));
        {
            sched::MutexGuard g(lock_);
            if (!find(va)) break;
            u64* pte = arch::pte_lookup(pml4_, page_va);
            if (pte && (*pte & arch::pte::P)) {
                __builtin_memcpy(to + done, static_cast<u8*>(phys_to_virt(*pte & arch::pte::ADDR_MASK)) + (va - page_va), k);
                done += k;
                tries = 0;
                continue;
            }
        }
        // Not present: fault it in (lock_ dropped: file pages need the
        // inode lock first), then look again; a page unmapped meanwhile
        // ends the copy after a few rounds.
        if (++tries > 3 || handle_fault(va, false, false) != FaultResult::Handled) break;
    }
    return done;
}

bool AddressSpace::file_info(const Vma& v, VmaFileInfo& out) const {
    if (!v.file) return false;
    fs::Inode& inode = v.file->inode();
    out.file = v.file;
    out.offset = v.offset;
    out.dev = fs::encode_dev(inode.sb().dev());
    out.ino = inode.ino();
    return true;
}

}  // namespace keel::mm
