#include "fs/epoll.h"

#include <linux/eventpoll.h>
#include <linux/poll.h>

#include "fs/core/file.h"
#include "fs/epoll_ready.h"
#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"
#include "kernel/time.h"
#include "kernel/timer.h"
#include "lib/alloc.h"
#include "lib/format.h"
#include "lib/rbtree.h"

namespace keel::fs {

namespace {

class Eventpoll;
struct EpItem;

// One wait queue an item's file registered from its poll(): the entry's
// callback marks the item ready.
struct EpHook {
    sched::WaitEntry entry;
    sched::WaitQueue* wq = nullptr;
    EpItem* item = nullptr;
    EpHook* next = nullptr;
};

struct EpItem : EpollReadyItem {
    RbNode ep_node;                  // Eventpoll::items, keyed by (file, fd)
    EpItem* next_in_file = nullptr;  // OpenFile::epoll_items chain (epoll_global)
    Eventpoll* ep = nullptr;
    OpenFile* file = nullptr;        // not referenced: the item goes with the file
    int fd = -1;
    u64 data = 0;
    EpHook* hooks = nullptr;
    bool hook_failed = false;
};

// Linux keys items by file and descriptor number (one file may be added
// under several descriptors).
struct ItemOrder {
    static bool before(const OpenFile* fa, int fda, const OpenFile* fb, int fdb) {
        return fa != fb ? reinterpret_cast<uptr>(fa) < reinterpret_cast<uptr>(fb) : fda < fdb;
    }
    static bool less(const EpItem& a, const EpItem& b) { return before(a.file, a.fd, b.file, b.fd); }
};

// Serialises epoll_ctl, every item list and per-file chain, and the loop
// checks (Linux's epnested_mutex, taken for every change here). Order:
// epoll_global, then an instance's mtx, then (for nested instances) the
// inner instance's mtx; the loop check keeps that order acyclic.
sched::Mutex epoll_global;
u32 loop_gen;  // epoll_global

// Linux's EP_MAX_NESTS: at most 5 instances in a chain.
constexpr int EP_MAX_NESTS = 4;

constexpr u32 EPOLLINOUT_BITS = EPOLLIN | EPOLLOUT;
constexpr u32 EPOLLEXCLUSIVE_OK_BITS = EPOLLINOUT_BITS | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

class Eventpoll final : public OpenFile {
public:
    FileKind kind() const override { return FileKind::Epoll; }

    Status stat(struct stat& st) override {
        st = {};
        st.st_mode = 0600;  // anon_inode: no file type bits
        st.st_nlink = 1;
        st.st_blksize = 4096;
        st.st_dev = 0xe;  // anon_inodefs
        return {};
    }

    usize anon_name(char* buf, usize size) override {
        return static_cast<usize>(format(buf, size, "anon_inode:[eventpoll]"));
    }

    // Linux's eventpoll files seek nowhere but succeed (noop_llseek).
    Result<u64> lseek(i64, int) override { return u64{0}; }

    // Ready when some queued item really has events: the queued items are
    // polled, and those that have nothing leave the list (as Linux does).
    u32 poll(PollTable* pt) override {
        if (pt) pt->add(pollers);
        sched::MutexGuard g(mtx);
        EpollReadyList::List tx;
        {
            SpinlockGuard l(lock);
            ready.start_scan(tx);
        }
        u32 res = 0;
        while (EpollReadyItem* ri = tx.front()) {
            auto* it = static_cast<EpItem*>(ri);
            if (it->file->poll(nullptr) & it->events) {
                res = POLLIN | POLLRDNORM;
                break;
            }
            tx.remove(*it);
            SpinlockGuard l(lock);
            ready.scanned_idle(*it);
        }
        SpinlockGuard l(lock);
        ready.done_scan(tx);
        return res;
    }

    EpItem* find(OpenFile* f, int fd) {
        for (EpItem* it = items.root(); it;) {
            if (it->file == f && it->fd == fd) return it;
            it = ItemOrder::before(f, fd, it->file, it->fd) ? items.left(*it) : items.right(*it);
        }
        return nullptr;
    }

    Status insert(OpenFile& f, int fd, u32 events, u64 data);
    Status modify(EpItem& it, u32 events, u64 data);
    void remove(EpItem& it);
    Result<usize> send_events(uptr out, usize max);
    Result<usize> wait(uptr out, usize max, u64 deadline);
    void queue_ready(EpItem& it);

    static bool callback(sched::WaitEntry& e, u32 key);

    sched::Mutex mtx;                        // items, scans
    Spinlock lock{LockRank::Epoll};          // ready, item states
    EpollReadyList ready;
    RbTree<EpItem, &EpItem::ep_node, ItemOrder> items;
    sched::WaitQueue waiters{LockRank::EpollWait};  // epoll_wait sleepers
    // poll(2) and outer epoll instances watching this one. Woken from
    // callbacks under other queues' locks, possibly an inner instance's
    // pollers: unranked, the loop check rules out cycles.
    sched::WaitQueue pollers{LockRank::None};
    u32 gen = 0;          // loop check visit mark (epoll_global)
    int check_depth = 0;  // loop check result for this visit

protected:
    void release() override {
        {
            sched::MutexGuard g(epoll_global);
            sched::MutexGuard m(mtx);
            while (EpItem* it = items.first()) remove(*it);
        }
        destroy(this);
    }
};

// Registers the item's wait queues while its file polls.
class HookTable final : public PollTable {
public:
    explicit HookTable(EpItem& it) : it_(it) {}
    void add(sched::WaitQueue& wq) override {
        auto h = make<EpHook>();
        if (h.is_error()) {
            it_.hook_failed = true;
            return;
        }
        EpHook* hook = h.value();
        hook->wq = &wq;
        hook->item = &it_;
        hook->entry.func = Eventpoll::callback;
        hook->entry.exclusive = it_.events & EPOLLEXCLUSIVE;
        hook->next = it_.hooks;
        it_.hooks = hook;
        wq.add(hook->entry);
    }

private:
    EpItem& it_;
};

bool Eventpoll::callback(sched::WaitEntry& e, u32 key) {
    auto* hook = reinterpret_cast<EpHook*>(reinterpret_cast<char*>(&e) - __builtin_offsetof(EpHook, entry));
    EpItem& it = *hook->item;
    Eventpoll& ep = *it.ep;
    bool exclusive = e.exclusive;
    bool ewake = false, pwake = false;
    {
        SpinlockGuard g(ep.lock);
        if (!ep.ready.wake(it, key)) return false;
        if (ep.waiters.waiters()) {
            if (exclusive) {
                u32 io = key & EPOLLINOUT_BITS;
                if (io == 0) ewake = true;
                else if (io == EPOLLIN) ewake = it.events & EPOLLIN;
                else if (io == EPOLLOUT) ewake = it.events & EPOLLOUT;
            }
            ep.waiters.wake_one();
        }
        pwake = true;
    }
    if (pwake) ep.pollers.wake_all(EPOLLIN);
    return exclusive ? ewake : true;
}

void Eventpoll::queue_ready(EpItem& it) {
    {
        SpinlockGuard g(lock);
        ready.enqueue(it);
        waiters.wake_one();
    }
    pollers.wake_all(EPOLLIN);
}

// epoll_global and mtx held.
Status Eventpoll::insert(OpenFile& f, int fd, u32 events, u64 data) {
    EpItem* it = TRY(make_accounted<EpItem>());
    it->ep = this;
    it->file = &f;
    it->fd = fd;
    it->events = events;
    it->data = data;
    items.insert(*it);
    it->next_in_file = static_cast<EpItem*>(f.epoll_items);
    __atomic_store_n(&f.epoll_items, static_cast<void*>(it), __ATOMIC_RELEASE);
    HookTable pt(*it);
    u32 revents = f.poll(&pt) & events;
    if (it->hook_failed) {
        remove(*it);
        return Error(ENOMEM);
    }
    if (revents) queue_ready(*it);
    return {};
}

// mtx held.
Status Eventpoll::modify(EpItem& it, u32 events, u64 data) {
    {
        SpinlockGuard g(lock);
        it.events = events;
    }
    it.data = data;
    if (it.file->poll(nullptr) & events) queue_ready(it);
    return {};
}

// epoll_global and mtx held.
void Eventpoll::remove(EpItem& it) {
    // Once off every queue no callback can run for the item.
    while (EpHook* h = it.hooks) {
        it.hooks = h->next;
        h->wq->remove(h->entry);
        destroy(h);
    }
    {
        SpinlockGuard g(lock);
        ready.remove(it);
    }
    items.erase(it);
    OpenFile& f = *it.file;
    auto** link = reinterpret_cast<EpItem**>(&f.epoll_items);
    while (*link && *link != &it) link = &(*link)->next_in_file;
    if (*link) *link = it.next_in_file;
    destroy(&it);
}

// Reports ready items, at most `max`, to the user array at `out`.
Result<usize> Eventpoll::send_events(uptr out, usize max) {
    sched::MutexGuard g(mtx);
    EpollReadyList::List tx;
    {
        SpinlockGuard l(lock);
        ready.start_scan(tx);
    }
    usize n = 0;
    bool fault = false;
    while (n < max) {
        EpollReadyItem* ri = tx.pop_front();
        if (!ri) break;
        auto* it = static_cast<EpItem*>(ri);
        u32 revents = it->file->poll(nullptr) & it->events;
        if (!revents) {
            SpinlockGuard l(lock);
            ready.scanned_idle(*it);
            continue;
        }
        epoll_event ev;
        ev.events = revents;
        ev.data = it->data;
        if (copy_to_user(out + n * sizeof(ev), &ev, sizeof(ev)).is_error()) {
            tx.push_front(*it);
            fault = n == 0;
            break;
        }
        ++n;
        SpinlockGuard l(lock);
        ready.scanned_reported(*it);
    }
    {
        SpinlockGuard l(lock);
        ready.done_scan(tx);
    }
    if (fault) return Error(EFAULT);
    return n;
}

Result<usize> Eventpoll::wait(uptr out, usize max, u64 deadline) {
    sched::Thread* self = sched::current();
    for (;;) {
        usize n = TRY(send_events(out, max));
        if (n) return n;
        if (time::monotonic_ns() >= deadline) return 0;
        if (sig::interrupt_pending()) return Error(EINTR);

        sched::WaitEntry e;
        e.thread = self;
        waiters.add(e);
        self->sleep_timer.fn = [](Timer* tm) { sched::wake(static_cast<sched::Thread*>(tm->data)); };
        self->sleep_timer.data = self;
        __atomic_store_n(&self->interruptible, true, __ATOMIC_SEQ_CST);
        sched::set_current_blocked();
        bool available;
        {
            SpinlockGuard l(lock);
            available = !ready.empty();
        }
        if (available || __atomic_load_n(&e.woken, __ATOMIC_SEQ_CST) || sig::interrupt_pending() ||
            time::monotonic_ns() >= deadline) {
            sched::wake(self);
        } else {
            if (deadline != ~0ull) timer_arm(self->sleep_timer, deadline);
            sched::schedule();
            timer_cancel(self->sleep_timer);
        }
        __atomic_store_n(&self->interruptible, false, __ATOMIC_SEQ_CST);
        waiters.remove(e);
    }
}

// How deep the instances below `ep` go, EP_MAX_NESTS + 1 when too deep or
// when `into` is among them (a loop). epoll_global held: item lists are
// stable.
int depth_below(Eventpoll& ep, Eventpoll& into, int depth) {
    if (ep.gen == loop_gen) return ep.check_depth;
    ep.gen = loop_gen;
    int result = 0;
    for (EpItem* it = ep.items.first(); it; it = ep.items.next(*it)) {
        if (it->file->kind() != FileKind::Epoll) continue;
        auto& to = static_cast<Eventpoll&>(*it->file);
        if (&to == &into || depth > EP_MAX_NESTS) result = EP_MAX_NESTS + 1;
        else result = max(result, depth_below(to, into, depth + 1) + 1);
        if (result > EP_MAX_NESTS) break;
    }
    ep.check_depth = result;
    return result;
}

// How far up the instances watching `ep` go.
int depth_above(Eventpoll& ep) {
    if (ep.gen == loop_gen) return ep.check_depth;
    int result = 0;
    for (auto* it = static_cast<EpItem*>(ep.epoll_items); it; it = it->next_in_file)
        result = max(result, depth_above(*it->ep) + 1);
    ep.gen = loop_gen;
    ep.check_depth = result;
    return result;
}

bool loop_ok(Eventpoll& ep, Eventpoll& to) {
    ++loop_gen;
    int depth = depth_below(to, ep, 0);
    if (depth > EP_MAX_NESTS) return false;
    ++loop_gen;
    return depth + 1 + depth_above(ep) <= EP_MAX_NESTS;
}

// Regular files and directories have no poll in Linux: epoll refuses them,
// unless their file system gives them one (kernfs: cgroup files).
bool can_poll(OpenFile& f) {
    if (f.polls_regular_file()) return true;
    File* vf = f.vfs_file();
    if (vf && vf->inode().has_poll()) return true;
    if (f.kind() == FileKind::Vfs) return false;
    return !vf || !(vf->inode().is_reg() || vf->inode().is_dir());
}

}  // namespace

Result<OpenFile*> epoll_create() {
    Eventpoll* ep = TRY(make_accounted<Eventpoll>());
    ep->flags = O_RDWR;
    return static_cast<OpenFile*>(ep);
}

Status epoll_ctl(OpenFile& epf, int op, OpenFile& target, int fd, u32 events, u64 data) {
    if (!can_poll(target)) return Error(EPERM);
    bool has_event = op != EPOLL_CTL_DEL;
    // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; without it the flag is dropped.
    if (has_event && !caps::capable(CAP_BLOCK_SUSPEND)) events &= ~static_cast<u32>(EPOLLWAKEUP);
    if (&epf == &target || epf.kind() != FileKind::Epoll) return Error(EINVAL);
    if (has_event && (events & EPOLLEXCLUSIVE)) {
        if (op == EPOLL_CTL_MOD) return Error(EINVAL);
        if (op == EPOLL_CTL_ADD && (target.kind() == FileKind::Epoll || (events & ~EPOLLEXCLUSIVE_OK_BITS)))
            return Error(EINVAL);
    }
    auto& ep = static_cast<Eventpoll&>(epf);
    sched::MutexGuard g(epoll_global);
    sched::MutexGuard m(ep.mtx);
    if (op == EPOLL_CTL_ADD && target.kind() == FileKind::Epoll && !loop_ok(ep, static_cast<Eventpoll&>(target)))
        return Error(ELOOP);
    EpItem* it = ep.find(&target, fd);
    switch (op) {
    case EPOLL_CTL_ADD:
        if (it) return Error(EEXIST);
        return ep.insert(target, fd, events | EPOLLERR | EPOLLHUP, data);
    case EPOLL_CTL_DEL:
        if (!it) return Error(ENOENT);
        ep.remove(*it);
        return {};
    case EPOLL_CTL_MOD:
        if (!it) return Error(ENOENT);
        if (it->events & EPOLLEXCLUSIVE) return Error(EINVAL);
        return ep.modify(*it, events | EPOLLERR | EPOLLHUP, data);
    default:
        return Error(EINVAL);
    }
}

Result<usize> epoll_wait(OpenFile& epf, uptr events, usize maxevents, u64 deadline) {
    if (epf.kind() != FileKind::Epoll) return Error(EINVAL);
    return static_cast<Eventpoll&>(epf).wait(events, maxevents, deadline);
}

void epoll_file_released(OpenFile& f) {
    sched::MutexGuard g(epoll_global);
    while (auto* it = static_cast<EpItem*>(f.epoll_items)) {
        Eventpoll& ep = *it->ep;
        sched::MutexGuard m(ep.mtx);
        ep.remove(*it);
    }
}

}  // namespace keel::fs
