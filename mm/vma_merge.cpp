// Merging of anonymous mappings, as Linux does it: memory that continues a
// neighbour with the same rights and flags becomes part of it (mmap, brk,
// mprotect; mlock and madvise merge back what they split off), so /proc/<pid>/maps shows one line where Linux does and the
// count against vm.max_map_count does not grow. glibc grows a thread's heap
// with mprotect in small steps: without merging each step stayed a mapping
// of its own. File mappings are not merged (Linux also merges those whose
// offsets continue).
#include "mm/vm_internal.h"

namespace keel::mm {

namespace {

bool anonymous(const Vma& v) { return !v.file && !v.backing && !v.fmap && !v.fixed_phys && !v.shared(); }

// Whether memory of `v` given rights `prot` and marks `vm` may be part of
// its neighbour `nb` (adjacency is the caller's): the same flags, and
// anonymous pages of one origin at most.
bool joins(const Vma& nb, const Vma& v, u32 prot, u32 vm) {
    return anonymous(nb) && anonymous(v) && nb.flags == v.flags && nb.vm == vm && nb.prot == prot &&
           (!nb.anon_id || !v.anon_id || nb.anon_id == v.anon_id);
}

// The joined mapping keeps the pages' origin.
void take_anon(Vma& into, const Vma& from) {
    if (!into.anon_id) into.anon_id = from.anon_id;
}

u64 g_anon_ids = 0;

}  // namespace

u32 vm_after_protect(const Vma& v, u32 prot) {
    bool gains_write = (prot & PROT_WRITE) && !(v.prot & PROT_WRITE);
    if (gains_write && !v.shared() && !(v.vm & VM_NORESERVE)) return v.vm | VM_ACCOUNT;
    // Linux gives the commitment back when anonymous memory that never had
    // a page loses write.
    if (!(prot & PROT_WRITE) && anonymous(v) && !v.anon_id) return v.vm & ~VM_ACCOUNT;
    return v.vm;
}

void AddressSpace::note_anon_page(Vma* v) {
    if (v->anon_id || !anonymous(*v)) return;
    for (Vma* nb : {prev_of(v), vmas_.next(*v)}) {
        if (nb && nb->anon_id && (nb->end == v->start || v->end == nb->start) && anonymous(*nb) &&
            nb->flags == v->flags && nb->vm == v->vm) {
            v->anon_id = nb->anon_id;
            return;
        }
    }
    v->anon_id = __atomic_add_fetch(&g_anon_ids, 1, __ATOMIC_RELAXED);
}

Vma* AddressSpace::absorb(Vma* v, uptr from, uptr to, u32 prot) {
    u32 vm = vm_after_protect(*v, prot);
    if (from == v->start && to < v->end) {
        Vma* p = prev_of(v);
        if (!p || p->end != v->start || !joins(*p, *v, prot, vm)) return nullptr;
        p->end = to;
        v->start = to;  // still touching p: no gap changes
        v->offset += to - from;
        take_anon(*p, *v);
        return p;
    }
    if (to == v->end && from > v->start) {
        Vma* n = vmas_.next(*v);
        if (!n || n->start != v->end || !joins(*n, *v, prot, vm)) return nullptr;
        n->start = from;
        n->offset -= to - from;
        v->end = from;
        take_anon(*n, *v);
        return n;
    }
    return nullptr;
}

void AddressSpace::merge_range(uptr start, uptr end) {
    Vma* v = find(start);
    if (!v) return;
    if (Vma* p = prev_of(v)) v = p;
    while (v->start <= end) {
        Vma* n = vmas_.next(*v);
        if (!n) return;
        if (n->start != v->end || !joins(*v, *n, n->prot, n->vm)) {
            v = n;
            continue;
        }
        v->end = n->end;
        take_anon(*v, *n);
        unlink(n);
        free_vma(n);
    }
}

}  // namespace keel::mm
