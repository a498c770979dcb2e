// Page faults: demand paging of anonymous memory and file pages,
// copy-on-write, stack growth; prefaulting (MAP_POPULATE, mlock) and the
// removal of file pages a file system is about to free.
#include <linux/resource.h>

#include "fs/core/file.h"
#include "kernel/cgroup/memcg.h"
#include "kernel/process/process.h"
#include "kernel/smp.h"
#include "lib/alloc.h"
#include "mm/address_space.h"
#include "mm/file_map.h"
#include "mm/page_alloc.h"
#include "mm/vm_internal.h"

namespace keel::mm {

namespace {

bool access_ok(const Vma& v, bool write, bool exec) {
    if (write && !(v.prot & PROT_WRITE)) return false;
    if (exec && !(v.prot & PROT_EXEC)) return false;
    return v.prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
}

// A new anonymous page, charged to the faulting thread's cgroup (ENOMEM
// over its memory.max: the caller's handle_fault runs the OOM killer).
Result<void*> alloc_user_page() {
    void* page = TRY(alloc_page_zeroed());
    PageFrame& f = page_frame(virt_to_phys(page));
    if (memcg::try_charge_frame(f, memcg::ANON).is_error()) {
        free_page(page);
        return Error(ENOMEM);
    }
    f.map_count = 1;
    return page;
}

// Gives back a page of alloc_user_page that was never mapped.
void free_user_page(void* page) {
    memcg::uncharge_frame(page_frame(virt_to_phys(page)));
    free_page(page);
}

// A private copy of the page at `src` (a page-cache page or a shared one).
Result<u64> copy_page(const void* src) {
    void* copy = TRY(alloc_user_page());
    __builtin_memcpy(copy, src, PAGE_SIZE);
    return virt_to_phys(copy);
}

}  // namespace

// A fault below a MAP_GROWSDOWN mapping extends it down to the page, as
// long as the guard gap to the mapping below stays clear and RLIMIT_STACK
// allows the size.
bool AddressSpace::grow_stack(uptr addr) {
    Vma* v = first_ending_above(addr);
    if (!v || !(v->flags & MAP_GROWSDOWN) || addr >= v->start) return false;
    uptr new_start = align_down<uptr>(addr, PAGE_SIZE);
    if (new_start < USER_MMAP_MIN) return false;
    Vma* prev = prev_of(v);
    if (prev && !(prev->flags & MAP_GROWSDOWN) && prev->prot && new_start - prev->end < STACK_GUARD_GAP) return false;
    if (prev && prev->end > new_start) return false;
    if (proc::Process* p = proc::current_process()) {
        if (v->end - new_start > p->rlimits[RLIMIT_STACK].cur) return false;
    }
    v->offset -= v->start - new_start;
    v->start = new_start;
    regap(v);
    return true;
}

FaultResult AddressSpace::fault_locked(uptr addr, bool write, bool exec, FileFault* ff) {
    Vma* v = find(addr);
    if (!v) {
        if (!grow_stack(addr)) return FaultResult::MapError;
        v = find(addr);
    }
    if (!access_ok(*v, write, exec)) return FaultResult::AccessError;
    uptr page_va = align_down<uptr>(addr, PAGE_SIZE);
    auto pte_r = pte_alloc(page_va);
    if (pte_r.is_error()) return FaultResult::OutOfMemory;
    u64* pte = pte_r.value();
    u64 e = *pte;
    if (e & arch::pte::P) {
        if (!write || (e & arch::pte::W)) return FaultResult::Handled;  // another thread got here first
        u64 pa = e & arch::pte::ADDR_MASK;
        if (e & PTE_CACHE) {
            if (v->shared()) {
                *pte = e | arch::pte::W;
            } else {
                // The first write to a private file page copies it.
                auto copy = copy_page(phys_to_virt(pa));
                if (copy.is_error()) return FaultResult::OutOfMemory;
                *pte = copy.value() | pte_flags(*v, true);
            }
        } else if (page_frame(pa).map_count > 1) {
            // Copy on write: this space gets its own copy.
            auto copy = copy_page(phys_to_virt(pa));
            if (copy.is_error()) return FaultResult::OutOfMemory;
            note_anon_page(v);
            *pte = copy.value() | pte_flags(*v, true);
            release_user_page(pa);
        } else {
            *pte = e | arch::pte::W;
        }
        flush_user(pml4_, page_va, 1);
        return FaultResult::Handled;
    }
    if (v->fixed_phys) {
        *pte = (v->fixed_phys + (page_va - v->start)) | pte_flags(*v, false);
        return FaultResult::Handled;
    }
    if (v->file) {
        ff->needed = true;
        ff->file = v->file;
        v->file->ref();
        ff->index = (v->offset + (page_va - v->start)) / PAGE_SIZE;
        return FaultResult::Handled;
    }
    auto page = alloc_user_page();
    if (page.is_error()) return FaultResult::OutOfMemory;
    // Linux maps its zero page for a read: only a write gives the
    // mapping anonymous pages of its own.
    if (write && !v->backing) note_anon_page(v);
    if (v->backing && v->backing->read_page(v->offset + (page_va - v->start), page.value()).is_error()) {
        free_user_page(page.value());
        return FaultResult::BusError;
    }
    u64 pa = virt_to_phys(page.value());
    *pte = pa | pte_flags(*v, true);
    return FaultResult::Handled;
}

FaultResult AddressSpace::install_file_page(uptr addr, bool write, const FileFault& ff, void* page, u64 gen,
                                            bool* retry) {
    uptr page_va = align_down<uptr>(addr, PAGE_SIZE);
    Vma* v = find(addr);
    // Anything changed meanwhile (a truncate, an munmap, an mprotect): the
    // whole fault runs again.
    if (!v || v->file != ff.file || v->fmap->generation() != gen ||
        (v->offset + (page_va - v->start)) / PAGE_SIZE != ff.index || !access_ok(*v, write, false)) {
        *retry = true;
        return FaultResult::Handled;
    }
    auto pte_r = pte_alloc(page_va);
    if (pte_r.is_error()) return FaultResult::OutOfMemory;
    u64* pte = pte_r.value();
    if (pte_has_page(*pte)) {
        *retry = true;
        return FaultResult::Handled;
    }
    u64 pa = virt_to_phys(page);
    if (v->shared()) {
        *pte = pa | PTE_CACHE | pte_flags(*v, true);
    } else if (write) {
        auto copy = copy_page(page);
        if (copy.is_error()) return FaultResult::OutOfMemory;
        *pte = copy.value() | pte_flags(*v, true);
    } else {
        *pte = pa | PTE_CACHE | pte_flags(*v, false);
    }
    return FaultResult::Handled;
}

FaultResult AddressSpace::handle_fault(uptr addr, bool write, bool exec) {
    for (int oom_rounds = 0;;) {
        FileFault ff;
        {
            sched::MutexGuard g(lock_);
            FaultResult r = fault_locked(addr, write, exec, &ff);
            if (!ff.needed && r != FaultResult::OutOfMemory) return r;
        }
        if (!ff.needed) {
            // Out of memory: over a cgroup's memory.max, its OOM killer
            // (without this space's lock: the victim may be this process)
            // makes room, or not.
            if (++oom_rounds > 16 || !memcg::handle_oom()) return FaultResult::OutOfMemory;
            continue;
        }
        // The page comes from the file with lock_ released (the inode lock
        // ranks above it).
        RefPtr<fs::File> file = RefPtr<fs::File>::adopt(ff.file);
        fs::Inode& inode = file->inode();
        void* page = nullptr;
        u64 gen = 0;
        {
            // read(2) and write(2) copy with the inode lock held; a fault
            // on a mapping of the same file then already has it.
            bool own = inode.lock().held_by_current();
            if (!own) inode.lock().lock();
            u64 size = inode.attr_locked().size;
            bool in_file = ff.index < align_up<u64>(size, PAGE_SIZE) / PAGE_SIZE;
            Result<void*> p = in_file ? inode.get_page(ff.index, true) : Result<void*>(Error(EFAULT));
            gen = static_cast<FileMap*>(inode.page_map_locked())->generation();
            if (!own) inode.lock().unlock();
            if (p.is_error()) return p.error().code() == ENOMEM ? FaultResult::OutOfMemory : FaultResult::BusError;
            page = p.value();
        }
        sched::MutexGuard g(lock_);
        bool retry = false;
        FaultResult r = install_file_page(addr, write, ff, page, gen, &retry);
        if (!retry) return r;
    }
}

void AddressSpace::populate(uptr addr, usize len) {
    for (uptr va = addr; va < addr + len; va += PAGE_SIZE) {
        bool write;
        {
            sched::MutexGuard g(lock_);
            Vma* v = find(va);
            if (!v) return;
            if (!v->prot) {
                va = v->end - PAGE_SIZE;
                continue;
            }
            // Writable private memory is populated as written (its own
            // copies); everything else as read.
            write = (v->prot & PROT_WRITE) && !v->shared();
        }
        if (handle_fault(va, write, false) != FaultResult::Handled) return;
    }
}

void AddressSpace::zap_file_pages(FileMap* fmap, u64 seq, u64 first, u64 end, bool private_copies) {
    sched::MutexGuard g(lock_);
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v)) {
        if (v->fmap != fmap) continue;
        v->zap_seq = seq;
        u64 vfirst = v->offset / PAGE_SIZE;
        u64 vend = vfirst + (v->end - v->start) / PAGE_SIZE;
        u64 lo = max(first, vfirst), hi = min(end, vend);
        if (lo >= hi) continue;
        uptr from = v->start + (lo - vfirst) * PAGE_SIZE;
        uptr to = v->start + (hi - vfirst) * PAGE_SIZE;
        bool private_map = !v->shared();
        for_each_pte(pml4_, from, to, [&](uptr, u64* pte) {
            u64 e = *pte;
            if (!pte_has_page(e)) return;
            if (e & PTE_CACHE) {
                *pte = 0;
            } else if (private_copies && private_map) {
                *pte = 0;
                release_user_page(e & arch::pte::ADDR_MASK);
            }
        });
        tlb_shootdown_tables(pml4_, from, (to - from) / PAGE_SIZE);
    }
}

}  // namespace keel::mm
