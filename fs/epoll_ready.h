// The ready list of an epoll instance, apart from locking and files so that
// it can be tested on the host. Items join the list from wake-up callbacks
// and leave it when epoll_wait (or a poll of the epoll file) scans them;
// the order matches Linux's: new items at the tail, level-triggered items
// that reported go back to the tail, items a scan did not reach (maxevents)
// stay at the front. The caller holds the instance's ready-list lock around
// every method; polling the files happens between them, unlocked, which is
// why items carry a state: a wake-up during the scan must not be lost.
#pragma once

#include <linux/eventpoll.h>

#include "lib/intrusive_list.h"

namespace keel::fs {

// Flags that are not events: an item whose other bits are all clear is
// disarmed (EPOLLONESHOT after it reported) and ignores wake-ups.
constexpr u32 EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

struct EpollReadyItem {
    enum class State : u8 {
        Idle,      // not queued
        Ready,     // on the ready list
        Scanning,  // taken by a scan
        Rearmed,   // taken by a scan, and woken again since
    };
    ListNode ready_node;
    u32 events = 0;  // interest set and EPOLLET/EPOLLONESHOT/...
    State state = State::Idle;

    bool armed() const { return events & ~EP_PRIVATE_BITS; }
};

class EpollReadyList {
public:
    using List = IntrusiveList<EpollReadyItem, &EpollReadyItem::ready_node>;

    bool empty() const { return list_.empty(); }
    usize size() const { return list_.size(); }
    EpollReadyItem* front() { return list_.front(); }

    // A wake-up of a queue the item's file registered, announcing `key`
    // (POLL* bits, 0 if unknown). Returns true when waiters should wake.
    bool wake(EpollReadyItem& it, u32 key) {
        if (!it.armed()) return false;
        if (key && !(key & it.events)) return false;
        enqueue(it);
        return true;
    }

    // The item polled ready outside a wake-up (EPOLL_CTL_ADD/MOD).
    void enqueue(EpollReadyItem& it) {
        switch (it.state) {
        case EpollReadyItem::State::Idle:
            it.state = EpollReadyItem::State::Ready;
            list_.push_back(it);
            break;
        case EpollReadyItem::State::Scanning:
            it.state = EpollReadyItem::State::Rearmed;
            break;
        default:
            break;
        }
    }

    // Moves every ready item to `tx` for a scan.
    void start_scan(List& tx) {
        while (EpollReadyItem* it = list_.pop_front()) {
            it->state = EpollReadyItem::State::Scanning;
            tx.push_back(*it);
        }
    }

    // A scanned item (already taken off `tx`) whose poll found nothing of
    // interest: it leaves the list unless woken during the scan.
    void scanned_idle(EpollReadyItem& it) { settle(it, false); }

    // A scanned item that reported events: EPOLLONESHOT disarms it, a
    // level-triggered one stays ready (back at the tail).
    void scanned_reported(EpollReadyItem& it) {
        if (it.events & EPOLLONESHOT) {
            it.events &= EP_PRIVATE_BITS;
            settle(it, false);
        } else {
            settle(it, !(it.events & EPOLLET));
        }
    }

    // Ends a scan: items it did not reach go back to the front, in order.
    void done_scan(List& tx) {
        while (EpollReadyItem* it = tx.back()) {
            tx.remove(*it);
            it->state = EpollReadyItem::State::Ready;
            list_.push_front(*it);
        }
    }

    // The item is being deleted (its hooks already unregistered, so no
    // wake-up can requeue it). An item held by a scan belongs to the
    // scanner, which runs under the instance's mutex and so cannot race
    // with deletion.
    void remove(EpollReadyItem& it) {
        if (it.state == EpollReadyItem::State::Ready) list_.remove(it);
        it.state = EpollReadyItem::State::Idle;
    }

private:
    void settle(EpollReadyItem& it, bool keep) {
        if (keep || it.state == EpollReadyItem::State::Rearmed) {
            it.state = EpollReadyItem::State::Ready;
            list_.push_back(it);
        } else {
            it.state = EpollReadyItem::State::Idle;
        }
    }

    List list_;
};

}  // namespace keel::fs
