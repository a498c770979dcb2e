// Intrusive red-black tree. The links live inside the element, so insertion
// never allocates and cannot fail; an element may sit in one tree per RbNode
// it contains.
//
// Augmentation: a tree may keep, in each element, an aggregate of the
// element's whole subtree (a minimum, a count, ...). The traits supply
// `static bool recompute(T&)`, which rebuilds the element's aggregate from
// its own value and its children's aggregates and says whether it changed.
// The tree calls it on every node whose subtree changes: along the path of
// an insertion or erasure, and on both nodes of every rotation. Early exit
// on "unchanged" keeps updates O(log n) and usually O(1).
//
// The leftmost element is cached, so first() is O(1): schedulers and timer
// queues mostly want the smallest key.
#pragma once

#include "lib/result.h"
#include "lib/utility.h"

namespace keel {

struct RbNode {
    RbNode* parent = nullptr;
    RbNode* left = nullptr;
    RbNode* right = nullptr;
    bool red = false;
    bool linked = false;
};

// Rebuilds a node's aggregate from its children; returns true if it changed.
using RbRecompute = bool (*)(RbNode*);

struct RbRoot {
    RbNode* root = nullptr;
    RbNode* leftmost = nullptr;
    usize count = 0;
};

// Untyped core, shared by every RbTree instantiation.
namespace rb {

// Links `node` below `parent` (nullptr for an empty tree) on the given side,
// then restores the red-black shape.
void insert(RbRoot& tree, RbNode* node, RbNode* parent, bool as_left, RbRecompute recompute);
void erase(RbRoot& tree, RbNode* node, RbRecompute recompute);

RbNode* first(RbNode* subtree);
RbNode* last(RbNode* subtree);
RbNode* next(const RbNode* node);
RbNode* prev(const RbNode* node);

// Checks parent links, colours, equal black heights and the cached leftmost
// and count. Returns the black height, or -1 if the tree is malformed.
int validate(const RbRoot& tree);

}  // namespace rb

// Traits must provide `static bool less(const T&, const T&)`; equal keys keep
// insertion order (a new element goes after its equals). Optionally
// `static bool recompute(T&)` for augmentation, as described above.
template <typename T, RbNode T::*Link, typename Traits>
class RbTree {
public:
    RbTree() = default;
    RbTree(const RbTree&) = delete;
    RbTree& operator=(const RbTree&) = delete;

    bool empty() const { return root_.root == nullptr; }
    usize size() const { return root_.count; }

    void insert(T& item) {
        RbNode* node = &(item.*Link);
        KASSERT(!node->linked);
        RbNode* parent = nullptr;
        bool as_left = false;
        for (RbNode* cur = root_.root; cur;) {
            parent = cur;
            as_left = Traits::less(item, *owner(cur));
            cur = as_left ? cur->left : cur->right;
        }
        rb::insert(root_, node, parent, as_left, recompute_fn());
    }

    void erase(T& item) {
        RbNode* node = &(item.*Link);
        KASSERT(node->linked);
        rb::erase(root_, node, recompute_fn());
    }

    // Re-runs the augmentation from `item` up to the root, for when the
    // value that feeds the aggregate changed in place.
    void propagate(T& item) {
        if constexpr (augmented)
            for (RbNode* n = &(item.*Link); n && Traits::recompute(*owner(n)); n = n->parent) {}
    }

    T* first() const { return entry(root_.leftmost); }
    T* last() const { return entry(rb::last(root_.root)); }
    T* root() const { return entry(root_.root); }
    static T* next(const T& item) { return entry(rb::next(&(item.*Link))); }
    static T* prev(const T& item) { return entry(rb::prev(&(item.*Link))); }

    // Child and parent access, for searches that steer by the aggregates.
    static T* left(const T& item) { return entry((item.*Link).left); }
    static T* right(const T& item) { return entry((item.*Link).right); }
    static T* parent(const T& item) { return entry((item.*Link).parent); }
    static bool contains_node(const T& item) { return (item.*Link).linked; }

    template <typename F>
    void for_each(F&& f) const {
        for (T* it = first(); it;) {
            T* nx = next(*it);  // f may erase the element
            f(*it);
            it = nx;
        }
    }

    int validate() const { return rb::validate(root_); }

    static T* entry(const RbNode* n) {
        if (!n) return nullptr;
        return reinterpret_cast<T*>(reinterpret_cast<char*>(const_cast<RbNode*>(n)) -
                                    offset_of_member(Link));
    }

private:
    static constexpr bool augmented = requires(T& t) { Traits::recompute(t); };

    static T* owner(RbNode* n) { return entry(n); }
    static bool recompute_trampoline(RbNode* n) { return Traits::recompute(*owner(n)); }
    static RbRecompute recompute_fn() {
        if constexpr (augmented)
            return &recompute_trampoline;
        else
            return nullptr;
    }

    RbRoot root_;
};

}  // namespace keel
