// The open description of a pressure file (/proc/pressure/*, a cgroup's
// *.pressure): reads through the file's inode, a trigger per description
// created by write, and poll reporting the trigger's events.
#include <linux/capability.h>
#include <linux/poll.h>

#include "fs/core/vfs.h"
#include "fs/vfs_file.h"
#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/psi/psi_internal.h"
#include "kernel/sched/wait.h"
#include "kernel/time.h"
#include "lib/alloc.h"

namespace keel::psi {

namespace {

constexpr u32 DEFAULT_MASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
// /proc/pressure copies at most this much of a write (its last byte
// becomes the terminating NUL); kernfs takes up to a page.
constexpr usize PROC_WRITE_MAX = 32;
constexpr usize KERNFS_WRITE_MAX = 4096;

struct TriggerBox {
    Trigger trigger;
    sched::WaitQueue wq;
    bool detached = false;  // the group went away (set under psi_lock, read by poll without it)
};

// Under psi_lock: an event, or (unlinked by group_destroy) the group's end.
void notify_trigger(Trigger& t) {
    auto* box = static_cast<TriggerBox*>(t.owner);
    bool gone = !t.node.linked();
    if (gone) __atomic_store_n(&box->detached, true, __ATOMIC_RELEASE);
    box->wq.wake_all(gone ? (POLLERR | POLLPRI) : POLLPRI);
}

class PressureFile final : public fs::OpenFile {
public:
    PressureFile(RefPtr<fs::File> file, PsiGroup* g, Resource res, WriteStyle style, bool privileged)
        : file_(move(file)), group_(g), res_(res), style_(style), privileged_(privileged) {}

    fs::File* vfs_file() override { return file_.get(); }
    bool seekable() const override { return true; }
    bool polls_regular_file() const override { return true; }
    Status stat(struct stat& st) override { return fs::stat_path(file_->path(), st); }
    Result<usize> read(const IoBuffer& buf, u64*) override {
        fs::IoData d(buf);
        return fs::read(*file_, d);
    }
    Result<usize> pread(const IoBuffer& buf, u64 off) override {
        fs::IoData d(buf);
        return fs::pread(*file_, d, off);
    }
    // Linux's seq_file: only SEEK_SET and SEEK_CUR (and no pwrite: ESPIPE,
    // the default).
    Result<u64> lseek(i64 off, int whence) override {
        if (whence != SEEK_SET && whence != SEEK_CUR) return Error(EINVAL);
        return fs::lseek(*file_, off, whence);
    }

    Result<usize> write(const IoBuffer& buf, u64*) override {
        usize n = buf.size();
        usize len;
        char small[PROC_WRITE_MAX];
        char* text = small;
        if (style_ == WriteStyle::Proc) {
            if (n == 0) return Error(EINVAL);
            len = n < PROC_WRITE_MAX ? n : PROC_WRITE_MAX;
            TRY(buf.read_from(0, text, len));
            text[len - 1] = '\0';
        } else {
            len = n < KERNFS_WRITE_MAX - 1 ? n : KERNFS_WRITE_MAX - 1;
            text = static_cast<char*>(heap_alloc(len + 1));
            if (!text) return Error(ENOMEM);
            Status st = buf.read_from(0, text, len);
            if (st.is_error()) {
                heap_free(text);
                return st.error();
            }
            text[len] = '\0';
        }
        Status st = install(text);
        if (text != small) heap_free(text);
        TRY(st);
        return n;
    }

    u32 poll(fs::PollTable* pt) override {
        TriggerBox* box = __atomic_load_n(&box_, __ATOMIC_ACQUIRE);
        if (!box) return DEFAULT_MASK | POLLERR | POLLPRI;
        if (pt) pt->add(box->wq);
        // No psi_lock here: epoll asks under locks of its own.
        if (__atomic_load_n(&box->detached, __ATOMIC_ACQUIRE)) return DEFAULT_MASK | POLLERR | POLLPRI;
        return DEFAULT_MASK | (trigger_take_event(box->trigger) ? POLLPRI : 0u);
    }

protected:
    void release() override {
        if (box_) {
            {
                SpinlockGuard g(psi_lock);
                if (!box_->detached) trigger_remove(group_->core, box_->trigger);
            }
            destroy(box_);
        }
        group_put(group_);
        destroy(this);
    }

private:
    // One trigger per description, as Linux (EBUSY before the text is
    // even looked at).
    Status install(const char* text) {
        sched::MutexGuard g(write_lock_);
        if (box_) return Error(EBUSY);
        bool dead;
        {
            SpinlockGuard lg(psi_lock);
            dead = group_->dead;
        }
        if (dead) return Error(ENODEV);
        TriggerSpec spec = TRY(parse_trigger(text, res_, privileged_));
        TriggerBox* box = TRY(make<TriggerBox>());
        box->trigger.notify = notify_trigger;
        box->trigger.owner = box;
        {
            SpinlockGuard lg(psi_lock);
            if (group_->dead) {
                destroy(box);
                return Error(ENODEV);
            }
            trigger_add(group_->core, box->trigger, spec, privileged_, time::monotonic_ns());
        }
        __atomic_store_n(&box_, box, __ATOMIC_RELEASE);
        return {};
    }

    RefPtr<fs::File> file_;
    PsiGroup* group_;  // a reference
    Resource res_;
    WriteStyle style_;
    bool privileged_;  // the opener's CAP_SYS_RESOURCE
    sched::Mutex write_lock_;
    TriggerBox* box_ = nullptr;
};

}  // namespace

Result<fs::OpenFile*> open_pressure_file(fs::File& file, PsiGroup* g, Resource res, WriteStyle style) {
    proc::Process* p = proc::current_process();
    bool privileged = p && caps::has(p->cred, CAP_SYS_RESOURCE);
    PressureFile* f = TRY(make<PressureFile>(RefPtr<fs::File>(&file), g, res, style, privileged));
    group_get(g);
    return f;
}

}  // namespace keel::psi
