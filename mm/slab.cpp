#include "mm/slab.h"

namespace keel::mm {

namespace {

using PoisonWord = u64 __attribute__((may_alias));
constexpr u64 SLAB_POISON_WORD = 0x0101010101010101ull * SLAB_POISON;
// Slab pages across all caches; caches have separate locks, hence atomics.
u64 g_slab_pages = 0;

// Aim for at least this many objects per slab so that a burst of
// allocations does not go to the page provider for every other object.
constexpr usize MIN_OBJECTS = 8;

constexpr usize bitmap_words(usize objects) { return (objects + 63) / 64; }

bool poison_intact(const void* obj, usize size) {
    auto* w = static_cast<const PoisonWord*>(obj);
    for (usize i = 0; i < size / sizeof(u64); ++i)
        if (w[i] != SLAB_POISON_WORD) return false;
    return true;
}

}  // namespace

u64 slab_total_pages() { return __atomic_load_n(&g_slab_pages, __ATOMIC_RELAXED); }

Status SlabCache::init(const char* name, usize object_size, usize align, const PageProvider& provider,
                       const SlabDebug& debug, const ObjAccounting* accounting) {
    KASSERT(provider.alloc_pages && provider.free_pages && provider.virt_to_frame);
    KASSERT(partial_.empty() && full_.empty() && empty_.empty());
    if (align == 0) align = 8;
    if (!is_pow2(align) || align > PAGE_SIZE) return Error(EINVAL);
    align = max<usize>(align, 8);
    if (object_size > (PAGE_SIZE << SLAB_MAX_ORDER)) return Error(EINVAL);
    name_ = name;
    stride_ = align_up(max<usize>(object_size, 8), align);
    provider_ = provider;
    debug_ = debug;
    accounting_ = accounting;
    if (debug_.check_poison) debug_.poison = true;
    active_ = 0;

    // Smallest slab that holds MIN_OBJECTS, else the largest allowed. Up to
    // 64 objects the allocation bitmap fits in the PageFrame; beyond that it
    // takes the tail of the slab, followed by an accounted cache's owners.
    auto tail_bytes = [&](usize n) {
        return (n > 64 ? bitmap_words(n) * sizeof(u64) : 0) + (accounting ? n * sizeof(void*) : 0);
    };
    for (order_ = 0;; ++order_) {
        usize bytes = PAGE_SIZE << order_;
        usize n = bytes / stride_;
        while (n && n * stride_ + tail_bytes(n) > bytes) --n;
        // stride_ is a multiple of 8: the tail arrays are aligned.
        bitmap_offset_ = n > 64 ? n * stride_ : 0;
        owners_offset_ = accounting ? n * stride_ + (n > 64 ? bitmap_words(n) * sizeof(u64) : 0) : 0;
        objects_ = n;
        if (n >= MIN_OBJECTS || order_ == SLAB_MAX_ORDER) break;
    }
    if (objects_ == 0) return Error(EINVAL);
    return {};
}

u64* SlabCache::bitmap(PageFrame& slab) {
    if (bitmap_offset_ == 0) return &slab.slab_bitmap;
    return reinterpret_cast<u64*>(static_cast<char*>(slab.slab_base) + bitmap_offset_);
}

void** SlabCache::owners(PageFrame& slab) {
    return reinterpret_cast<void**>(static_cast<char*>(slab.slab_base) + owners_offset_);
}

Result<PageFrame*> SlabCache::grow() {
    void* base = TRY(provider_.alloc_pages(provider_.ctx, order_));
    char* bytes = static_cast<char*>(base);
    // Every page records its distance to the head so that a pointer into any
    // page of the slab leads back to the slab's metadata.
    PageFrame* head = nullptr;
    for (usize i = 0; i < (usize{1} << order_); ++i) {
        PageFrame* f = provider_.virt_to_frame(provider_.ctx, bytes + i * PAGE_SIZE);
        KASSERT(f != nullptr && (f->flags & (PageSlab | PageLarge)) == 0);
        f->flags |= PageSlab;
        f->tail_index = static_cast<u16>(i);
        if (i == 0) head = f;
    }
    head->slab_cache = this;
    head->slab_base = base;
    head->slab_order = static_cast<u8>(order_);
    head->inuse = 0;

    // Bits past the last object are marked allocated so the search in
    // alloc_locked never picks them.
    u64* bm = bitmap(*head);
    usize words = bitmap_words(objects_);
    for (usize w = 0; w < words; ++w) bm[w] = 0;
    if (objects_ % 64) bm[words - 1] = ~0ull << (objects_ % 64);
    if (owners_offset_)
        for (usize i = 0; i < objects_; ++i) owners(*head)[i] = nullptr;

    if (debug_.poison) __builtin_memset(base, SLAB_POISON, objects_ * stride_);
    __atomic_fetch_add(&g_slab_pages, u64{1} << order_, __ATOMIC_RELAXED);
    return head;
}

void SlabCache::release(PageFrame& slab) {
    KASSERT(slab.inuse == 0 && !slab.node.linked());
    char* base = static_cast<char*>(slab.slab_base);
    slab.slab_cache = nullptr;
    slab.slab_base = nullptr;
    slab.slab_bitmap = 0;
    for (usize i = 0; i < (usize{1} << order_); ++i) {
        PageFrame* f = i == 0 ? &slab : provider_.virt_to_frame(provider_.ctx, base + i * PAGE_SIZE);
        f->flags &= static_cast<u16>(~PageSlab);
        f->tail_index = 0;
    }
    __atomic_fetch_sub(&g_slab_pages, u64{1} << order_, __ATOMIC_RELAXED);
    provider_.free_pages(provider_.ctx, base, order_);
}

Result<void*> SlabCache::alloc_owned(void* owner) {
    KASSERT(!owner || owners_offset_);
    lock();
    auto r = alloc_locked(owner);
    unlock();
    return r;
}

Result<void*> SlabCache::alloc_locked(void* owner) {
    PageFrame* slab = partial_.front();
    if (!slab) {
        slab = empty_.pop_front();
        if (!slab) slab = TRY(grow());
        partial_.push_front(*slab);
    }

    u64* bm = bitmap(*slab);
    usize idx = objects_;
    for (usize w = 0; w < bitmap_words(objects_); ++w) {
        if (~bm[w] == 0) continue;
        unsigned bit = static_cast<unsigned>(__builtin_ctzll(~bm[w]));
        bm[w] |= 1ull << bit;
        idx = w * 64 + bit;
        break;
    }
    // A partial slab with no free bit means the metadata is corrupt.
    KASSERT(idx < objects_);
    if (++slab->inuse == objects_) {
        partial_.remove(*slab);
        full_.push_front(*slab);
    }
    ++active_;
    if (owners_offset_) owners(*slab)[idx] = owner;

    void* obj = static_cast<char*>(slab->slab_base) + idx * stride_;
    // Poison damaged while the object was free: a write after free.
    if (debug_.check_poison) KASSERT_MSG(poison_intact(obj, stride_), "slab: object written after it was freed");
    return obj;
}

void SlabCache::free(void* obj) {
    if (!obj) return;
    PageFrame* slab = slab_of(provider_, obj);
    KASSERT(slab != nullptr);  // not a slab object
    lock();
    void* owner = free_locked(*slab, obj);
    unlock();
    // Outside the lock: the uncharge may free what the owner is.
    if (owner) accounting_->uncharge(owner, stride_);
}

void* SlabCache::free_locked(PageFrame& slab, void* obj) {
    KASSERT_MSG(slab.slab_cache == this, "slab: object freed to the wrong cache");
    usize offset = static_cast<usize>(static_cast<char*>(obj) - static_cast<char*>(slab.slab_base));
    KASSERT_MSG(offset % stride_ == 0, "slab: freeing a pointer that does not start an object");
    usize idx = offset / stride_;
    KASSERT(idx < objects_);
    u64* bm = bitmap(slab);
    u64 bit = 1ull << (idx % 64);
    KASSERT_MSG(bm[idx / 64] & bit, "slab: double free");
    bm[idx / 64] &= ~bit;
    void* owner = nullptr;
    if (owners_offset_) {
        owner = owners(slab)[idx];
        owners(slab)[idx] = nullptr;
    }
    if (debug_.poison) __builtin_memset(obj, SLAB_POISON, stride_);

    bool was_full = slab.inuse == objects_;
    --slab.inuse;
    --active_;
    if (was_full) full_.remove(slab);
    else partial_.remove(slab);
    // Recently freed slabs go first: their lines are likely still cached.
    if (slab.inuse != 0) {
        partial_.push_front(slab);
    } else if (empty_.size() < EMPTY_RESERVE) {
        empty_.push_front(slab);
    } else {
        release(slab);
    }
    return owner;
}

void SlabCache::release_all(SlabList& list) {
    while (PageFrame* slab = list.pop_front()) release(*slab);
}

void SlabCache::shrink() {
    lock();
    release_all(empty_);
    unlock();
}

void SlabCache::destroy() {
    KASSERT(active_ == 0 && partial_.empty() && full_.empty());  // objects still live
    release_all(empty_);
}

SlabStats SlabCache::stats() const {
    usize slabs = partial_.size() + full_.size() + empty_.size();
    return SlabStats{
        .object_size = stride_,
        .objects_per_slab = objects_,
        .slab_order = order_,
        .active_objects = active_,
        .total_objects = slabs * objects_,
        .slabs = slabs,
        .pages = slabs << order_,
    };
}

PageFrame* slab_of(const PageProvider& provider, const void* ptr) {
    PageFrame* f = provider.virt_to_frame(provider.ctx, ptr);
    if (!f || !(f->flags & PageSlab)) return nullptr;
    if (f->tail_index != 0) {
        uptr head = align_down(reinterpret_cast<uptr>(ptr), uptr{PAGE_SIZE}) - uptr{f->tail_index} * PAGE_SIZE;
        f = provider.virt_to_frame(provider.ctx, reinterpret_cast<const void*>(head));
        KASSERT(f && (f->flags & PageSlab) && f->tail_index == 0);
    }
    return f;
}

namespace {
constexpr const char* KMALLOC_NAMES[KMALLOC_CLASSES] = {
    "kmalloc-8",   "kmalloc-16",  "kmalloc-32",   "kmalloc-64", "kmalloc-96",
    "kmalloc-128", "kmalloc-192", "kmalloc-256",  "kmalloc-512", "kmalloc-1k",
    "kmalloc-2k",  "kmalloc-4k",  "kmalloc-8k",
};
constexpr const char* KMALLOC_CG_NAMES[KMALLOC_CLASSES] = {
    "kmalloc-cg-8",   "kmalloc-cg-16",  "kmalloc-cg-32",  "kmalloc-cg-64", "kmalloc-cg-96",
    "kmalloc-cg-128", "kmalloc-cg-192", "kmalloc-cg-256", "kmalloc-cg-512", "kmalloc-cg-1k",
    "kmalloc-cg-2k",  "kmalloc-cg-4k",  "kmalloc-cg-8k",
};

// The size class of a small allocation; KMALLOC_CLASSES for a large one.
usize class_of(usize size) {
    usize cls = 0;
    while (cls < KMALLOC_CLASSES && KMALLOC_SIZES[cls] < size) ++cls;
    return cls;
}

// The buddy order of a large allocation.
unsigned large_order(usize size) {
    usize pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    return pages == 1 ? 0 : ilog2(pages - 1) + 1;
}
}  // namespace

Status Kmalloc::init(const PageProvider& provider, const SlabDebug& debug) {
    provider_ = provider;
    debug_ = debug;
    large_pages_ = 0;
    for (usize i = 0; i < KMALLOC_CLASSES; ++i) {
        // Power-of-two classes are naturally aligned; 96 and 192 get 32/64.
        usize size = KMALLOC_SIZES[i];
        usize align = min<usize>(usize{1} << __builtin_ctzll(size), PAGE_SIZE);
        TRY(caches_[i].init(KMALLOC_NAMES[i], size, align, provider, debug));
        TRY(cg_caches_[i].init(KMALLOC_CG_NAMES[i], size, align, provider, debug, &accounting_));
    }
    return {};
}

void Kmalloc::destroy() {
    for (auto& c : caches_) c.destroy();
    for (auto& c : cg_caches_) c.destroy();
    KASSERT(large_pages() == 0);  // large blocks still live
}

Result<void*> Kmalloc::alloc(usize size) {
    usize cls = class_of(size);
    if (cls < KMALLOC_CLASSES) return caches_[cls].alloc();
    return alloc_large(size, nullptr);
}

Result<void*> Kmalloc::alloc_large(usize size, void* owner) {
    if (size > (PAGE_SIZE << MAX_ORDER)) return Error(ENOMEM);
    unsigned order = large_order(size);
    void* p = TRY(provider_.alloc_pages(provider_.ctx, order));
    PageFrame* f = provider_.virt_to_frame(provider_.ctx, p);
    KASSERT(f != nullptr && (f->flags & (PageSlab | PageLarge)) == 0);
    // kfree gets only the pointer: the order and owner live in the head frame.
    f->flags |= PageLarge;
    f->slab_order = static_cast<u8>(order);
    f->tail_index = 0;
    f->memcg = owner;
    __atomic_fetch_add(&large_pages_, u64{1} << order, __ATOMIC_RELAXED);
    return p;
}

Result<void*> Kmalloc::alloc_accounted(usize size) {
    if (!accounting_.charge) return alloc(size);
    usize cls = class_of(size);
    if (cls == KMALLOC_CLASSES && size > (PAGE_SIZE << MAX_ORDER)) return Error(ENOMEM);
    usize bytes = cls < KMALLOC_CLASSES ? KMALLOC_SIZES[cls] : PAGE_SIZE << large_order(size);
    void* owner = TRY(accounting_.charge(bytes));
    auto r = cls < KMALLOC_CLASSES ? cg_caches_[cls].alloc_owned(owner) : alloc_large(size, owner);
    if (r.is_error() && owner) accounting_.uncharge(owner, bytes);
    return r;
}

Result<void*> Kmalloc::zalloc_accounted(usize size) {
    void* p = TRY(alloc_accounted(size));
    __builtin_memset(p, 0, usable_size(p));
    return p;
}

Result<void*> Kmalloc::zalloc(usize size) {
    void* p = TRY(alloc(size));
    __builtin_memset(p, 0, usable_size(p));
    return p;
}

void Kmalloc::free(void* ptr) {
    if (!ptr) return;
    PageFrame* f = provider_.virt_to_frame(provider_.ctx, ptr);
    KASSERT(f != nullptr);  // not a heap pointer
    if (f->flags & PageLarge) {
        KASSERT((reinterpret_cast<uptr>(ptr) & (PAGE_SIZE - 1)) == 0);  // not the start of the block
        unsigned order = f->slab_order;
        void* owner = f->memcg;
        f->flags &= static_cast<u16>(~PageLarge);
        f->slab_order = 0;
        f->memcg = nullptr;
        __atomic_fetch_sub(&large_pages_, u64{1} << order, __ATOMIC_RELAXED);
        provider_.free_pages(provider_.ctx, ptr, order);
        if (owner) accounting_.uncharge(owner, PAGE_SIZE << order);
        return;
    }
    PageFrame* slab = slab_of(provider_, ptr);
    KASSERT(slab != nullptr);  // neither a slab object nor a large block head
    // Objects of named caches may be kfree'd too: the slab knows its cache.
    static_cast<SlabCache*>(slab->slab_cache)->free(ptr);
}

usize Kmalloc::usable_size(const void* ptr) {
    if (!ptr) return 0;
    PageFrame* f = provider_.virt_to_frame(provider_.ctx, ptr);
    KASSERT(f != nullptr);
    if (f->flags & PageLarge) return PAGE_SIZE << f->slab_order;
    PageFrame* slab = slab_of(provider_, ptr);
    KASSERT(slab != nullptr);
    return static_cast<SlabCache*>(slab->slab_cache)->object_size();
}

namespace {
// Constructed in kmalloc_init, not by a global constructor: the heap must
// work before (and without) the kernel running static initialisers.
alignas(Kmalloc) unsigned char g_heap_storage[sizeof(Kmalloc)];
Kmalloc* g_heap = nullptr;
}  // namespace

void kmalloc_init(const PageProvider& provider, const SlabDebug& debug) {
    g_heap = new (g_heap_storage) Kmalloc();
    MUST(g_heap->init(provider, debug));
}

Kmalloc& kmalloc_heap() {
    KASSERT(g_heap != nullptr);
    return *g_heap;
}

Result<void*> kmalloc(usize size) { return kmalloc_heap().alloc(size); }
Result<void*> kzalloc(usize size) { return kmalloc_heap().zalloc(size); }
Result<void*> kzalloc_account(usize size) { return kmalloc_heap().zalloc_accounted(size); }
void kfree(void* ptr) {
    if (ptr) kmalloc_heap().free(ptr);
}
usize ksize(const void* ptr) { return ptr ? kmalloc_heap().usable_size(ptr) : 0; }

Result<SlabCache*> slab_cache_create(const char* name, usize object_size, usize align) {
    void* mem = TRY(kmalloc(sizeof(SlabCache)));
    auto* cache = new (mem) SlabCache();
    auto st = cache->init(name, object_size, align, kmalloc_heap().provider(), kmalloc_heap().debug());
    if (st.is_error()) {
        cache->~SlabCache();
        kfree(mem);
        return st.error();
    }
    return cache;
}

void slab_cache_destroy(SlabCache* cache) {
    if (!cache) return;
    cache->destroy();
    cache->~SlabCache();
    kfree(cache);
}

}  // namespace keel::mm
