#include "fs/core/dentry.h"

#include "fs/core/superblock.h"
#include "lib/string.h"

namespace keel::fs {

namespace {

using Children = RbTree<Dentry, &Dentry::child_link, DentryNameOrder>;

// Byte-wise order, shorter first on a common prefix.
int compare_names(StringView a, StringView b) {
    int c = mem_cmp(a.data(), b.data(), min(a.size(), b.size()));
    if (c != 0) return c;
    if (a.size() == b.size()) return 0;
    return a.size() < b.size() ? -1 : 1;
}

// Drops the reference the cache held on `d`.
void drop_cache_ref(Dentry* d) { RefPtr<Dentry>::release(d); }

}  // namespace

bool DentryNameOrder::less(const Dentry& a, const Dentry& b) { return compare_names(a.name(), b.name()) < 0; }

void Dentry::release_last_ref(Dentry* d) {
    // A dentry whose last reference is gone is unhashed (the cache holds a
    // reference while hashed) and childless (children hold references).
    while (d) {
        KASSERT(!d->hashed_);
        Dentry* parent = d->parent_.leak();
        destroy(d);
        if (!parent || !parent->unref()) break;
        d = parent;
    }
}

Dentry::~Dentry() { free_name(); }

char* Dentry::alloc_name(usize len, char* inline_buf) {
    if (len < INLINE_NAME) return inline_buf;
    return static_cast<char*>(heap_alloc_accounted(len + 1));
}

void Dentry::set_name(StringView name, char* storage) {
    mem_copy(storage, name.data(), name.size());
    storage[name.size()] = 0;
    name_ = storage;
    name_len_ = static_cast<u32>(name.size());
}

void Dentry::free_name() {
    if (name_ != inline_name_) heap_free(name_);
    name_ = inline_name_;
    name_len_ = 0;
}

void Dentry::hash_into(Dentry& parent) {
    parent.children_.insert(*this);
    hashed_ = true;
    ref();  // the cache's reference
    sb_->dcache_insert_locked(*this);
}

Result<RefPtr<Dentry>> Dentry::make_root(Superblock& sb, RefPtr<Inode> inode) {
    Dentry* d = TRY(make_accounted<Dentry>(sb));
    d->set_name("/", d->inline_name_);
    d->inode_raw_ = inode.get();
    d->inode_ = move(inode);
    return RefPtr<Dentry>(d);
}

Dentry* Dentry::find_child_locked(StringView name) const {
    Dentry* cur = children_.root();
    while (cur) {
        int c = compare_names(name, cur->name());
        if (c == 0) return cur;
        cur = c < 0 ? Children::left(*cur) : Children::right(*cur);
    }
    return nullptr;
}

Result<RefPtr<Dentry>> Dentry::add_child_locked(StringView name, RefPtr<Inode> inode) {
    RefPtr<Dentry> d = TRY(make_orphan_locked(name, move(inode)));
    d->hash_into(*this);
    return d;
}

Result<RefPtr<Dentry>> Dentry::make_orphan_locked(StringView name, RefPtr<Inode> inode) {
    Dentry* d = TRY(make_accounted<Dentry>(*sb_));
    char* storage = alloc_name(name.size(), d->inline_name_);
    if (!storage) {
        destroy(d);
        return Error(ENOMEM);
    }
    d->set_name(name, storage);
    d->parent_ = RefPtr<Dentry>(this);
    d->inode_raw_ = inode.get();
    d->inode_ = move(inode);
    return RefPtr<Dentry>(d);
}

void Dentry::instantiate_locked(RefPtr<Inode> inode) {
    KASSERT(!inode_);
    Inode* raw = inode.get();
    inode_ = move(inode);
    __atomic_store_n(&inode_raw_, raw, __ATOMIC_RELEASE);
}

void Dentry::unhash_locked() {
    if (!hashed_) return;
    parent_->children_.erase(*this);
    hashed_ = false;
    sb_->dcache_remove_locked(*this);
    drop_cache_ref(this);  // may free this
}

void Dentry::move_locked(Dentry& new_parent, StringView new_name, char* storage) {
    // The inline buffer may be the new storage: the old name goes anyway.
    bool was_hashed = hashed_;
    if (was_hashed) parent_->children_.erase(*this);
    if (name_ != inline_name_ && name_ != storage) heap_free(name_);
    set_name(new_name, storage);
    parent_ = RefPtr<Dentry>(&new_parent);
    if (was_hashed) new_parent.children_.insert(*this);
}

void Dentry::exchange_locked(Dentry& a, Dentry& b) {
    RefPtr<Dentry> pa = a.parent_;
    RefPtr<Dentry> pb = b.parent_;
    pa->children_.erase(a);
    pb->children_.erase(b);

    // Swap the names; inline names are copied, heap names change hands.
    char tmp[INLINE_NAME];
    bool a_inline = a.name_ == a.inline_name_;
    bool b_inline = b.name_ == b.inline_name_;
    char* a_heap = a_inline ? nullptr : a.name_;
    u32 a_len = a.name_len_;
    if (a_inline) mem_copy(tmp, a.inline_name_, a_len + 1);
    if (b_inline) {
        mem_copy(a.inline_name_, b.inline_name_, b.name_len_ + 1);
        a.name_ = a.inline_name_;
    } else {
        a.name_ = b.name_;
    }
    a.name_len_ = b.name_len_;
    if (a_inline) {
        mem_copy(b.inline_name_, tmp, a_len + 1);
        b.name_ = b.inline_name_;
    } else {
        b.name_ = a_heap;
    }
    b.name_len_ = a_len;

    a.parent_ = pb;
    b.parent_ = pa;
    pb->children_.insert(a);
    pa->children_.insert(b);
}

void Dentry::prune_children_locked() {
    children_.for_each([](Dentry& c) {
        if (c.negative() && c.ref_count() == 1) c.unhash_locked();
    });
}

}  // namespace keel::fs
