#include "fs/lock_ranges.h"

namespace keel::fs {

namespace {

constexpr short SEEK_SET_ = 0, SEEK_CUR_ = 1, SEEK_END_ = 2;

bool overlaps(const RecordLock& a, u64 start, u64 end) { return a.start <= end && start <= a.end; }

}  // namespace

Result<LockRange> lock_range(short whence, i64 start, i64 len, u64 pos, u64 size) {
    i64 base;
    switch (whence) {
    case SEEK_SET_:
        base = 0;
        break;
    case SEEK_CUR_:
        base = static_cast<i64>(pos);
        break;
    case SEEK_END_:
        base = static_cast<i64>(size);
        break;
    default:
        return Error(EINVAL);
    }
    constexpr i64 MAX = static_cast<i64>(LOCK_OFFSET_MAX);
    if (start > MAX - base) return Error(EOVERFLOW);
    i64 s = base + start;
    if (s < 0) return Error(EINVAL);
    i64 e;
    if (len > 0) {
        if (len - 1 > MAX - s) return Error(EOVERFLOW);
        e = s + (len - 1);  // s + len may overflow
    } else if (len < 0) {
        if (s + len < 0) return Error(EINVAL);
        e = s - 1;
        s += len;
    } else {
        e = MAX;
    }
    return LockRange{static_cast<u64>(s), static_cast<u64>(e)};
}

RecordLock* RecordLockList::find_conflict(const RecordLock& req) {
    for (RecordLock* l = list_.front(); l; l = list_.next(*l)) {
        if (l->owner == req.owner || !overlaps(*l, req.start, req.end)) continue;
        if (l->type == LOCK_TYPE_WRITE || req.type == LOCK_TYPE_WRITE) return l;
    }
    return nullptr;
}

void RecordLockList::apply(const RecordLock& req, RecordLock* (&spares)[2], List& freed) {
    auto take_spare = [&]() {
        RecordLock* s = spares[0] ? spares[0] : spares[1];
        KASSERT(s);
        (spares[0] ? spares[0] : spares[1]) = nullptr;
        return s;
    };
    u64 start = req.start, end = req.end;
    RecordLock* merged = nullptr;  // an existing lock of the same type that absorbs the request
    for (RecordLock* l = list_.front(); l;) {
        RecordLock* next = list_.next(*l);
        if (l->owner != req.owner) {
            l = next;
            continue;
        }
        if (l->type == req.type) {
            // Same type: overlapping or adjacent ranges become one lock.
            if (l->end + 1 >= start && end + 1 >= l->start) {
                start = min(start, l->start);
                end = max(end, l->end);
                if (merged) {
                    list_.remove(*l);
                    freed.push_back(*l);
                } else {
                    merged = l;
                }
            }
        } else if (overlaps(*l, start, end)) {
            if (l->start < start && l->end > end) {
                // The request falls inside: keep the head, a new lock takes the tail.
                RecordLock* tail = take_spare();
                tail->owner = l->owner;
                tail->pid = l->pid;
                tail->type = l->type;
                tail->start = end + 1;
                tail->end = l->end;
                if (next) list_.insert_before(*next, *tail);
                else list_.push_back(*tail);
                l->end = start - 1;
            } else if (l->start < start) {
                l->end = start - 1;
            } else if (l->end > end) {
                l->start = end + 1;
            } else {
                list_.remove(*l);
                freed.push_back(*l);
            }
        }
        l = next;
    }
    if (req.type == LOCK_TYPE_UNLOCK) return;
    RecordLock* nl = merged;
    if (nl) {
        list_.remove(*nl);
    } else {
        nl = take_spare();
        nl->owner = req.owner;
        nl->type = req.type;
    }
    nl->pid = req.pid;
    nl->start = start;
    nl->end = end;
    // Among the owner's locks, before the first that starts later; after
    // them if none does; a new owner goes last.
    RecordLock* after_owner = nullptr;
    for (RecordLock* l = list_.front(); l; l = list_.next(*l)) {
        if (l->owner != req.owner) {
            if (after_owner) break;
            continue;
        }
        if (l->start > start) {
            list_.insert_before(*l, *nl);
            return;
        }
        after_owner = l;
    }
    RecordLock* pos = after_owner ? list_.next(*after_owner) : nullptr;
    if (pos) list_.insert_before(*pos, *nl);
    else list_.push_back(*nl);
}

bool RecordLockList::remove_owner(const void* owner, List& freed) {
    bool any = false;
    for (RecordLock* l = list_.front(); l;) {
        RecordLock* next = list_.next(*l);
        if (l->owner == owner) {
            list_.remove(*l);
            freed.push_back(*l);
            any = true;
        }
        l = next;
    }
    return any;
}

}  // namespace keel::fs
