// Red-black tree core (the classic bottom-up algorithm with parent links and
// null leaves), plus the augmentation bookkeeping described in rbtree.h.
#include "lib/rbtree.h"

namespace keel::rb {
namespace {

bool is_red(const RbNode* n) { return n && n->red; }

void replace_child(RbRoot& tree, RbNode* parent, RbNode* old_child, RbNode* new_child) {
    if (!parent)
        tree.root = new_child;
    else if (parent->left == old_child)
        parent->left = new_child;
    else
        parent->right = new_child;
}

// A rotation keeps the pair's combined subtree, so only the two rotated
// nodes need new aggregates: the one that went down first, as the one that
// came up now has it as a child.
void rotate_left(RbRoot& tree, RbNode* x, RbRecompute recompute) {
    RbNode* y = x->right;
    x->right = y->left;
    if (y->left) y->left->parent = x;
    y->parent = x->parent;
    replace_child(tree, x->parent, x, y);
    y->left = x;
    x->parent = y;
    if (recompute) {
        recompute(x);
        recompute(y);
    }
}

void rotate_right(RbRoot& tree, RbNode* x, RbRecompute recompute) {
    RbNode* y = x->left;
    x->left = y->right;
    if (y->right) y->right->parent = x;
    y->parent = x->parent;
    replace_child(tree, x->parent, x, y);
    y->right = x;
    x->parent = y;
    if (recompute) {
        recompute(x);
        recompute(y);
    }
}

void insert_fixup(RbRoot& tree, RbNode* n, RbRecompute recompute) {
    for (;;) {
        RbNode* p = n->parent;
        if (!p) {
            n->red = false;
            return;
        }
        if (!p->red) return;
        RbNode* g = p->parent;  // p is red, so it is not the root
        if (p == g->left) {
            RbNode* uncle = g->right;
            if (is_red(uncle)) {
                p->red = uncle->red = false;
                g->red = true;
                n = g;
                continue;
            }
            if (n == p->right) {
                rotate_left(tree, p, recompute);
                p = n;
            }
            rotate_right(tree, g, recompute);
        } else {
            RbNode* uncle = g->left;
            if (is_red(uncle)) {
                p->red = uncle->red = false;
                g->red = true;
                n = g;
                continue;
            }
            if (n == p->left) {
                rotate_right(tree, p, recompute);
                p = n;
            }
            rotate_left(tree, g, recompute);
        }
        p->red = false;
        g->red = true;
        return;
    }
}

// x took the place of a removed black node and is "doubly black"; x may be
// null, hence the separate parent.
void erase_fixup(RbRoot& tree, RbNode* x, RbNode* parent, RbRecompute recompute) {
    while (x != tree.root && !is_red(x)) {
        if (x == parent->left) {
            RbNode* w = parent->right;  // non-null: its side has a black node more
            if (w->red) {
                w->red = false;
                parent->red = true;
                rotate_left(tree, parent, recompute);
                w = parent->right;
            }
            if (!is_red(w->left) && !is_red(w->right)) {
                w->red = true;
                x = parent;
                parent = x->parent;
                continue;
            }
            if (!is_red(w->right)) {
                w->left->red = false;
                w->red = true;
                rotate_right(tree, w, recompute);
                w = parent->right;
            }
            w->red = parent->red;
            parent->red = false;
            w->right->red = false;
            rotate_left(tree, parent, recompute);
        } else {
            RbNode* w = parent->left;
            if (w->red) {
                w->red = false;
                parent->red = true;
                rotate_right(tree, parent, recompute);
                w = parent->left;
            }
            if (!is_red(w->left) && !is_red(w->right)) {
                w->red = true;
                x = parent;
                parent = x->parent;
                continue;
            }
            if (!is_red(w->left)) {
                w->right->red = false;
                w->red = true;
                rotate_left(tree, w, recompute);
                w = parent->left;
            }
            w->red = parent->red;
            parent->red = false;
            w->left->red = false;
            rotate_right(tree, parent, recompute);
        }
        x = tree.root;
    }
    if (x) x->red = false;
}

int validate_subtree(const RbNode* n, const RbNode* parent, usize& count) {
    if (!n) return 1;
    if (n->parent != parent || !n->linked) return -1;
    if (n->red && (is_red(n->left) || is_red(n->right))) return -1;
    ++count;
    int lh = validate_subtree(n->left, n, count);
    int rh = validate_subtree(n->right, n, count);
    if (lh < 0 || rh < 0 || lh != rh) return -1;
    return lh + (n->red ? 0 : 1);
}

}  // namespace

void insert(RbRoot& tree, RbNode* node, RbNode* parent, bool as_left, RbRecompute recompute) {
    node->parent = parent;
    node->left = node->right = nullptr;
    node->red = true;
    node->linked = true;
    if (!parent) {
        tree.root = node;
        tree.leftmost = node;
    } else if (as_left) {
        KASSERT(!parent->left);
        parent->left = node;
        // Only a left child of the current minimum can be the new minimum.
        if (parent == tree.leftmost) tree.leftmost = node;
    } else {
        KASSERT(!parent->right);
        parent->right = node;
    }
    ++tree.count;

    // Fix aggregates along the path before rebalancing, so that every
    // rotation below works on correct child aggregates.
    if (recompute) {
        recompute(node);
        for (RbNode* p = parent; p && recompute(p); p = p->parent) {}
    }
    insert_fixup(tree, node, recompute);
}

void erase(RbRoot& tree, RbNode* z, RbRecompute recompute) {
    if (tree.leftmost == z) tree.leftmost = next(z);

    RbNode* x;         // what fills the hole left in the tree's shape
    RbNode* x_parent;  // its parent after the splice
    RbNode* moved = nullptr;
    bool removed_black;
    if (!z->left || !z->right) {
        x = z->left ? z->left : z->right;
        x_parent = z->parent;
        removed_black = !z->red;
        if (x) x->parent = x_parent;
        replace_child(tree, z->parent, z, x);
    } else {
        // Two children: z's successor y takes z's place and colour; the
        // shape loses a node where y used to be.
        RbNode* y = first(z->right);
        removed_black = !y->red;
        x = y->right;
        if (y->parent == z) {
            x_parent = y;
        } else {
            x_parent = y->parent;
            x_parent->left = x;
            if (x) x->parent = x_parent;
            y->right = z->right;
            z->right->parent = y;
        }
        y->left = z->left;
        z->left->parent = y;
        y->parent = z->parent;
        replace_child(tree, z->parent, z, y);
        y->red = z->red;
        moved = y;
    }

    if (recompute) {
        RbNode* n = x_parent;
        if (moved) {
            // Up to and including y, nodes gained or lost children, so their
            // old aggregates say nothing: recompute them all. Above y, the
            // old aggregate was z's subtree's, a valid base for early exit.
            for (; n != moved; n = n->parent) recompute(n);
            recompute(moved);
            n = moved->parent;
        }
        for (; n && recompute(n); n = n->parent) {}
    }
    if (removed_black) erase_fixup(tree, x, x_parent, recompute);

    z->parent = z->left = z->right = nullptr;
    z->red = false;
    z->linked = false;
    --tree.count;
}

RbNode* first(RbNode* n) {
    if (!n) return nullptr;
    while (n->left) n = n->left;
    return n;
}

RbNode* last(RbNode* n) {
    if (!n) return nullptr;
    while (n->right) n = n->right;
    return n;
}

RbNode* next(const RbNode* n) {
    if (n->right) return first(n->right);
    const RbNode* p = n->parent;
    while (p && n == p->right) {
        n = p;
        p = p->parent;
    }
    return const_cast<RbNode*>(p);
}

RbNode* prev(const RbNode* n) {
    if (n->left) return last(n->left);
    const RbNode* p = n->parent;
    while (p && n == p->left) {
        n = p;
        p = p->parent;
    }
    return const_cast<RbNode*>(p);
}

int validate(const RbRoot& tree) {
    if (is_red(tree.root)) return -1;
    if (tree.leftmost != first(tree.root)) return -1;
    usize count = 0;
    int h = validate_subtree(tree.root, nullptr, count);
    if (count != tree.count) return -1;
    return h;
}

}  // namespace keel::rb
