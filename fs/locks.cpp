#include "fs/locks.h"

#include <asm-generic/fcntl.h>
#include <linux/fcntl.h>

#include "fs/core/file.h"
#include "fs/lock_ranges.h"
#include "kernel/process/process.h"
#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"

namespace keel::fs {

static_assert(LOCK_TYPE_READ == F_RDLCK && LOCK_TYPE_WRITE == F_WRLCK && LOCK_TYPE_UNLOCK == F_UNLCK);

namespace {

struct FlockEntry {
    ListNode node;
    OpenFile* file = nullptr;
    short type = LOCK_TYPE_READ;
};

// The locks of one inode (or one anonymous file).
struct LockContext {
    ListNode node;
    const void* key = nullptr;
    RecordLockList records;
    IntrusiveList<FlockEntry, &FlockEntry::node> flocks;
    bool empty() const { return records.empty() && flocks.empty(); }
};

// A process asleep in F_SETLKW, for deadlock detection: `owner` waits for
// a lock of `blocker`.
struct PosixWaiter {
    ListNode node;
    const void* owner = nullptr;
    const void* blocker = nullptr;
};

// Everything below is guarded by table_lock. Waiters sleep on
// `changed` until `generation` moves (some lock went or shrank).
sched::Mutex table_lock;
IntrusiveList<LockContext, &LockContext::node> contexts;
IntrusiveList<PosixWaiter, &PosixWaiter::node> posix_waiters;
u64 generation;
u64 record_count;  // record locks in existence: close(2)'s fast path
sched::WaitQueue changed;

constexpr int MAX_DEADLOCK_STEPS = 10;  // Linux's MAX_DEADLK_ITERATIONS

const void* key_of(OpenFile& f) {
    File* vf = f.vfs_file();
    return vf ? static_cast<const void*>(&vf->inode()) : &f;
}

LockContext* find_context(const void* key) {
    for (LockContext* c = contexts.front(); c; c = contexts.next(*c))
        if (c->key == key) return c;
    return nullptr;
}

Result<LockContext*> get_context(const void* key) {
    if (LockContext* c = find_context(key)) return c;
    LockContext* c = TRY(make<LockContext>());
    c->key = key;
    contexts.push_back(*c);
    return c;
}

void drop_if_empty(LockContext* c) {
    if (c && c->empty()) {
        contexts.remove(*c);
        destroy(c);
    }
}

void free_records(RecordLockList::List& freed) {
    while (RecordLock* l = freed.pop_front()) {
        destroy(l);
        --record_count;
    }
}

// Something was released: sleepers re-check. table_lock held.
void wake_waiters() {
    changed.update_and_wake([] { __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE); }, true);
}

// Sleeps until the lock table changes after `seen`; false for a signal.
bool wait_for_change(u64 seen) {
    return changed.wait_until_interruptible(
        [&] { return __atomic_load_n(&generation, __ATOMIC_ACQUIRE) != seen; });
}

// Would `owner` waiting for a lock of `blocker` close a cycle of POSIX
// owners waiting for each other?
bool deadlock(const void* owner, const void* blocker) {
    for (int i = 0; i <= MAX_DEADLOCK_STEPS; ++i) {
        PosixWaiter* w = posix_waiters.front();
        while (w && w->owner != blocker) w = posix_waiters.next(*w);
        if (!w) return false;
        blocker = w->blocker;
        if (blocker == owner) return true;
    }
    return false;
}

bool flock_conflict(LockContext& c, OpenFile& f, short type) {
    for (FlockEntry* e = c.flocks.front(); e; e = c.flocks.next(*e))
        if (e->file != &f && (e->type == LOCK_TYPE_WRITE || type == LOCK_TYPE_WRITE)) return true;
    return false;
}

// A record lock request: owner, pid and range filled from a struct flock.
Status set_record(OpenFile& f, RecordLock& req, bool wait, bool ofd) {
    const void* key = key_of(f);
    PosixWaiter waiter;
    waiter.owner = req.owner;
    for (;;) {
        u64 seen;
        {
            sched::MutexGuard g(table_lock);
            if (waiter.node.linked()) posix_waiters.remove(waiter);
            LockContext* c = find_context(key);
            if (req.type == LOCK_TYPE_UNLOCK && !c) return {};
            if (!c) c = TRY(get_context(key));
            RecordLock* conflict = req.type == LOCK_TYPE_UNLOCK ? nullptr : c->records.find_conflict(req);
            if (!conflict) {
                RecordLock* spares[2] = {};
                for (auto& s : spares) {
                    auto r = make_accounted<RecordLock>();
                    if (r.is_ok()) s = r.value();
                }
                if (!spares[0] || !spares[1]) {
                    for (auto* s : spares) destroy(s);
                    drop_if_empty(c);
                    return Error(ENOLCK);
                }
                RecordLockList::List freed;
                c->records.apply(req, spares, freed);
                for (auto* s : spares) {
                    if (s) destroy(s);
                    else ++record_count;
                }
                free_records(freed);
                if (ofd) __atomic_store_n(&f.has_locks, true, __ATOMIC_RELEASE);
                drop_if_empty(c);
                wake_waiters();
                return {};
            }
            drop_if_empty(c);
            if (!wait) return Error(EAGAIN);
            if (!ofd) {
                if (deadlock(req.owner, conflict->owner)) return Error(EDEADLK);
                waiter.blocker = conflict->owner;
                posix_waiters.push_back(waiter);
            }
            seen = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
        }
        if (!wait_for_change(seen)) {
            sched::MutexGuard g(table_lock);
            if (waiter.node.linked()) posix_waiters.remove(waiter);
            return Error(sig::ERESTARTSYS);
        }
    }
}

bool access_allows(OpenFile& f, short type) {
    File* vf = f.vfs_file();
    bool can_read = vf ? vf->readable() : (f.flags & O_ACCMODE) != O_WRONLY;
    bool can_write = vf ? vf->writable() : (f.flags & O_ACCMODE) != O_RDONLY;
    if (type == LOCK_TYPE_READ) return can_read;
    if (type == LOCK_TYPE_WRITE) return can_write;
    return true;
}

}  // namespace

Status flock(OpenFile& f, short type, bool nonblock) {
    const void* key = key_of(f);
    FlockEntry* fresh = nullptr;
    for (;;) {
        u64 seen;
        {
            sched::MutexGuard g(table_lock);
            LockContext* c = find_context(key);
            if (c) {
                for (FlockEntry* e = c->flocks.front(); e; e = c->flocks.next(*e)) {
                    if (e->file != &f) continue;
                    if (e->type == type) {
                        destroy(fresh);
                        return {};
                    }
                    // Conversion: the old lock goes first (so a conflicting
                    // holder may get in meanwhile).
                    c->flocks.remove(*e);
                    destroy(e);
                    wake_waiters();
                    break;
                }
            }
            if (type == LOCK_TYPE_UNLOCK) {
                drop_if_empty(c);
                destroy(fresh);
                return {};
            }
            if (!c) {
                auto r = get_context(key);
                if (r.is_error()) {
                    destroy(fresh);
                    return r.error();
                }
                c = r.value();
            }
            if (!flock_conflict(*c, f, type)) {
                if (!fresh) {
                    auto r = make_accounted<FlockEntry>();
                    if (r.is_error()) {
                        drop_if_empty(c);
                        return r.error();
                    }
                    fresh = r.value();
                }
                fresh->file = &f;
                fresh->type = type;
                c->flocks.push_back(*fresh);
                __atomic_store_n(&f.has_locks, true, __ATOMIC_RELEASE);
                return {};
            }
            drop_if_empty(c);
            if (nonblock) {
                destroy(fresh);
                return Error(EWOULDBLOCK);
            }
            seen = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
        }
        if (!wait_for_change(seen)) {
            destroy(fresh);
            return Error(sig::ERESTARTSYS);
        }
    }
}

Result<u64> fcntl_lock(OpenFile& f, int cmd, uptr arg) {
    struct flock fl = TRY(UserIn<struct flock>(arg).read());
    bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
    bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
    if (get && fl.l_type != F_RDLCK && fl.l_type != F_WRLCK) return Error(EINVAL);
    u64 pos = 0, size = 0;
    if (fl.l_whence == SEEK_CUR && f.seekable()) pos = TRY(f.lseek(0, SEEK_CUR));
    if (fl.l_whence == SEEK_END) {
        struct stat st;
        TRY(f.stat(st));
        size = static_cast<u64>(st.st_size);
    }
    LockRange range = TRY(lock_range(fl.l_whence, fl.l_start, fl.l_len, pos, size));
    if (!get && fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK) return Error(EINVAL);
    if (!get && !access_allows(f, fl.l_type)) return Error(EBADF);
    if (ofd && fl.l_pid != 0) return Error(EINVAL);

    proc::Process& p = *proc::current_process();
    RecordLock req;
    req.owner = ofd ? static_cast<const void*>(&f) : static_cast<const void*>(p.fds);
    req.pid = ofd ? -1 : p.pid;
    req.type = fl.l_type;
    req.start = range.start;
    req.end = range.end;

    if (!get) {
        TRY(set_record(f, req, cmd == F_SETLKW || cmd == F_OFD_SETLKW, ofd));
        return 0;
    }
    {
        sched::MutexGuard g(table_lock);
        LockContext* c = find_context(key_of(f));
        RecordLock* conflict = c ? c->records.find_conflict(req) : nullptr;
        if (!conflict) {
            fl.l_type = F_UNLCK;
        } else {
            fl.l_type = conflict->type;
            fl.l_whence = SEEK_SET;
            fl.l_start = static_cast<i64>(conflict->start);
            fl.l_len = conflict->end == LOCK_OFFSET_MAX ? 0 : static_cast<i64>(conflict->end - conflict->start + 1);
            fl.l_pid = conflict->pid;
        }
    }
    TRY(UserOut<struct flock>(arg).write(fl));
    return 0;
}

void locks_remove_posix(OpenFile& f, const void* owner) {
    if (!__atomic_load_n(&record_count, __ATOMIC_RELAXED)) return;
    sched::MutexGuard g(table_lock);
    LockContext* c = find_context(key_of(f));
    if (!c) return;
    RecordLockList::List freed;
    if (c->records.remove_owner(owner, freed)) {
        free_records(freed);
        wake_waiters();
    }
    drop_if_empty(c);
}

void locks_file_released(OpenFile& f) {
    sched::MutexGuard g(table_lock);
    LockContext* c = find_context(key_of(f));
    if (!c) return;
    bool any = false;
    for (FlockEntry* e = c->flocks.front(); e;) {
        FlockEntry* next = c->flocks.next(*e);
        if (e->file == &f) {
            c->flocks.remove(*e);
            destroy(e);
            any = true;
        }
        e = next;
    }
    RecordLockList::List freed;
    if (c->records.remove_owner(&f, freed)) {
        free_records(freed);
        any = true;
    }
    if (any) wake_waiters();
    drop_if_empty(c);
}

}  // namespace keel::fs
