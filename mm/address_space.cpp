#include "mm/address_space.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/smp.h"
#include "lib/alloc.h"
#include "mm/layout.h"
#include "mm/page_alloc.h"

namespace keel::mm {

namespace {

bool page_aligned(uptr v) { return (v & (PAGE_SIZE - 1)) == 0; }

void release_user_page(u64 pa) {
    PageFrame& f = page_frame(pa);
    if (__atomic_sub_fetch(&f.map_count, 1, __ATOMIC_ACQ_REL) == 0) free_pages(pa, 0);
}

void flush(uptr va, usize pages) {
    // The caller changed live translations of this address space; other
    // CPUs may run its threads.
    if (arch::irqs_enabled()) tlb_shootdown(va, pages);
    else for (usize i = 0; i < pages; ++i) arch::invlpg(va + i * PAGE_SIZE);
}

}  // namespace

Result<AddressSpace*> AddressSpace::create() {
    AddressSpace* as = TRY(make<AddressSpace>());
    auto pml4 = arch::new_user_pml4();
    if (pml4.is_error()) {
        destroy(as);
        return pml4.error();
    }
    as->pml4_ = pml4.value();
    return as;
}

AddressSpace::~AddressSpace() {
    // Kernel pages are not ours to free: unhook them before the sweep.
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v))
        if (v->fixed_phys) clear_ptes(v->start, v->end);
    while (Vma* v = vmas_.pop_front()) {
        if (v->backing) v->backing->put();
        destroy(v);
    }
    if (pml4_) {
        arch::free_user_half(pml4_, release_user_page);
        free_pages(pml4_, 0);
    }
}

void AddressSpace::put() {
    if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0) destroy(this);
}

void AddressSpace::activate() const { arch::write_cr3(pml4_); }

Vma* AddressSpace::find(uptr addr) {
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v)) {
        if (addr < v->start) return nullptr;
        if (addr < v->end) return v;
    }
    return nullptr;
}

bool AddressSpace::range_free(uptr start, uptr end) {
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v))
        if (v->start < end && start < v->end) return false;
    return true;
}

// Top-down first fit below the mmap base, as Linux's default layout does.
Result<uptr> AddressSpace::find_free(usize len, uptr hint) {
    if (hint && hint >= USER_MMAP_MIN && hint <= USER_TOP - len && range_free(hint, hint + len)) return hint;
    uptr ceiling = USER_MMAP_BASE;
    Vma* v = vmas_.back();
    // Walk the gaps from the highest down.
    for (;;) {
        uptr floor = v ? v->end : USER_MMAP_MIN;
        if (floor < ceiling && ceiling - floor >= len) {
            if (!v || v->end <= ceiling - len) return ceiling - len;
        }
        if (!v) return Error(ENOMEM);
        if (v->start < ceiling) ceiling = v->start;
        Vma* prev = nullptr;
        for (Vma* w = vmas_.front(); w && w != v; w = vmas_.next(*w)) prev = w;
        v = prev;
    }
}

void AddressSpace::insert(Vma* v) {
    Vma* pos = vmas_.front();
    while (pos && pos->start < v->start) pos = vmas_.next(*pos);
    if (pos) vmas_.insert_before(*pos, *v);
    else vmas_.push_back(*v);
}

Status AddressSpace::split(Vma* v, uptr at) {
    Vma* tail = TRY(make<Vma>());
    *tail = Vma{};
    tail->start = at;
    tail->end = v->end;
    tail->prot = v->prot;
    tail->flags = v->flags;
    tail->backing = v->backing;
    tail->offset = v->offset + (at - v->start);
    if (tail->backing) tail->backing->get();
    v->end = at;
    insert(tail);
    return {};
}

void AddressSpace::release_pages(uptr start, uptr end) {
    for (uptr va = start; va < end; va += PAGE_SIZE) {
        u64* pte = arch::pte_lookup(pml4_, va);
        if (!pte || !(*pte & arch::pte::P)) continue;
        u64 pa = *pte & arch::pte::ADDR_MASK;
        *pte = 0;
        release_user_page(pa);
    }
}

void AddressSpace::clear_ptes(uptr start, uptr end) {
    for (uptr va = start; va < end; va += PAGE_SIZE)
        if (u64* pte = arch::pte_lookup(pml4_, va)) *pte = 0;
}

void AddressSpace::unmap_locked(uptr start, uptr end) {
    for (Vma* v = vmas_.front(); v;) {
        Vma* next = vmas_.next(*v);
        if (v->end <= start || v->start >= end) {
            v = next;
            continue;
        }
        // Splits cannot fail here for lack of memory in a way that loses
        // data: at worst the range stays mapped (ENOMEM reported by the caller).
        if (v->start < start && split(v, start).is_error()) return;
        if (v->start < start) {
            v = vmas_.next(*v);
            continue;
        }
        if (v->end > end && split(v, end).is_error()) return;
        if (v->fixed_phys) clear_ptes(v->start, v->end);
        else release_pages(v->start, v->end);
        vmas_.remove(*v);
        if (v->backing) v->backing->put();
        destroy(v);
        v = next;
    }
}

Result<uptr> AddressSpace::map_kernel_pages_at(uptr addr, u64 phys, usize pages, u32 prot) {
    sched::MutexGuard g(lock_);
    if (!range_free(addr, addr + pages * PAGE_SIZE)) return Error(EEXIST);
    Vma* v = TRY(make<Vma>());
    v->start = addr;
    v->end = addr + pages * PAGE_SIZE;
    v->prot = prot & (PROT_READ | PROT_EXEC);
    v->flags = MAP_SHARED;
    v->fixed_phys = phys;
    insert(v);
    return addr;
}

Result<uptr> AddressSpace::map(uptr addr, usize len, u32 prot, u32 flags, VmBacking* backing, u64 offset) {
    if (len == 0) return Error(EINVAL);
    usize size = align_up<usize>(len, PAGE_SIZE);
    if (size < len || size > USER_TOP) return Error(ENOMEM);
    if (!page_aligned(offset)) return Error(EINVAL);
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (fixed && !page_aligned(addr)) return Error(EINVAL);
    if (fixed && addr < USER_MMAP_MIN) return Error(EPERM);  // below vm.mmap_min_addr
    if (fixed && addr > USER_TOP - size) return Error(ENOMEM);

    sched::MutexGuard g(lock_);
    if (flags & MAP_FIXED_NOREPLACE) {
        if (!range_free(addr, addr + size)) return Error(EEXIST);
    } else if (flags & MAP_FIXED) {
        unmap_locked(addr, addr + size);
        flush(addr, size / PAGE_SIZE);
    } else {
        addr = TRY(find_free(size, align_down<uptr>(addr, PAGE_SIZE)));
    }
    Vma* v = TRY(make<Vma>());
    v->start = addr;
    v->end = addr + size;
    v->prot = prot;
    v->flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN | MAP_ANONYMOUS);
    v->backing = backing;
    v->offset = offset;
    if (backing) backing->get();
    insert(v);
    return addr;
}

Status AddressSpace::unmap(uptr addr, usize len) {
    if (!page_aligned(addr) || len == 0) return Error(EINVAL);
    usize size = align_up<usize>(len, PAGE_SIZE);
    if (addr >= USER_TOP || size > USER_TOP - addr) return Error(EINVAL);
    sched::MutexGuard g(lock_);
    unmap_locked(addr, addr + size);
    flush(addr, size / PAGE_SIZE);
    return {};
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
    sched::MutexGuard g(lock_);
    // Every page of the range must be mapped (ENOMEM otherwise), as Linux.
    for (uptr a = addr; a < end;) {
        Vma* v = find(a);
        if (!v) return Error(ENOMEM);
        a = v->end;
    }
    for (uptr a = addr; a < end;) {
        Vma* v = find(a);
        if (v->start < a) TRY(split(v, a));
        v = find(a);
        if (v->end > end) TRY(split(v, end));
        if (v->fixed_phys) {
            // Kernel pages are never writable from user space.
            if (prot & PROT_WRITE) return Error(EACCES);
            v->prot = prot & (PROT_READ | PROT_EXEC);
            clear_ptes(v->start, v->end);  // refault with the new rights
            a = v->end;
            continue;
        }
        v->prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
        for (uptr va = v->start; va < v->end; va += PAGE_SIZE) {
            u64* pte = arch::pte_lookup(pml4_, va);
            if (!pte || !(*pte & arch::pte::P)) continue;
            bool was_writable = *pte & arch::pte::W;
            u64 pa = *pte & arch::pte::ADDR_MASK;
            // A shared (copy-on-write) page stays read-only until written.
            bool exclusive = page_frame(pa).map_count == 1;
            *pte = pa | pte_flags(*v, was_writable || exclusive);
            if (!(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC))) *pte &= ~arch::pte::P;
        }
        a = v->end;
    }
    flush(addr, size / PAGE_SIZE);
    return {};
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
            hole = true;
            a += PAGE_SIZE;
            continue;
        }
        uptr stop = min(v->end, end);
        if (!(v->flags & MAP_SHARED)) release_pages(a, stop);
        a = stop;
    }
    flush(addr, size / PAGE_SIZE);
    return hole ? Status(Error(ENOMEM)) : Status{};
}

void AddressSpace::init_brk(uptr start) { brk_start_ = brk_ = align_up<uptr>(start, PAGE_SIZE); }

uptr AddressSpace::set_brk(uptr want) {
    sched::MutexGuard g(lock_);
    if (want < brk_start_) return brk_;
    uptr old_end = align_up<uptr>(brk_, PAGE_SIZE);
    uptr new_end = align_up<uptr>(want, PAGE_SIZE);
    if (new_end < old_end) {
        unmap_locked(new_end, old_end);
        flush(new_end, (old_end - new_end) / PAGE_SIZE);
    } else if (new_end > old_end) {
        if (new_end > USER_MMAP_BASE || !range_free(old_end, new_end)) return brk_;
        auto made = make<Vma>();
        if (made.is_error()) return brk_;
        Vma* v = made.value();
        v->start = old_end;
        v->end = new_end;
        v->prot = PROT_READ | PROT_WRITE;
        v->flags = MAP_PRIVATE | MAP_ANONYMOUS;
        insert(v);
    }
    brk_ = want;
    return brk_;
}

FaultResult AddressSpace::handle_fault(uptr addr, bool write, bool exec) {
    sched::MutexGuard g(lock_);
    return fault_locked(addr, write, exec);
}

Result<AddressSpace*> AddressSpace::fork() {
    AddressSpace* child = TRY(create());
    sched::MutexGuard g(lock_);
    child->brk_start_ = brk_start_;
    child->brk_ = brk_;
    child->stack_top = stack_top;
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v)) {
        auto copy = make<Vma>();
        if (copy.is_error()) {
            child->put();
            return copy.error();
        }
        Vma* c = copy.value();
        c->start = v->start;
        c->end = v->end;
        c->prot = v->prot;
        c->flags = v->flags;
        c->backing = v->backing;
        c->offset = v->offset;
        c->fixed_phys = v->fixed_phys;
        if (c->backing) c->backing->get();
        child->vmas_.push_back(*c);
        bool shared = v->flags & MAP_SHARED;
        for (uptr va = v->start; va < v->end; va += PAGE_SIZE) {
            u64* pte = arch::pte_lookup(pml4_, va);
            if (!pte) {
                // No page table here: skip the rest of its 2 MiB.
                va = align_up<uptr>(va + 1, 2 * MiB) - PAGE_SIZE;
                continue;
            }
            if (!(*pte & arch::pte::P)) continue;
            auto cpte = arch::pte_create(child->pml4_, va);
            if (cpte.is_error()) {
                child->put();
                return cpte.error();
            }
            if (v->fixed_phys) {  // kernel pages: shared as they are
                *cpte.value() = *pte;
                continue;
            }
            // Private pages become read-only in both spaces; the first write
            // on either side copies (handle_fault).
            if (!shared) *pte &= ~arch::pte::W;
            *cpte.value() = *pte;
            __atomic_add_fetch(&page_frame(*pte & arch::pte::ADDR_MASK).map_count, 1, __ATOMIC_RELAXED);
        }
    }
    // This space's write permissions just changed under its running thread.
    arch::flush_tlb_local();
    return child;
}

Status AddressSpace::poke(uptr addr, const void* src, usize n) {
    sched::MutexGuard g(lock_);
    auto* from = static_cast<const u8*>(src);
    while (n) {
        uptr page_va = align_down<uptr>(addr, PAGE_SIZE);
        // Fault the page in as a write would (private copy), ignoring prot.
        Vma* v = find(addr);
        if (!v) return Error(EFAULT);
        u32 saved = v->prot;
        v->prot |= PROT_READ | PROT_WRITE;
        FaultResult r = fault_locked(addr, true, false);
        v->prot = saved;
        if (r != FaultResult::Handled) return Error(r == FaultResult::OutOfMemory ? ENOMEM : EFAULT);
        u64* pte = arch::pte_lookup(pml4_, page_va);
        if (!(saved & PROT_WRITE)) *pte &= ~arch::pte::W;  // keep the user's view read-only
        usize off = addr - page_va;
        usize k = min<usize>(n, PAGE_SIZE - off);
        u8* dst = static_cast<u8*>(phys_to_virt(*pte & arch::pte::ADDR_MASK)) + off;
        if (from) __builtin_memcpy(dst, from, k);
        else __builtin_memset(dst, 0, k);
        if (from) from += k;
        addr += k;
        n -= k;
    }
    return {};
}

Status AddressSpace::poke_zero(uptr addr, usize n) { return poke(addr, nullptr, n); }

FaultResult AddressSpace::fault_locked(uptr addr, bool write, bool exec) {
    Vma* v = find(addr);
    if (!v) return FaultResult::MapError;
    if ((write && !(v->prot & PROT_WRITE)) || (exec && !(v->prot & PROT_EXEC)) ||
        !(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
        return FaultResult::AccessError;
    uptr page_va = align_down<uptr>(addr, PAGE_SIZE);
    auto pte_r = arch::pte_create(pml4_, page_va);
    if (pte_r.is_error()) return FaultResult::OutOfMemory;
    u64* pte = pte_r.value();
    if (*pte & arch::pte::P) {
        if (!write || (*pte & arch::pte::W)) return FaultResult::Handled;  // another thread got here first
        u64 pa = *pte & arch::pte::ADDR_MASK;
        if (page_frame(pa).map_count > 1) {
            // Copy on write: this space gets its own copy.
            auto copy = alloc_page_zeroed();
            if (copy.is_error()) return FaultResult::OutOfMemory;
            __builtin_memcpy(copy.value(), phys_to_virt(pa), PAGE_SIZE);
            u64 npa = virt_to_phys(copy.value());
            page_frame(npa).map_count = 1;
            *pte = npa | pte_flags(*v, true);
            release_user_page(pa);
        } else {
            *pte |= arch::pte::W;
        }
        flush(page_va, 1);
        return FaultResult::Handled;
    }
    if (v->fixed_phys) {
        *pte = (v->fixed_phys + (page_va - v->start)) | pte_flags(*v, false);
        return FaultResult::Handled;
    }
    auto page = alloc_page_zeroed();
    if (page.is_error()) return FaultResult::OutOfMemory;
    if (v->backing && v->backing->read_page(v->offset + (page_va - v->start), page.value()).is_error()) {
        free_page(page.value());
        return FaultResult::BusError;
    }
    u64 pa = virt_to_phys(page.value());
    page_frame(pa).map_count = 1;
    *pte = pa | pte_flags(*v, true);
    return FaultResult::Handled;
}

}  // namespace keel::mm
