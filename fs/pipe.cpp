#include "fs/pipe.h"

#include <asm-generic/fcntl.h>
#include <asm-generic/ioctls.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/stat.h>

#include "fs/vfs_file.h"
#include "kernel/cgroup/memcg.h"
#include "kernel/process/process.h"
#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"
#include "mm/layout.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"

namespace keel::fs {

namespace {

// PIPE_BUF (4096) comes from <linux/limits.h>.
constexpr usize DEFAULT_SIZE = 16 * 4096;
constexpr usize MAX_SIZE = 1048576;  // /proc/sys/fs/pipe-max-size

// One page of a pipe's data, as Linux's pipe_buffer: the bytes
// [offset, offset + len) of `page` are unread. The page is charged to the
// memory cgroup of the writer that took it (memcg; null: uncharged).
struct Slot {
    u8* page = nullptr;
    cgroup::Cgroup* memcg = nullptr;
    u16 offset = 0;
    u16 len = 0;
};

struct Pipe {
    sched::WaitQueue readable;  // waiters for data (or EOF)
    sched::WaitQueue writable;  // waiters for room (or no readers)
    sched::Mutex lock;          // guards everything below
    usize capacity = DEFAULT_SIZE;
    usize count = 0;  // unread bytes
    int readers = 1;
    int writers = 1;
    u64 ino = 0;
    // Ends not yet released: the last one frees the pipe once its wake-ups
    // are done (the other end may be released at the same time).
    u32 ends = 2;
    // FIFOs: the inode the pipe belongs to (the registry's key, under its
    // lock), and how many readers and writers ever opened it (an open
    // waiting for its partner waits for the other count to move).
    const void* fifo = nullptr;
    u64 r_counter = 0, w_counter = 0;
    sched::WaitQueue partner;
    Pipe* next_fifo = nullptr;

    // Linux keeps a pipe's data in page-sized slots (the capacity is their
    // number), which decides when a writer must wait. Pages come with the
    // data, one at a time, and go when it is read: an empty pipe holds
    // none but `spare`, the last page emptied (kept, still charged, for
    // the next write: a pipe passing messages allocates nothing).
    static constexpr usize kSlot = 4096;
    Slot* slots = nullptr;  // max_slots() entries, a ring
    usize slot_head = 0;    // the oldest slot
    usize nslots = 0;
    Slot spare;
    usize max_slots() const { return capacity / kSlot; }
    bool full() const { return nslots >= max_slots(); }
    // Bytes a write could place now in fresh slots.
    usize free_bytes() const { return full() ? 0 : (max_slots() - nslots) * kSlot; }
    // The capacity is a power-of-two number of pages (F_SETPIPE_SZ).
    Slot& slot(usize i) { return slots[(slot_head + i) & (max_slots() - 1)]; }
    // Where the newest slot's data ends within its page (0: no slot).
    usize last_end() { return nslots ? slot(nslots - 1).offset + slot(nslots - 1).len : 0; }

    // A page for a new slot: the spare, or a fresh one charged to the
    // writer's memory cgroup (ENOMEM over its memory.max: the caller runs
    // the OOM killer without the pipe's lock and tries again).
    Result<Slot> take_page() {
        if (spare.page) {
            Slot s = spare;
            spare = Slot{};
            return s;
        }
        Slot s;
        s.memcg = TRY(memcg::try_charge(memcg::KMEM));
        auto pa = mm::alloc_pages(0);
        if (pa.is_error()) {
            memcg::uncharge(s.memcg, memcg::KMEM);
            return pa.error();
        }
        s.page = static_cast<u8*>(mm::phys_to_virt(pa.value()));
        return s;
    }
    static void free_page(const Slot& s) {
        mm::free_pages(mm::virt_to_phys(s.page), 0);
        memcg::uncharge(s.memcg, memcg::KMEM);
    }
    void give_back(Slot& s) {
        if (!spare.page) spare = Slot{s.page, s.memcg, 0, 0};
        else free_page(s);
        s = Slot{};
    }

    // Appends n bytes from `in` at `at`: into the newest slot when `merge`
    // (it fits there), else into a new one (n <= kSlot, a slot is free).
    Status append(const IoBuffer& in, usize at, usize n, bool merge) {
        if (merge) {
            Slot& s = slot(nslots - 1);
            TRY(in.read_from(at, s.page + s.offset + s.len, n));
            s.len = static_cast<u16>(s.len + n);
        } else {
            Slot s = TRY(take_page());
            if (Status st = in.read_from(at, s.page, n); st.is_error()) {
                give_back(s);
                return st;
            }
            s.len = static_cast<u16>(n);
            slot(nslots) = s;
            ++nslots;
        }
        count += n;
        return {};
    }

    // Copies n unread bytes, `skip` bytes in, to `out` (nothing is consumed).
    Status copy_out(const IoBuffer& out, usize skip, usize n) {
        usize done = 0;
        for (usize i = 0; i < nslots && done < n; ++i) {
            Slot& s = slot(i);
            if (skip >= s.len) {
                skip -= s.len;
                continue;
            }
            usize k = min<usize>(s.len - skip, n - done);
            TRY(out.write_to(done, s.page + s.offset + skip, k));
            done += k;
            skip = 0;
        }
        return {};
    }

    // Drops n bytes from the front, releasing the slots they emptied.
    void consume(usize n) {
        count -= n;
        while (n && nslots) {
            Slot& s = slot(0);
            usize k = min<usize>(n, s.len);
            s.offset = static_cast<u16>(s.offset + k);
            s.len = static_cast<u16>(s.len - k);
            n -= k;
            if (s.len == 0) {
                give_back(s);
                slot_head = (slot_head + 1) & (max_slots() - 1);
                --nslots;
            }
        }
    }

    ~Pipe() {
        consume(count);
        if (spare.page) free_page(spare);
        if (slots) mm::kfree(slots);
    }
};

// A new pipe with its slot array (its pages come with data).
Result<Pipe*> new_pipe() {
    Pipe* p = TRY(make_accounted<Pipe>());
    auto slots = mm::kzalloc(p->max_slots() * sizeof(Slot));
    if (slots.is_error()) {
        destroy(p);
        return Error(ENOMEM);
    }
    p->slots = static_cast<Slot*>(slots.value());
    return p;
}

u64 next_ino = 1;

constexpr u8 END_READ = 1, END_WRITE = 2;

// The pipes of FIFOs open somewhere, by inode: a FIFO's pipe lives while
// any of its ends is open, and its data goes with the last one (Linux's
// i_pipe). Taken before a pipe's own lock.
sched::Mutex fifo_lock;
Pipe* fifo_list = nullptr;  // fifo_lock

class PipeEnd final : public OpenFile {
public:
    PipeEnd(Pipe* p, u8 mode) : pipe_(p), mode_(mode) {}
    FileKind kind() const override { return FileKind::Pipe; }

    Pipe* pipe() const { return pipe_; }
    void attach(Pipe* p) { pipe_ = p; }
    bool can_read() const { return mode_ & END_READ; }
    bool can_write() const { return mode_ & END_WRITE; }
    // FIFOs: the opened file (stat shows its inode), and the writer count
    // at open, so a reader that never saw a writer gets no POLLHUP.
    RefPtr<File> file;
    u64 seen_writers = 0;

    Result<usize> read(const IoBuffer& out, u64*) override {
        if (!can_read()) return Error(EBADF);
        if (out.size() == 0) return 0;
        Pipe& p = *pipe_;
        for (;;) {
            {
                sched::MutexGuard g(p.lock);
                if (p.count > 0) {
                    usize n = min(out.size(), p.count);
                    TRY(p.copy_out(out, 0, n));
                    p.consume(n);
                    p.writable.wake_all();
                    return n;
                }
                if (p.writers == 0) return 0;  // EOF
                if (flags & O_NONBLOCK) return Error(EAGAIN);
            }
            if (!p.readable.wait_until_interruptible([&] {
                    return __atomic_load_n(&p.count, __ATOMIC_ACQUIRE) > 0 ||
                           __atomic_load_n(&p.writers, __ATOMIC_ACQUIRE) == 0;
                }))
                return Error(sig::ERESTARTSYS);
        }
    }

    Result<usize> write(const IoBuffer& in, u64*) override {
        if (!can_write()) return Error(EBADF);
        Pipe& p = *pipe_;
        usize total = in.size();
        usize done = 0;
        // As Linux: the part of the write that is not a whole number of
        // pages goes first into the newest page if it fits there; the rest
        // takes fresh pages. A write of at most PIPE_BUF is thus atomic.
        bool try_merge = total % Pipe::kSlot != 0;
        int oom_rounds = 0;
        while (done < total || total == 0) {
            bool out_of_memory = false;
            {
                sched::MutexGuard g(p.lock);
                if (p.readers == 0) {
                    if (done) return done;
                    (void)sig::send_to_thread(*sched::current(), SIGPIPE, nullptr);
                    return Error(EPIPE);
                }
                if (total == 0) return 0;
                usize want = total - done;
                if (try_merge) {
                    try_merge = false;
                    usize chars = total % Pipe::kSlot;
                    if (p.nslots && p.last_end() + chars <= Pipe::kSlot) {
                        Status st = p.append(in, done, chars, true);
                        if (st.is_error()) return st.error();
                        done += chars;
                        p.readable.wake_all();
                        continue;
                    }
                }
                if (!p.full()) {
                    usize n = min(want, Pipe::kSlot);
                    Status st = p.append(in, done, n, false);
                    out_of_memory = st.is_error() && st.error().code() == ENOMEM && oom_rounds < 16;
                    if (st.is_error() && !out_of_memory) return done ? Result<usize>(done) : Result<usize>(st.error());
                    if (st.is_ok()) {
                        done += n;
                        p.readable.wake_all();
                        continue;
                    }
                } else if (flags & O_NONBLOCK) {
                    return done ? Result<usize>(done) : Result<usize>(Error(EAGAIN));
                }
            }
            if (out_of_memory) {
                // Over the writer's memory.max: its group's OOM killer
                // (without the pipe's lock: the victim may be waiting for
                // it) makes room, as for Linux's charged pipe pages.
                ++oom_rounds;
                if (!memcg::handle_oom()) return done ? Result<usize>(done) : Result<usize>(Error(ENOMEM));
                continue;
            }
            bool woke = p.writable.wait_until_interruptible([&] {
                return __atomic_load_n(&p.nslots, __ATOMIC_ACQUIRE) < p.max_slots() ||
                       __atomic_load_n(&p.readers, __ATOMIC_ACQUIRE) == 0;
            });
            if (!woke) return done ? Result<usize>(done) : Result<usize>(Error(sig::ERESTARTSYS));
        }
        return done;
    }

    u32 poll(PollTable* pt) override {
        Pipe& p = *pipe_;
        if (pt && can_read()) pt->add(p.readable);
        if (pt && can_write()) pt->add(p.writable);
        sched::MutexGuard g(p.lock);
        u32 mask = 0;
        if (can_read()) {
            if (p.count) mask |= POLLIN | POLLRDNORM;
            if (p.writers == 0 && (!p.fifo || p.w_counter != seen_writers)) mask |= POLLHUP;
        }
        if (can_write()) {
            // Writable while a page slot is free, as Linux's pipe buffers go.
            if (!p.full()) mask |= POLLOUT | POLLWRNORM;
            if (p.readers == 0) mask |= POLLERR;
        }
        return mask;
    }

    Result<u64> ioctl(u32 cmd, u64 arg) override {
        if (cmd != FIONREAD) return Error(ENOTTY);
        int n;
        {
            sched::MutexGuard g(pipe_->lock);
            n = static_cast<int>(pipe_->count);
        }
        TRY(UserOut<int>(arg).write(n));
        return 0;
    }

    Result<u64> fcntl(int cmd, u64 arg) override {
        Pipe& p = *pipe_;
        if (cmd == F_GETPIPE_SZ) return p.capacity;
        if (cmd != F_SETPIPE_SZ) return Error(EINVAL);
        // The argument is an unsigned int, rounded up to a power-of-two
        // number of pages (one at least); beyond 2 GiB it rounds to nothing.
        u32 want = static_cast<u32>(arg);
        if (want > (1u << 31)) return Error(EINVAL);
        usize size = 4096;
        while (size < want) size <<= 1;
        // Growing past pipe-max-size takes CAP_SYS_RESOURCE.
        if (size > MAX_SIZE && size > p.capacity && !cred_of(*proc::current_process()).capable(CAP_SYS_RESOURCE))
            return Error(EPERM);
        // Linux keeps a pipe's slot array (40 bytes a page) in one kmalloc
        // of at most 4 MiB: 65536 pages is the most it can hold.
        if (size / 4096 > 65536) return Error(ENOMEM);
        sched::MutexGuard g(p.lock);
        if (size / Pipe::kSlot < p.nslots) return Error(EBUSY);
        if (size == p.capacity) return size;
        auto nslots_buf = mm::kzalloc(size / Pipe::kSlot * sizeof(Slot));
        if (nslots_buf.is_error()) return nslots_buf.error();
        Slot* moved = static_cast<Slot*>(nslots_buf.value());
        for (usize i = 0; i < p.nslots; ++i) moved[i] = p.slot(i);
        mm::kfree(p.slots);
        p.slots = moved;
        p.slot_head = 0;
        p.capacity = size;
        p.writable.wake_all();
        return size;
    }

    Status stat(struct stat& st) override {
        if (file) return stat_path(file->path(), st);
        st = {};
        st.st_mode = S_IFIFO | 0600;
        st.st_nlink = 1;
        st.st_ino = pipe_->ino;
        st.st_dev = 0xd;  // pipefs's anonymous device
        st.st_blksize = 4096;
        return {};
    }

protected:
    void release() override {
        Pipe* p = pipe_;
        if (p->fifo) {
            release_fifo_end(p);
            destroy(this);
            return;
        }
        {
            sched::MutexGuard g(p->lock);
            if (can_write()) --p->writers;
            if (can_read()) --p->readers;
        }
        p->readable.wake_all();
        p->writable.wake_all();
        if (__atomic_sub_fetch(&p->ends, 1, __ATOMIC_ACQ_REL) == 0) {
            destroy(p);
        }
        destroy(this);
    }

private:
    void release_fifo_end(Pipe* p);

    Pipe* pipe_;
    u8 mode_;
};

void PipeEnd::release_fifo_end(Pipe* p) {
    bool last;
    {
        sched::MutexGuard reg(fifo_lock);
        {
            sched::MutexGuard g(p->lock);
            if (can_write()) --p->writers;
            if (can_read()) --p->readers;
        }
        last = --p->ends == 0;
        if (last)
            for (Pipe** at = &fifo_list; *at; at = &(*at)->next_fifo)
                if (*at == p) {
                    *at = p->next_fifo;
                    break;
                }
    }
    p->readable.wake_all();
    p->writable.wake_all();
    if (last) destroy(p);
}

}  // namespace

namespace {

Result<Pipe*> pipe_of(OpenFile& f, bool want_write_end) {
    if (f.kind() != FileKind::Pipe) return Error(EINVAL);
    auto& end = static_cast<PipeEnd&>(f);
    if (want_write_end ? !end.can_write() : !end.can_read()) return Error(EBADF);
    return end.pipe();
}

}  // namespace

bool pipe_same(OpenFile& a, OpenFile& b) {
    return a.kind() == FileKind::Pipe && b.kind() == FileKind::Pipe &&
           static_cast<PipeEnd&>(a).pipe() == static_cast<PipeEnd&>(b).pipe();
}

Result<usize> pipe_wait_data(OpenFile& read_end, bool nonblock) {
    Pipe& p = *TRY(pipe_of(read_end, false));
    for (;;) {
        {
            sched::MutexGuard g(p.lock);
            if (p.count) return p.count;
            if (p.writers == 0) return usize(0);
            if (nonblock) return Error(EAGAIN);
        }
        if (!p.readable.wait_until_interruptible([&] {
                return __atomic_load_n(&p.count, __ATOMIC_ACQUIRE) > 0 ||
                       __atomic_load_n(&p.writers, __ATOMIC_ACQUIRE) == 0;
            }))
            return Error(sig::ERESTARTSYS);
    }
}

Result<usize> pipe_wait_room(OpenFile& write_end, bool nonblock) {
    Pipe& p = *TRY(pipe_of(write_end, true));
    for (;;) {
        {
            sched::MutexGuard g(p.lock);
            if (p.readers == 0) {
                (void)sig::send_to_thread(*sched::current(), SIGPIPE, nullptr);
                return Error(EPIPE);
            }
            if (!p.full()) return p.free_bytes();
            if (nonblock) return Error(EAGAIN);
        }
        if (!p.writable.wait_until_interruptible([&] {
                return __atomic_load_n(&p.nslots, __ATOMIC_ACQUIRE) < p.max_slots() ||
                       __atomic_load_n(&p.readers, __ATOMIC_ACQUIRE) == 0;
            }))
            return Error(sig::ERESTARTSYS);
    }
}

Result<usize> pipe_peek(OpenFile& read_end, const IoBuffer& out, usize skip) {
    Pipe& p = *TRY(pipe_of(read_end, false));
    sched::MutexGuard g(p.lock);
    if (skip >= p.count) return usize(0);
    usize n = min(out.size(), p.count - skip);
    TRY(p.copy_out(out, skip, n));
    return n;
}

void pipe_consume(OpenFile& read_end, usize n) {
    auto r = pipe_of(read_end, false);
    if (r.is_error()) return;
    Pipe& p = *r.value();
    sched::MutexGuard g(p.lock);
    n = min(n, p.count);
    p.consume(n);
    p.writable.wake_all();
}

Status pipe_create(OpenFile* (&ends)[2], u32 fl) {
    Pipe* p = TRY(new_pipe());
    p->ino = __atomic_fetch_add(&next_ino, 1, __ATOMIC_RELAXED);
    auto r = make_accounted<PipeEnd>(p, END_READ);
    auto w = make_accounted<PipeEnd>(p, END_WRITE);
    if (r.is_error() || w.is_error()) {
        if (r.is_ok()) destroy(r.value());
        if (w.is_ok()) destroy(w.value());
        destroy(p);
        return Error(ENOMEM);
    }
    r.value()->flags = O_RDONLY | (fl & O_NONBLOCK);
    w.value()->flags = O_WRONLY | (fl & O_NONBLOCK);
    ends[0] = r.value();
    ends[1] = w.value();
    return {};
}

Result<OpenFile*> open_fifo(RefPtr<File> file, u32 oflags) {
    u32 acc = oflags & O_ACCMODE;
    if (acc == 3) return Error(EINVAL);
    bool nonblock = oflags & O_NONBLOCK;
    const void* key = &file->inode();
    u8 mode = acc == O_RDONLY ? END_READ : acc == O_WRONLY ? END_WRITE : END_READ | END_WRITE;
    PipeEnd* end = TRY(make_accounted<PipeEnd>(nullptr, mode));
    Pipe* p = nullptr;
    bool wait = false, nxio = false;
    Pipe* orphan = nullptr;  // created for this open only, unreachable again
    u64 seen = 0;
    {
        sched::MutexGuard reg(fifo_lock);
        for (Pipe* q = fifo_list; q && !p; q = q->next_fifo)
            if (q->fifo == key) p = q;
        if (!p) {
            auto np = new_pipe();
            if (np.is_error()) {
                destroy(end);
                return Error(ENOMEM);
            }
            p = np.value();
            p->readers = p->writers = 0;
            p->ends = 0;
            p->fifo = key;
            p->ino = file->inode().ino();
            p->next_fifo = fifo_list;
            fifo_list = p;
        }
        sched::MutexGuard g(p->lock);
        // A non-blocking writer needs a reader already there.
        if (acc == O_WRONLY && nonblock && p->readers == 0) {
            bool unused = p->ends == 0;
            if (unused)
                for (Pipe** at = &fifo_list; *at; at = &(*at)->next_fifo)
                    if (*at == p) {
                        *at = p->next_fifo;
                        break;
                    }
            nxio = true;
            orphan = unused ? p : nullptr;
        } else {
            if (mode & END_READ) ++p->readers, ++p->r_counter;
            if (mode & END_WRITE) ++p->writers, ++p->w_counter;
            ++p->ends;
            end->attach(p);
            // Without the other side: a reader or writer waits for it (O_RDWR
            // never does); a non-blocking reader sees no hang-up until a
            // writer has come.
            if (acc == O_RDONLY && p->writers == 0) {
                if (nonblock) end->seen_writers = p->w_counter;
                else wait = true, seen = p->w_counter;
            }
            if (acc == O_WRONLY && p->readers == 0) wait = true, seen = p->r_counter;
        }
    }
    if (nxio) {
        destroy(end);
        if (orphan) destroy(orphan);
        return Error(ENXIO);
    }
    p->partner.wake_all();
    p->readable.wake_all();
    p->writable.wake_all();
    end->file = move(file);
    if (wait) {
        u64* counter = acc == O_RDONLY ? &p->w_counter : &p->r_counter;
        if (!p->partner.wait_until_interruptible([&] { return __atomic_load_n(counter, __ATOMIC_ACQUIRE) != seen; })) {
            end->put();
            return Error(sig::ERESTARTSYS);
        }
    }
    return end;
}

}  // namespace keel::fs
