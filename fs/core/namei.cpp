#include "fs/core/namei.h"

#include "lib/string.h"

namespace keel::fs {

namespace {

LastType classify(StringView name) {
    if (name == ".") return LastType::Dot;
    if (name == "..") return LastType::DotDot;
    return LastType::Norm;
}

void skip_slashes(StringView& s) {
    while (!s.empty() && s[0] == '/') s.remove_prefix(1);
}

}  // namespace

Result<RefPtr<Dentry>> lookup_one_locked(Dentry& dir, StringView name, bool cached_only) {
    Inode* dino = dir.inode();
    if (Dentry* hit = dir.find_child_locked(name)) {
        if (dino->revalidate(name, hit->inode())) {
            dir.sb().dcache_touch_locked(*hit);
            return RefPtr<Dentry>(hit);
        }
        hit->unhash_locked();  // stale: look it up afresh
    }
    if (cached_only) return Error(EAGAIN);
    if (dino->dead()) return Error(ENOENT);
    if (name.size() > NAME_MAX) return Error(ENAMETOOLONG);
    RefPtr<Inode> inode;
    auto found = dino->lookup(name);
    if (found.is_ok())
        inode = found.release_value();
    else if (found.error().code() != ENOENT)
        return found.error();
    return dir.add_child_locked(name, move(inode));
}

Error long_name_error_locked(Dentry& dir) { return Error(dir.inode()->dead() ? ENOENT : ENAMETOOLONG); }

Walker::Walker(const LookupRequest& req) : req_(req), flags_(req.flags), resolve_(req.resolve) {}

Walker::~Walker() {
    for (u32 i = 0; i < depth_; ++i) heap_free(stack_[i].body);
    heap_free(top_buf_);
    heap_free(pending_buf_);
}

Status Walker::start() {
    StringView p = req_.path;
    // getname(): the string with its NUL must fit in PATH_MAX bytes.
    if (p.size() >= PATH_MAX) return Error(ENAMETOOLONG);
    if (p.empty() && !(flags_ & LOOKUP_EMPTY)) return Error(ENOENT);
    if ((resolve_ & RESOLVE_BENEATH) && (resolve_ & RESOLVE_IN_ROOT)) return Error(EINVAL);
    root_ = req_.root;
    if (!p.empty() && p[0] == '/' && !(resolve_ & RESOLVE_IN_ROOT)) {
        if (resolve_ & RESOLVE_BENEATH) return Error(EXDEV);
        cur_ = root_;
    } else {
        cur_ = req_.base;
        if (!p.empty() && !cur_.dentry->is_dir()) return Error(ENOTDIR);
        // Scoped lookups treat the starting directory as the root.
        if (scoped()) root_ = cur_;
    }
    text_ = p;
    return {};
}

void Walker::set_last(StringView name, LastType type, bool slash) {
    last_type_ = type;
    trailing_ = slash;
    too_long_ = name.size() > NAME_MAX;
    last_len_ = too_long_ ? 0 : static_cast<u16>(name.size());
    mem_copy(last_buf_, name.data(), last_len_);
    last_buf_[last_len_] = 0;
}

Status Walker::may_lookup() { return inode_permission(*cur_.inode(), req_.cred, MAY_EXEC); }

Status Walker::walk_to_last() {
    last_type_ = LastType::Root;
    trailing_ = false;
    too_long_ = false;
    last_len_ = 0;
    StringView text = text_;
    skip_slashes(text);
    if (text.empty()) {
        text_ = text;
        return {};
    }
    for (;;) {
        // Search permission on the directory, before anything else about
        // the component (even "." and "..").
        TRY(may_lookup());
        usize n = text.find('/');
        StringView name = text.substr(0, n);
        text.remove_prefix(name.size());
        LastType type = classify(name);
        bool slash = !text.empty();
        skip_slashes(text);

        char* finished_body = nullptr;
        int wflags = WALK_MORE;
        if (text.empty()) {
            if (depth_ == 0) {
                set_last(name, type, slash);
                text_ = text;
                return {};
            }
            // The last component of a nested link body: walked and followed
            // like any intermediate one, then the outer text resumes.
            Frame f = stack_[--depth_];
            text = f.rest;
            finished_body = f.body;
            wflags = 0;
        }
        auto link = walk_component(name, type, wflags);
        heap_free(finished_body);  // `name` pointed into it
        if (link.is_error()) return link.error();
        if (link.value()) {
            stack_[depth_++] = Frame{text, pending_buf_};
            pending_buf_ = nullptr;
            text = pending_;
            continue;
        }
        if (!cur_.dentry->is_dir()) return Error(ENOTDIR);
    }
}

Result<bool> Walker::walk_last() {
    // "name/" must be a directory, and a symlink there is followed even
    // without LOOKUP_FOLLOW.
    if (last_type_ == LastType::Norm && trailing_) flags_ |= LOOKUP_FOLLOW | LOOKUP_DIRECTORY;
    if (last_type_ == LastType::Norm && too_long_) {
        FsLockGuard g(cur_.dentry->sb().lock());
        return long_name_error_locked(*cur_.dentry);
    }
    bool link = TRY(walk_component(last(), last_type_, WALK_TRAILING));
    if (link) adopt_trailing_link();
    return link;
}

Result<bool> Walker::step_last(RefPtr<Dentry> child) {
    bool link = TRY(step_into(move(child), WALK_TRAILING));
    if (link) adopt_trailing_link();
    return link;
}

void Walker::adopt_trailing_link() {
    // The body replaces the depth-0 text (whose last name was copied).
    heap_free(top_buf_);
    top_buf_ = pending_buf_;
    pending_buf_ = nullptr;
    text_ = pending_;
}

Status Walker::finish_parent() {
    if (scoped() && !path_is_under(cur_, root_)) return Error(EXDEV);
    return {};
}

Status Walker::finish() {
    TRY(finish_parent());
    if ((flags_ & LOOKUP_DIRECTORY) && !cur_.dentry->is_dir()) return Error(ENOTDIR);
    return {};
}

Result<bool> Walker::walk_component(StringView name, LastType type, int wflags) {
    if (type != LastType::Norm) {
        if (type == LastType::DotDot) TRY(follow_dotdot());
        return false;
    }
    RefPtr<Dentry> child = TRY(lookup_child(name));
    return step_into(move(child), wflags);
}

Result<RefPtr<Dentry>> Walker::lookup_child(StringView name) {
    Dentry& dir = *cur_.dentry;
    FsLockGuard g(dir.sb().lock());
    RefPtr<Dentry> d = TRY(lookup_one_locked(dir, name, resolve_ & RESOLVE_CACHED));
    if (d->negative()) return Error(ENOENT);
    return d;
}

Status Walker::traverse_mounts(Path& p) {
    bool jumped = false;
    while (p.dentry->mount_count()) {
        RefPtr<Mount> m = lookup_mount(*p.mnt, *p.dentry);
        if (!m) break;
        p.dentry = RefPtr<Dentry>(&m->root());
        p.mnt = move(m);
        jumped = true;
    }
    if (jumped && (resolve_ & RESOLVE_NO_XDEV)) return Error(EXDEV);
    return {};
}

Result<bool> Walker::step_into(RefPtr<Dentry> child, int wflags) {
    Path next{cur_.mnt, move(child)};
    TRY(traverse_mounts(next));
    Inode* inode = next.inode();
    bool follow = inode->is_symlink() && !(wflags & WALK_NOFOLLOW) &&
                  !((wflags & WALK_TRAILING) && !(flags_ & LOOKUP_FOLLOW));
    if (!follow) {
        cur_ = move(next);
        return false;
    }
    return pick_link(move(next));
}

Result<bool> Walker::pick_link(Path link) {
    if (total_links_++ >= MAXSYMLINKS) return Error(ELOOP);
    if ((resolve_ & RESOLVE_NO_SYMLINKS) || (link.mnt->flags() & MS_NOSYMFOLLOW)) return Error(ELOOP);
    touch_atime(link);
    Inode* inode = link.inode();

    if (inode->is_magic_link()) {
        if (resolve_ & RESOLVE_NO_MAGICLINKS) return Error(ELOOP);
        Path target = TRY(inode->jump_link(req_.task));
        if ((resolve_ & RESOLVE_NO_XDEV) && target.mnt != cur_.mnt) return Error(EXDEV);
        if (scoped()) return Error(EXDEV);
        cur_ = move(target);
        return false;
    }

    usize len = TRY(inode->get_link(nullptr, 0, req_.task));
    char* buf = static_cast<char*>(heap_alloc(len + 1));
    if (!buf) return Error(ENOMEM);
    auto got = inode->get_link(buf, len, req_.task);
    if (got.is_error()) {
        heap_free(buf);
        return got.error();
    }
    StringView body(buf, min(len, got.value()));
    if (!body.empty() && body[0] == '/') {
        auto r = jump_root();
        if (r.is_error()) {
            heap_free(buf);
            return r.error();
        }
        skip_slashes(body);
    }
    if (body.empty()) {
        // A pure jump ("/") or an empty body: nothing left to walk.
        heap_free(buf);
        return false;
    }
    pending_ = body;
    pending_buf_ = buf;
    return true;
}

Status Walker::jump_root() {
    if (resolve_ & RESOLVE_BENEATH) return Error(EXDEV);
    if ((resolve_ & RESOLVE_NO_XDEV) && cur_.mnt != root_.mnt) return Error(EXDEV);
    cur_ = root_;
    return {};
}

Status Walker::follow_dotdot() {
    bool at_root = cur_ == root_;
    if (!at_root && cur_.dentry.get() == &cur_.mnt->root()) {
        Path mp;
        if (choose_mountpoint(*cur_.mnt, root_, mp)) {
            cur_ = move(mp);
            if (resolve_ & RESOLVE_NO_XDEV) return Error(EXDEV);
        } else {
            at_root = true;
        }
    }
    Path next = cur_;
    if (at_root) {
        // ".." at the root stays there (and escapes nothing).
        if (resolve_ & RESOLVE_BENEATH) return Error(EXDEV);
    } else {
        FsLockGuard g(cur_.dentry->sb().lock());
        if (Dentry* parent = cur_.dentry->parent()) next.dentry = RefPtr<Dentry>(parent);
    }
    TRY(traverse_mounts(next));
    cur_ = move(next);
    return {};
}

// ---- Public entry points ------------------------------------------------

Result<Path> lookup(const LookupRequest& at) {
    Walker w(at);
    TRY(w.start());
    for (;;) {
        TRY(w.walk_to_last());
        if (!TRY(w.walk_last())) break;
    }
    TRY(w.finish());
    return move(w.cur());
}

Result<ParentLookup> lookup_parent(const LookupRequest& at) {
    Walker w(at);
    TRY(w.start());
    TRY(w.walk_to_last());
    TRY(w.finish_parent());
    ParentLookup p;
    p.dir = move(w.cur());
    p.type = w.last_type();
    p.trailing_slash = w.trailing_slash();
    p.too_long = w.last_too_long();
    StringView n = w.last();
    p.len = static_cast<u16>(n.size());
    mem_copy(p.name_buf, n.data(), n.size());
    return p;
}

}  // namespace keel::fs
