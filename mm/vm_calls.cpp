// The memory calls beyond mmap/munmap/mprotect: mremap, msync, mincore,
// the mlock family and MADV_REMOVE's lookup, with Linux 6.12's errno rules.
#include "fs/core/file.h"
#include "lib/alloc.h"
#include "mm/address_space.h"
#include "mm/file_map.h"
#include "mm/page_alloc.h"
#include "mm/vm_internal.h"

namespace keel::mm {

Status AddressSpace::move_ptes(uptr from, uptr to, usize len) {
    Status st;
    for_each_pte(pml4_, from, from + len, [&](uptr va, u64* pte) {
        if (st.is_error() || !pte_has_page(*pte)) return;
        auto dst = pte_alloc(to + (va - from));
        if (dst.is_error()) {
            st = dst.error();
            return;
        }
        // pte_create may have added a table, but never moves existing ones.
        *dst.value() = *pte;
        *pte = 0;
    });
    flush_user(pml4_, from, len / PAGE_SIZE);
    return st;
}

Result<uptr> AddressSpace::remap(uptr old_addr, usize old_len, usize new_len, u32 flags, uptr new_addr) {
    bool fixed = flags & MREMAP_FIXED;
    bool dontunmap = flags & MREMAP_DONTUNMAP;
    old_len = align_up<usize>(old_len, PAGE_SIZE);
    new_len = align_up<usize>(new_len, PAGE_SIZE);
    if (new_len == 0) return Error(EINVAL);
    sched::MutexGuard g(lock_);
    Vma* v = find(old_addr);
    if (!v) return Error(EFAULT);
    if (old_len == 0) {
        // A second mapping of the same shared pages.
        if (!v->shared() || !v->file) return Error(EINVAL);
        if (!(flags & MREMAP_MAYMOVE)) return Error(ENOMEM);
    }
    if (fixed || dontunmap) {
        if (!page_aligned(new_addr)) return Error(EINVAL);
        if (new_len > USER_TOP || new_addr > USER_TOP - new_len) return Error(EINVAL);
        if (old_addr + old_len > new_addr && new_addr + new_len > old_addr) return Error(EINVAL);
        if (fixed) {
            if (new_addr < mmap_min_addr()) return Error(EPERM);
            // Linux's room for the unmap's split and the move's below the
            // limit, before anything is unmapped.
            if (vmas_.size() + 2 + 3 >= max_map_count()) return Error(ENOMEM);
            Status st = unmap_locked(new_addr, new_addr + new_len);
            flush_user(pml4_, new_addr, new_len / PAGE_SIZE);
            TRY(st);
        }
        if (old_len > new_len) {
            Status st = unmap_locked(old_addr + new_len, old_addr + old_len);
            flush_user(pml4_, old_addr + new_len, (old_len - new_len) / PAGE_SIZE);
            TRY(st);
            old_len = new_len;
        }
        v = find(old_addr);
        if (!v) return Error(EFAULT);
    } else if (old_len >= new_len) {
        if (old_len != new_len) {
            Status st = unmap_locked(old_addr + new_len, old_addr + old_len);
            flush_user(pml4_, old_addr + new_len, (old_len - new_len) / PAGE_SIZE);
            TRY(st);
        }
        return old_addr;
    }
    if (old_len > v->end - old_addr) return Error(EFAULT);  // spans mappings
    if (v->fixed_phys && old_len != new_len) return Error(EFAULT);
    // Grow in place when the pages after it are free.
    if (!fixed && !dontunmap && old_len && v->end == old_addr + old_len && old_addr + new_len <= USER_TOP &&
        range_free(v->end, old_addr + new_len)) {
        v->end = old_addr + new_len;
        regap(vmas_.next(*v));
        return old_addr;
    }
    if (!(flags & MREMAP_MAYMOVE)) return Error(ENOMEM);
    if (!fixed) {
        bool hint = dontunmap && new_addr && range_free(new_addr, new_addr + new_len);
        new_addr = hint ? new_addr : TRY(find_free(new_len, 0));
    }
    // A move may split the source and leave the destination unmerged: as
    // Linux, it needs three mappings of room below vm.max_map_count.
    if (vmas_.size() + 3 >= max_map_count()) return Error(ENOMEM);
    if (old_len) TRY(split_range(old_addr, old_addr + old_len));
    Vma* src = find(old_addr);
    Vma* dst = TRY(clone_vma(*src));
    dst->offset = src->offset + (old_addr - src->start);
    dst->start = new_addr;
    dst->end = new_addr + new_len;
    attach(dst);
    insert(dst);
    if (old_len == 0) return new_addr;
    Status moved = move_ptes(old_addr, new_addr, old_len);
    if (dontunmap) src->vm &= ~(VM_LOCKED | VM_LOCKONFAULT);
    else if (Status un = unmap_locked(old_addr, old_addr + old_len); moved.is_ok()) moved = un;
    TRY(moved);
    return new_addr;
}

Status AddressSpace::sync(uptr addr, usize len, int flags) {
    usize size = align_up<usize>(len, PAGE_SIZE);
    uptr end = addr + size;
    if (end < addr) return Error(ENOMEM);
    if (end == addr) return {};
    sched::MutexGuard g(lock_);
    bool hole = false;
    for (uptr a = addr;;) {
        Vma* v = first_ending_above(a);
        if (!v) return Error(ENOMEM);
        if (a < v->start) {
            if (flags == MS_ASYNC) return Error(ENOMEM);
            a = v->start;
            if (a >= end) return Error(ENOMEM);
            hole = true;
        }
        if ((flags & MS_INVALIDATE) && (v->vm & VM_LOCKED)) return Error(EBUSY);
        // tmpfs pages are the file: nothing to write back or reread.
        a = v->end;
        if (a >= end) break;
    }
    return hole ? Status(Error(ENOMEM)) : Status{};
}

Status AddressSpace::residency(uptr addr, usize pages, u8* vec) {
    uptr end = addr + pages * PAGE_SIZE;
    for (uptr a = addr; a < end;) {
        RefPtr<fs::File> file;
        u64 first_index = 0;
        uptr stop;
        {
            sched::MutexGuard g(lock_);
            Vma* v = find(a);
            if (!v) return Error(ENOMEM);
            stop = min<uptr>(v->end, end);
            for (uptr va = a; va < stop; va += PAGE_SIZE) {
                u64* pte = arch::pte_lookup(pml4_, va);
                vec[(va - addr) / PAGE_SIZE] = pte && pte_has_page(*pte) ? 1 : 0;
            }
            if (v->file) {
                v->file->ref();
                file = RefPtr<fs::File>::adopt(v->file);
                first_index = (v->offset + (a - v->start)) / PAGE_SIZE;
            }
        }
        // Pages of a file mapping are resident when the file has them.
        if (file) {
            fs::Inode& inode = file->inode();
            fs::FsLockGuard ig(inode.lock());
            for (uptr va = a; va < stop; va += PAGE_SIZE) {
                u8& slot = vec[(va - addr) / PAGE_SIZE];
                if (slot) continue;
                auto page = inode.get_page(first_index + (va - a) / PAGE_SIZE, false);
                slot = page.is_ok() && page.value() ? 1 : 0;
            }
        }
        a = stop;
    }
    return {};
}

Status AddressSpace::set_locked(uptr addr, usize len, u32 lock) {
    uptr end = addr + len;
    if (end < addr || end > USER_TOP) return Error(ENOMEM);
    if (len == 0) return {};
    {
        sched::MutexGuard g(lock_);
        Vma* v = find(addr);
        if (!v) return Error(ENOMEM);
        bool hole = false;
        for (uptr a = addr; a < end;) {
            v = find(a);
            if (!v) {
                hole = true;
                break;
            }
            if (v->fixed_phys) {  // special mappings are never locked
                a = v->end;
                continue;
            }
            if (v->start < a) TRY(split(v, a));
            v = find(a);
            if (v->end > end) TRY(split(v, end));
            v->vm = (v->vm & ~(VM_LOCKED | VM_LOCKONFAULT)) | lock;
            a = v->end;
        }
        merge_range(addr, end);  // as Linux: a change that matches the neighbours again joins them
        if (hole) return Error(ENOMEM);
    }
    if ((lock & VM_LOCKED) && !(lock & VM_LOCKONFAULT)) populate(addr, len);
    return {};
}

void AddressSpace::set_locked_all(u32 lock) {
    {
        sched::MutexGuard g(lock_);
        for (Vma* v = vmas_.front(); v; v = vmas_.next(*v))
            if (!v->fixed_phys) v->vm = (v->vm & ~(VM_LOCKED | VM_LOCKONFAULT)) | lock;
    }
    if (!(lock & VM_LOCKED) || (lock & VM_LOCKONFAULT)) return;
    // Populate every mapping (not the gaps between them).
    for (uptr a = 0;;) {
        uptr start, end;
        {
            sched::MutexGuard g(lock_);
            Vma* v = first_ending_above(a);
            if (!v) return;
            start = max(a, v->start);
            end = v->end;
            if (!(v->vm & VM_LOCKED) || (v->flags & MAP_GROWSDOWN)) start = end;  // the stack reserve stays lazy
        }
        if (start < end) populate(start, end - start);
        a = end;
    }
}

u64 AddressSpace::locked_bytes(uptr start, uptr end) {
    sched::MutexGuard g(lock_);
    u64 n = 0;
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v)) {
        if (!(v->vm & VM_LOCKED)) continue;
        uptr lo = max(start, v->start), hi = min(end, v->end);
        if (lo < hi) n += hi - lo;
    }
    return n;
}

u64 AddressSpace::total_bytes() {
    sched::MutexGuard g(lock_);
    u64 n = 0;
    for (Vma* v = vmas_.front(); v; v = vmas_.next(*v)) n += v->end - v->start;
    return n;
}

Result<fs::File*> AddressSpace::remove_range(uptr addr, usize len, u64* off, u64* flen) {
    sched::MutexGuard g(lock_);
    Vma* v = find(addr);
    if (!v) return Error(ENOMEM);
    if (v->vm & VM_LOCKED) return Error(EINVAL);
    if (!v->file) return Error(EINVAL);
    if (!v->shared() || !(v->vm & VM_MAYWRITE)) return Error(EACCES);
    uptr stop = min<uptr>(v->end, addr + len);
    *off = v->offset + (addr - v->start);
    *flen = stop - addr;
    v->file->ref();
    return v->file;
}

}  // namespace keel::mm
