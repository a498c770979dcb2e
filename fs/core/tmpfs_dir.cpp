// tmpfs directories: entries in two trees (by name, by cookie), and the
// namespace operations on them. Everything here runs with the namespace
// lock held; inode attributes are changed under each inode's own lock, one
// at a time.
#include "fs/core/tmpfs_internal.h"
#include "lib/string.h"

namespace keel::fs {

namespace {

int compare_names(StringView a, StringView b) {
    int c = mem_cmp(a.data(), b.data(), min(a.size(), b.size()));
    if (c != 0) return c;
    if (a.size() == b.size()) return 0;
    return a.size() < b.size() ? -1 : 1;
}

void add_nlink(Inode& inode, int delta) {
    FsLockGuard g(inode.lock());
    inode.attr_locked().nlink += static_cast<u32>(delta);
}

}  // namespace

// ---- Entries ------------------------------------------------------------

bool EntryNameOrder::less(const TmpfsEntry& a, const TmpfsEntry& b) { return compare_names(a.name(), b.name()) < 0; }

TmpfsEntry* TmpfsEntry::create(StringView name, RefPtr<Inode> inode) {
    void* mem = heap_alloc_accounted(sizeof(TmpfsEntry) + name.size() + 1);
    if (!mem) return nullptr;
    auto* e = new (mem) TmpfsEntry();
    e->inode = move(inode);
    e->len = static_cast<u16>(name.size());
    mem_copy(e->name_data(), name.data(), name.size());
    return e;
}

void TmpfsEntry::free(TmpfsEntry* e) {
    e->~TmpfsEntry();
    heap_free(e);
}

TmpfsEntry* TmpfsInode::find(StringView name) const {
    TmpfsEntry* cur = by_name_.root();
    while (cur) {
        int c = compare_names(name, cur->name());
        if (c == 0) return cur;
        cur = c < 0 ? ByName::left(*cur) : ByName::right(*cur);
    }
    return nullptr;
}

void TmpfsInode::insert(TmpfsEntry& e) {
    e.cookie = next_cookie_++;
    by_name_.insert(e);
    by_cookie_.insert(e);
}

void TmpfsInode::remove(TmpfsEntry& e) {
    by_name_.erase(e);
    by_cookie_.erase(e);
}

void TmpfsInode::touch_dir(i64 entries_delta, const Timespec& now) {
    FsLockGuard g(lock());
    InodeAttr& a = attr_locked();
    a.size += static_cast<u64>(entries_delta * static_cast<i64>(BOGO_DIRENT_SIZE));
    a.mtime = now;
    a.ctime = now;
}

void TmpfsInode::drop_all_entries() {
    // A directory tree is freed with a worklist, never by recursion: a
    // deep tree must not overflow the kernel stack.
    IntrusiveList<TmpfsEntry, &TmpfsEntry::work> work;
    auto take_all = [&](TmpfsInode& dir) {
        while (TmpfsEntry* e = dir.by_cookie_.first()) {
            dir.remove(*e);
            work.push_back(*e);
        }
    };
    take_all(*this);
    while (TmpfsEntry* e = work.pop_front()) {
        Inode* child = e->inode.get();
        // Only the last holder empties a directory; one still referenced
        // elsewhere (an open directory) keeps its entries until then.
        if (child->is_dir() && child->ref_count() == 1) take_all(static_cast<TmpfsInode&>(*child));
        TmpfsEntry::free(e);
    }
}

Result<RefPtr<Inode>> TmpfsInode::lookup(StringView name) {
    TmpfsEntry* e = find(name);
    if (!e) return Error(ENOENT);
    return e->inode;
}


Result<RefPtr<Inode>> TmpfsInode::create(StringView name, const CreateArgs& args) {
    RefPtr<TmpfsInode> inode = TRY(tsb().new_inode(args));
    if ((args.mode & S_IFMT) == S_IFLNK) TRY(inode->set_link_target(args.link_target));
    TmpfsEntry* e = TmpfsEntry::create(name, inode);
    if (!e) return Error(ENOMEM);
    insert(*e);
    Timespec now = inode->attr_locked().ctime;
    touch_dir(1, now);
    if (inode->is_dir()) add_nlink(*this, 1);
    return RefPtr<Inode>(move(inode));
}

Status TmpfsInode::link(StringView name, Inode& target) {
    bool counted = target.attr().nlink > 0;
    // Linux's tmpfs counts every extra link against nr_inodes.
    if (counted) TRY(tsb().reserve_inode());
    TmpfsEntry* e = TmpfsEntry::create(name, RefPtr<Inode>(&target));
    if (!e) {
        if (counted) tsb().release_inode();
        return Error(ENOMEM);
    }
    insert(*e);
    Timespec now = current_time();
    {
        FsLockGuard g(target.lock());
        target.attr_locked().nlink++;
        target.attr_locked().ctime = now;
    }
    touch_dir(1, now);
    return {};
}

namespace {

// The victim's side of losing a name (shmem_unlink).
void drop_link(TmpfsSuper& sb, Inode& victim, const Timespec& now) {
    FsLockGuard g(victim.lock());
    InodeAttr& a = victim.attr_locked();
    if (a.nlink > 1 && !victim.is_dir()) sb.release_inode();
    if (a.nlink) a.nlink--;
    a.ctime = now;
}

}  // namespace

Status TmpfsInode::unlink(StringView name, Inode& victim) {
    TmpfsEntry* e = find(name);
    KASSERT(e && e->inode.get() == &victim);
    Timespec now = current_time();
    drop_link(tsb(), victim, now);
    remove(*e);
    TmpfsEntry::free(e);
    touch_dir(-1, now);
    return {};
}

Status TmpfsInode::rmdir(StringView name, Inode& victim) {
    if (!static_cast<TmpfsInode&>(victim).empty_dir()) return Error(ENOTEMPTY);
    add_nlink(victim, -1);  // its "."
    add_nlink(*this, -1);   // its ".."
    return unlink(name, victim);
}

Status TmpfsInode::rename(StringView old_name, Inode& source, Inode& new_dir_base, StringView new_name,
                          Inode* target, u32 flags, const CreateArgs* whiteout) {
    auto& new_dir = static_cast<TmpfsInode&>(new_dir_base);
    TmpfsEntry* oe = find(old_name);
    TmpfsEntry* ne = new_dir.find(new_name);
    KASSERT(oe && oe->inode.get() == &source);
    bool src_dir = source.is_dir();
    Timespec now = current_time();
    auto stamp = [&] {
        touch_dir(0, now);
        if (&new_dir != this) new_dir.touch_dir(0, now);
        {
            FsLockGuard g(source.lock());
            source.attr_locked().ctime = now;
        }
        if (target) {
            FsLockGuard g(target->lock());
            target->attr_locked().ctime = now;
        }
    };

    if (flags & RENAME_EXCHANGE) {
        // The two names keep their places (and cookies); the inodes swap.
        KASSERT(ne && target);
        swap(oe->inode, ne->inode);
        bool tgt_dir = target->is_dir();
        if (&new_dir != this && src_dir != tgt_dir) {
            add_nlink(src_dir ? *this : new_dir, -1);
            add_nlink(src_dir ? new_dir : *this, 1);
        }
        stamp();
        return {};
    }

    if (target && target->is_dir() && !static_cast<TmpfsInode*>(target)->empty_dir()) return Error(ENOTEMPTY);
    // Allocate everything before changing anything.
    TmpfsEntry* fresh = nullptr;
    if (!target) {
        fresh = TmpfsEntry::create(new_name, nullptr);
        if (!fresh) return Error(ENOMEM);
    }
    TmpfsEntry* wo_entry = nullptr;
    if (whiteout) {
        auto wo = tsb().new_inode(*whiteout);
        if (wo.is_ok()) wo_entry = TmpfsEntry::create(old_name, wo.release_value());
        if (!wo_entry) {
            if (fresh) TmpfsEntry::free(fresh);
            return wo.is_error() ? wo.error() : Error(ENOMEM);
        }
    }

    RefPtr<Inode> moving = move(oe->inode);
    remove(*oe);
    TmpfsEntry::free(oe);
    if (target) {
        // The moved inode takes over the target's entry and position.
        RefPtr<Inode> victim = move(ne->inode);
        ne->inode = move(moving);
        drop_link(tsb(), *target, now);
        new_dir.touch_dir(-1, now);
        if (src_dir) {
            add_nlink(*target, -1);
            add_nlink(*this, -1);
        }
    } else {
        fresh->inode = move(moving);
        new_dir.insert(*fresh);
        if (src_dir) {
            add_nlink(*this, -1);
            add_nlink(new_dir, 1);
        }
    }
    touch_dir(-1, now);
    new_dir.touch_dir(1, now);
    if (wo_entry) {
        insert(*wo_entry);
        touch_dir(1, now);
    }
    stamp();
    return {};
}

Status TmpfsInode::iterate(u64 pos, DirEmitter& out) {
    // The first entry whose cookie is at least pos.
    TmpfsEntry* e = nullptr;
    for (TmpfsEntry* cur = by_cookie_.root(); cur;) {
        if (cur->cookie >= pos) {
            e = cur;
            cur = ByCookie::left(*cur);
        } else {
            cur = ByCookie::right(*cur);
        }
    }
    for (; e; e = ByCookie::next(*e))
        if (!out.emit(e->name(), e->inode->ino(), dtype_of(e->inode->type()), e->cookie + 1)) break;
    return {};
}

Result<RefPtr<Inode>> TmpfsInode::tmpfile(const CreateArgs& args) {
    RefPtr<TmpfsInode> inode = TRY(tsb().new_inode(args));
    inode->attr_locked().nlink = 0;
    return RefPtr<Inode>(move(inode));
}

Result<usize> TmpfsInode::get_link(char* buf, usize size, void*) {
    if (!target_) return Error(EINVAL);
    mem_copy(buf, target_, min(size, target_len_));
    return target_len_;
}


}  // namespace keel::fs
