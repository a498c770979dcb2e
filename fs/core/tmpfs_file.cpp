// tmpfs file data: sparse 4 KiB pages in a tree keyed by page index.
// Every function here runs with the inode lock held.
#include <linux/falloc.h>

#include "fs/core/tmpfs_internal.h"
#include "lib/string.h"

namespace keel::fs {

TmpfsPage* TmpfsInode::find_page(u64 index) const {
    TmpfsPage* cur = pages_.root();
    while (cur) {
        if (cur->index == index) return cur;
        cur = index < cur->index ? Pages::left(*cur) : Pages::right(*cur);
    }
    return nullptr;
}

namespace {

// The first page at or after `index`.
template <typename Tree>
auto* lower_bound(const Tree& t, u64 index) {
    decltype(t.root()) best = nullptr;
    for (auto* cur = t.root(); cur;) {
        if (cur->index >= index) {
            best = cur;
            cur = Tree::left(*cur);
        } else {
            cur = Tree::right(*cur);
        }
    }
    return best;
}

}  // namespace

Result<TmpfsPage*> TmpfsInode::get_or_alloc_page(u64 index) {
    if (TmpfsPage* p = find_page(index)) return p;
    TRY(tsb().reserve_pages(1));
    const TmpfsCharge* acct = __atomic_load_n(&g_tmpfs_charge, __ATOMIC_ACQUIRE);
    void* owner = nullptr;
    if (acct) {
        auto charged = acct->charge();
        if (charged.is_error()) {
            tsb().release_pages(1);
            return charged.error();
        }
        owner = charged.value();
    }
    auto node = make<TmpfsPage>();
    u8* data = node.is_ok() ? static_cast<u8*>(heap_alloc(TMPFS_PAGE)) : nullptr;
    if (!data) {
        if (node.is_ok()) destroy(node.value());
        if (acct) acct->uncharge(owner);
        tsb().release_pages(1);
        return Error(ENOMEM);
    }
    TmpfsPage* p = node.value();
    p->index = index;
    p->owner = owner;
    p->data = data;  // heap_alloc memory is zeroed: a new page reads as a hole did
    pages_.insert(*p);
    ++npages_;
    return p;
}

void TmpfsInode::free_page(TmpfsPage* p) {
    pages_.erase(*p);
    heap_free(p->data);
    if (p->owner) __atomic_load_n(&g_tmpfs_charge, __ATOMIC_ACQUIRE)->uncharge(p->owner);
    destroy(p);
    --npages_;
    tsb().release_pages(1);
}

void TmpfsInode::free_pages_from(u64 first_index) {
    for (TmpfsPage* p = lower_bound(pages_, first_index); p;) {
        TmpfsPage* next = Pages::next(*p);
        free_page(p);
        p = next;
    }
}

void TmpfsInode::zero_range(u64 from, u64 to) {
    while (from < to) {
        u64 index = from / TMPFS_PAGE;
        u64 in_page = from % TMPFS_PAGE;
        u64 chunk = min(TMPFS_PAGE - in_page, to - from);
        if (TmpfsPage* p = find_page(index)) mem_set(p->data + in_page, 0, chunk);
        from += chunk;
    }
}

void TmpfsInode::update_blocks() { attr_locked().blocks = npages_ * (TMPFS_PAGE / 512); }

Result<usize> TmpfsInode::read(u64 off, DataBuffer& out, usize at, usize n) {
    u64 size = attr_locked().size;
    if (off >= size) return usize(0);
    n = static_cast<usize>(min<u64>(n, size - off));
    usize done = 0;
    // Pages are visited in order: walk the tree instead of searching.
    TmpfsPage* p = lower_bound(pages_, off / TMPFS_PAGE);
    while (done < n) {
        u64 pos = off + done;
        u64 index = pos / TMPFS_PAGE;
        usize in_page = static_cast<usize>(pos % TMPFS_PAGE);
        usize chunk = static_cast<usize>(min<u64>(TMPFS_PAGE - in_page, n - done));
        while (p && p->index < index) p = Pages::next(*p);
        bool data = p && p->index == index;
        usize c = data ? out.copy_out(at + done, p->data + in_page, chunk) : out.zero(at + done, chunk);
        done += c;
        if (c < chunk) break;
    }
    if (done == 0 && n > 0) return Error(EFAULT);
    return done;
}

Result<usize> TmpfsInode::write(u64 off, DataBuffer& in, usize at, usize n) {
    usize done = 0;
    Error failure(0);
    while (done < n) {
        u64 pos = off + done;
        usize in_page = static_cast<usize>(pos % TMPFS_PAGE);
        usize chunk = static_cast<usize>(min<u64>(TMPFS_PAGE - in_page, n - done));
        auto page = get_or_alloc_page(pos / TMPFS_PAGE);
        if (page.is_error()) {
            failure = page.error();
            break;
        }
        usize c = in.copy_in(at + done, page.value()->data + in_page, chunk);
        done += c;
        if (c < chunk) {
            failure = Error(EFAULT);
            break;
        }
    }
    InodeAttr& a = attr_locked();
    if (off + done > a.size) a.size = off + done;
    update_blocks();
    // A partial write succeeds with its count; nothing written reports why.
    if (done == 0 && n > 0) return failure;
    return done;
}

Status TmpfsInode::truncate(u64 new_size) {
    InodeAttr& a = attr_locked();
    if (new_size < a.size) {
        u64 first = align_up(new_size, TMPFS_PAGE) / TMPFS_PAGE;
        if (PageMapHook* h = page_map_locked()) h->unmap_pages(first, ~0ull, true);
        free_pages_from(first);
        // The rest of the last page must read as zeros if the file grows.
        zero_range(new_size, align_up(new_size, TMPFS_PAGE));
    }
    a.size = new_size;
    update_blocks();
    return {};
}

Status TmpfsInode::fallocate(int mode, u64 off, u64 len) {
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return Error(EOPNOTSUPP);
    u64 end = off + len;
    if (mode & FALLOC_FL_PUNCH_HOLE) {
        // Whole pages go; the partial ones at either end are zeroed.
        u64 first_full = align_up(off, TMPFS_PAGE) / TMPFS_PAGE;
        u64 end_full = end / TMPFS_PAGE;
        if (first_full < end_full) {
            if (PageMapHook* h = page_map_locked()) h->unmap_pages(first_full, end_full, false);
            for (TmpfsPage* p = lower_bound(pages_, first_full); p && p->index < end_full;) {
                TmpfsPage* next = Pages::next(*p);
                free_page(p);
                p = next;
            }
            zero_range(off, first_full * TMPFS_PAGE);
            zero_range(end_full * TMPFS_PAGE, end);
        } else {
            zero_range(off, end);
        }
        update_blocks();
        return {};
    }
    u64 first = off / TMPFS_PAGE;
    u64 last = align_up(end, TMPFS_PAGE) / TMPFS_PAGE;
    // Allocate every missing page, or none: a failure frees what this
    // call added.
    Error failure(0);
    for (u64 i = first; i < last; ++i) {
        if (find_page(i)) continue;
        auto p = get_or_alloc_page(i);
        if (p.is_error()) {
            failure = p.error();
            break;
        }
        p.value()->fresh = true;
    }
    for (TmpfsPage* p = lower_bound(pages_, first); p && p->index < last;) {
        TmpfsPage* next = Pages::next(*p);
        if (p->fresh) {
            if (failure.code()) free_page(p);
            else p->fresh = false;
        }
        p = next;
    }
    update_blocks();
    if (failure.code()) return failure;
    InodeAttr& a = attr_locked();
    if (!(mode & FALLOC_FL_KEEP_SIZE) && end > a.size) a.size = end;
    return {};
}

Result<u64> TmpfsInode::seek_data(u64 off, bool hole) {
    u64 size = attr_locked().size;
    if (off >= size) return Error(ENXIO);
    u64 index = off / TMPFS_PAGE;
    if (!hole) {
        TmpfsPage* p = lower_bound(pages_, index);
        if (!p) return Error(ENXIO);
        u64 pos = max(off, p->index * TMPFS_PAGE);
        if (pos >= size) return Error(ENXIO);
        return pos;
    }
    TmpfsPage* p = find_page(index);
    if (!p) return off;
    for (TmpfsPage* next = Pages::next(*p); next && next->index == p->index + 1; next = Pages::next(*p)) p = next;
    return min((p->index + 1) * TMPFS_PAGE, size);
}

Result<void*> TmpfsInode::get_page(u64 index, bool create) {
    if (!is_reg()) return Error(ENODEV);
    if (!create) {
        TmpfsPage* p = find_page(index);
        return static_cast<void*>(p ? p->data : nullptr);
    }
    TmpfsPage* p = TRY(get_or_alloc_page(index));
    update_blocks();
    return static_cast<void*>(p->data);
}

}  // namespace keel::fs
