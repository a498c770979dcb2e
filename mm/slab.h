// Slab allocator: caches of fixed-size objects carved out of page blocks,
// and kmalloc/kfree on top of a set of size-class caches.
//
// Accounted allocations (kzalloc_account: objects a program makes the
// kernel keep, such as its VMAs, files and dentries) come from a second set
// of size classes whose slabs remember an owner per object: what the
// installed ObjAccounting charged for it (in the kernel, a memory cgroup).
// Any kfree uncharges it; the caller needs to know nothing.
//
// Pages come from a PageProvider (in the kernel: the buddy allocator plus the
// direct map). Each slab records its owner in the PageFrame of its pages, so
// kfree(ptr) finds the cache from the pointer alone. A per-slab allocation
// bitmap (in the PageFrame when the slab holds <= 64 objects, otherwise at
// the end of the slab) makes double frees and frees of pointers that do not
// start an object exact KASSERT failures, and keeps the whole of a free
// object available for poison.
//
// Locking: a SlabCache serialises itself through the lock installed with
// set_lock() (none by default, for single-threaded use). Everything alloc(),
// free() and shrink() touch is that cache's state plus the page provider, so
// one lock per cache suffices; the provider must do its own locking (the
// buddy lock), taken inside the cache lock. init() and destroy() run while
// no one else can use the cache. Kmalloc adds no state of its own that
// changes after init() except atomically updated counters.
#pragma once

#include "lib/intrusive_list.h"
#include "lib/result.h"
#include "mm/buddy.h"

namespace keel::mm {

inline constexpr u8 SLAB_POISON = 0x6b;
// Slabs are at most 2^3 pages: larger blocks are hard to find once memory is
// fragmented.
inline constexpr unsigned SLAB_MAX_ORDER = 3;

struct PageProvider {
    void* ctx = nullptr;
    // A virtually contiguous block of 2^order pages, or ENOMEM.
    Result<void*> (*alloc_pages)(void* ctx, unsigned order) = nullptr;
    void (*free_pages)(void* ctx, void* addr, unsigned order) = nullptr;
    // Metadata of the page containing addr; nullptr if the provider does not
    // manage it.
    PageFrame* (*virt_to_frame)(void* ctx, const void* addr) = nullptr;
};

struct SlabDebug {
    bool poison = false;        // fill freed objects with SLAB_POISON
    bool check_poison = false;  // verify it on allocation (implies poison)
};

// Charging of accounted allocations (installed by the memory controller).
struct ObjAccounting {
    // `bytes` for the current thread: the owner to remember (null when
    // nothing was charged), or ENOMEM over a limit.
    Result<void*> (*charge)(usize bytes) = nullptr;
    void (*uncharge)(void* owner, usize bytes) = nullptr;
};

struct SlabStats {
    usize object_size;       // bytes handed out per object (stride)
    usize objects_per_slab;
    unsigned slab_order;
    usize active_objects;
    usize total_objects;
    usize slabs;
    usize pages;
};

class SlabCache {
public:
    SlabCache() = default;
    SlabCache(const SlabCache&) = delete;
    SlabCache& operator=(const SlabCache&) = delete;

    // Objects of object_size bytes aligned to align (0 or a power of two up
    // to a page; at least 8 is used). EINVAL for a bad align or an object
    // that cannot fit a slab.
    // An `accounting` cache keeps an owner per object (alloc_owned), passed
    // to accounting->uncharge when the object is freed; it must outlive the
    // cache.
    Status init(const char* name, usize object_size, usize align, const PageProvider& provider,
                const SlabDebug& debug = {}, const ObjAccounting* accounting = nullptr);

    Result<void*> alloc() { return alloc_owned(nullptr); }
    // An accounting cache's object charged to `owner` (may be null).
    Result<void*> alloc_owned(void* owner);
    // obj must come from this cache's alloc(); nullptr is ignored.
    void free(void* obj);
    // Returns every empty slab to the provider.
    void shrink();
    // All objects must have been freed; returns every slab.
    void destroy();

    // Install a lock with lock()/unlock(); it must outlive the cache.
    template <typename L>
    void set_lock(L& lock) {
        lock_ctx_ = &lock;
        lock_fn_ = [](void* l) { static_cast<L*>(l)->lock(); };
        unlock_fn_ = [](void* l) { static_cast<L*>(l)->unlock(); };
    }

    const char* name() const { return name_; }
    usize object_size() const { return stride_; }
    SlabStats stats() const;

    // Empty slabs kept for the next allocation burst instead of being freed.
    static constexpr usize EMPTY_RESERVE = 1;

private:
    friend class Kmalloc;
    using SlabList = IntrusiveList<PageFrame, &PageFrame::node>;

    void lock() {
        if (lock_fn_) lock_fn_(lock_ctx_);
    }
    void unlock() {
        if (unlock_fn_) unlock_fn_(lock_ctx_);
    }
    Result<void*> alloc_locked(void* owner);
    void* free_locked(PageFrame& slab, void* obj);  // the object's owner
    Result<PageFrame*> grow();
    void release(PageFrame& slab);
    u64* bitmap(PageFrame& slab);
    void** owners(PageFrame& slab);
    void release_all(SlabList& list);

    const char* name_ = "";
    usize stride_ = 0;
    usize objects_ = 0;         // per slab
    usize bitmap_offset_ = 0;   // byte offset of an out-of-line bitmap; 0 = inline
    usize owners_offset_ = 0;   // byte offset of the owner array; 0 = not accounted
    const ObjAccounting* accounting_ = nullptr;
    unsigned order_ = 0;
    PageProvider provider_{};
    SlabDebug debug_{};
    SlabList partial_;
    SlabList full_;
    SlabList empty_;
    usize active_ = 0;
    void* lock_ctx_ = nullptr;
    void (*lock_fn_)(void*) = nullptr;
    void (*unlock_fn_)(void*) = nullptr;
};

// Looks up the slab that owns ptr; nullptr if ptr is not in a slab. Exposed
// for kfree and for debugging tools.
PageFrame* slab_of(const PageProvider& provider, const void* ptr);

inline constexpr usize KMALLOC_SIZES[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
inline constexpr usize KMALLOC_CLASSES = sizeof(KMALLOC_SIZES) / sizeof(KMALLOC_SIZES[0]);
inline constexpr usize KMALLOC_MAX_CACHED = KMALLOC_SIZES[KMALLOC_CLASSES - 1];

// Size-class caches plus page-sized allocations for the rest.
class Kmalloc {
public:
    Kmalloc() = default;
    Kmalloc(const Kmalloc&) = delete;
    Kmalloc& operator=(const Kmalloc&) = delete;

    Status init(const PageProvider& provider, const SlabDebug& debug = {});
    // Every allocation must have been freed; returns the cached slabs.
    void destroy();

    // At least `size` bytes, aligned to 8 (power-of-two sizes up to a page:
    // to their size; larger: to a page). kmalloc(0) returns a minimal object.
    Result<void*> alloc(usize size);
    Result<void*> zalloc(usize size);
    // Charged through the accounting installed with set_accounting (none
    // before it): ENOMEM when the charge is refused.
    Result<void*> alloc_accounted(usize size);
    Result<void*> zalloc_accounted(usize size);
    void free(void* ptr);
    // Before the first accounted allocation (the hooks are copied).
    void set_accounting(const ObjAccounting& acct) { accounting_ = acct; }
    // Usable size of an allocation (>= the requested size).
    usize usable_size(const void* ptr);

    SlabCache& cache(usize cls) { return caches_[cls]; }
    SlabCache& accounted_cache(usize cls) { return cg_caches_[cls]; }
    const PageProvider& provider() const { return provider_; }
    u64 large_pages() const { return __atomic_load_n(&large_pages_, __ATOMIC_RELAXED); }
    const SlabDebug& debug() const { return debug_; }

private:
    Result<void*> alloc_large(usize size, void* owner);

    PageProvider provider_{};
    SlabDebug debug_{};
    ObjAccounting accounting_{};
    SlabCache caches_[KMALLOC_CLASSES];
    SlabCache cg_caches_[KMALLOC_CLASSES];  // accounted: owner per object
    u64 large_pages_ = 0;
};

// Pages held by all slab caches (the Slab: line of /proc/meminfo).
u64 slab_total_pages();

// The kernel's heap. kmalloc_init must run before the first kmalloc; it can
// run again (host tests) once everything from the previous heap is freed.
void kmalloc_init(const PageProvider& provider, const SlabDebug& debug = {});
Kmalloc& kmalloc_heap();
Result<void*> kmalloc(usize size);
Result<void*> kzalloc(usize size);
// Zeroed and charged to the current thread's memory cgroup (Linux's
// GFP_KERNEL_ACCOUNT): for what a program makes the kernel keep.
Result<void*> kzalloc_account(usize size);
void kfree(void* ptr);
usize ksize(const void* ptr);

// Named caches whose SlabCache object itself lives in the kmalloc heap.
Result<SlabCache*> slab_cache_create(const char* name, usize object_size, usize align);
void slab_cache_destroy(SlabCache* cache);

}  // namespace keel::mm
