// Doubly linked intrusive list: the links live inside the element, so run
// queues and wait queues never allocate. An element may sit on one list per
// ListNode it contains.
#pragma once

#include "lib/result.h"

namespace keel {

struct ListNode {
    ListNode* prev = nullptr;
    ListNode* next = nullptr;
    bool linked() const { return next != nullptr; }
};

template <typename T, ListNode T::*Link>
class IntrusiveList {
public:
    IntrusiveList() { head_.prev = head_.next = &head_; }
    IntrusiveList(const IntrusiveList&) = delete;
    IntrusiveList& operator=(const IntrusiveList&) = delete;

    bool empty() const { return head_.next == &head_; }
    usize size() const { return size_; }

    void push_back(T& item) { insert_before(head_, item.*Link); }
    void push_front(T& item) { insert_before(*head_.next, item.*Link); }

    void insert_before(T& pos, T& item) { insert_before(pos.*Link, item.*Link); }

    void remove(T& item) {
        ListNode& n = item.*Link;
        KASSERT(n.linked());
        n.prev->next = n.next;
        n.next->prev = n.prev;
        n.prev = n.next = nullptr;
        --size_;
    }

    T* front() { return empty() ? nullptr : owner(head_.next); }
    T* back() { return empty() ? nullptr : owner(head_.prev); }
    T* pop_front() {
        T* t = front();
        if (t) remove(*t);
        return t;
    }

    // Next element after `item`, or nullptr at the end.
    T* next(T& item) {
        ListNode* n = (item.*Link).next;
        return n == &head_ ? nullptr : owner(n);
    }
    // Element before `item`, or nullptr at the front.
    T* prev(T& item) {
        ListNode* n = (item.*Link).prev;
        return n == &head_ ? nullptr : owner(n);
    }

    template <typename F>
    void for_each(F&& f) {
        for (ListNode* n = head_.next; n != &head_;) {
            ListNode* nx = n->next;  // f may remove the element
            f(*owner(n));
            n = nx;
        }
    }

private:
    static T* owner(ListNode* n) {
        return reinterpret_cast<T*>(reinterpret_cast<char*>(n) - offset_of_member(Link));
    }
    void insert_before(ListNode& pos, ListNode& n) {
        KASSERT(!n.linked());
        n.next = &pos;
        n.prev = pos.prev;
        pos.prev->next = &n;
        pos.prev = &n;
        ++size_;
    }

    ListNode head_;
    usize size_ = 0;
};

}  // namespace keel
