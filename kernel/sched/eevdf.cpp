// EEVDF run queue; see eevdf.h for the model and the calling convention.
//
// Overflow: vruntimes are u64 and wrap; only differences are meaningful, and
// they are taken relative to zero_vruntime, which is kept at the average V.
// Keys w_i * (v_i - v0) and their sums are 128-bit, so neither huge weights
// nor vruntimes far apart can overflow the average or the eligibility test.
#include "kernel/sched/eevdf.h"

namespace keel::sched {
namespace {

constexpr i64 kI64Max = static_cast<i64>(~u64(0) >> 1);
constexpr int kRebaseShift = 32;  // ~4.3 s of a nice-0 entity's vruntime

// n / d for a 128-bit n and 64-bit d, written out so that the kernel does
// not need libgcc's 128-bit division. The common case is a 64-bit n.
u128 udiv128(u128 n, u64 d, u64* rem) {
    u64 hi = static_cast<u64>(n >> 64);
    u64 lo = static_cast<u64>(n);
    if (hi == 0) {
        *rem = lo % d;
        return lo / d;
    }
    u64 q_hi = hi / d;
    u64 r = hi % d;
    u64 q_lo = 0;
    for (int bit = 63; bit >= 0; --bit) {
        bool carry = r >> 63;  // r < d, so r*2 + 1 < 2d: one subtraction suffices
        r = (r << 1) | ((lo >> bit) & 1);
        q_lo <<= 1;
        if (carry || r >= d) {
            r -= d;
            q_lo |= 1;
        }
    }
    *rem = r;
    return (u128(q_hi) << 64) | q_lo;
}

i64 saturate(u128 magnitude, bool negative) {
    if (magnitude > u128(kI64Max)) return negative ? -kI64Max - 1 : kI64Max;
    i64 m = static_cast<i64>(magnitude);
    return negative ? -m : m;
}

// Rounds toward zero, like Linux's div_s64.
i64 div_trunc(i128 n, u64 d) {
    bool neg = n < 0;
    u64 rem;
    u128 q = udiv128(neg ? -u128(n) : u128(n), d, &rem);
    return saturate(q, neg);
}

// Rounds toward minus infinity, so that V never exceeds the true average
// and the entity with the smallest vruntime stays eligible.
i64 div_floor(i128 n, u64 d) {
    bool neg = n < 0;
    u64 rem;
    u128 q = udiv128(neg ? -u128(n) : u128(n), d, &rem);
    if (neg && rem) ++q;
    return saturate(q, neg);
}

bool vruntime_before(u64 a, u64 b) { return static_cast<i64>(a - b) < 0; }

u64 calc_delta_fair(u64 delta, const SchedEntity& se) {
    return sched::calc_delta_fair(delta, se.weight, se.inv_weight);
}

void rescale_weight(SchedEntity& se, u64 weight) {
    // vlag is V - v; the lag proper is w * vlag, which is what is kept.
    se.vlag = div_trunc(i128(se.vlag) * se.weight, weight);
    if (se.rel_deadline)
        se.deadline = static_cast<u64>(div_trunc(i128(static_cast<i64>(se.deadline)) * se.weight, weight));
    se.weight = weight;
    se.inv_weight = inverse_weight(weight);
}

}  // namespace

bool EntityTreeTraits::recompute(SchedEntity& se) {
    u64 m = se.vruntime;
    if (SchedEntity* l = EntityTree::left(se); l && vruntime_before(l->min_vruntime, m)) m = l->min_vruntime;
    if (SchedEntity* r = EntityTree::right(se); r && vruntime_before(r->min_vruntime, m)) m = r->min_vruntime;
    bool changed = se.min_vruntime != m;
    se.min_vruntime = m;
    return changed;
}

void reweight_detached(SchedEntity& se, u64 weight) {
    KASSERT(!se.on_rq && weight > 0);
    rescale_weight(se, weight);
}

// --- Averages -------------------------------------------------------------

// curr is not in the tree while it runs (its vruntime changes constantly),
// so it is added here rather than kept in the sums.
EevdfRunQueue::Load EevdfRunQueue::load(const SchedEntity* exclude) const {
    Load l{tree_sum_, tree_weight_};
    if (curr_ && curr_ != exclude) {
        l.sum += i128(key(*curr_)) * curr_->weight;
        l.weight += curr_->weight;
    }
    return l;
}

u64 EevdfRunQueue::average(const Load& l) const {
    if (!l.weight) return zero_vruntime_;
    return zero_vruntime_ + static_cast<u64>(div_floor(l.sum, l.weight));
}

// v <= V without the division: Σ w_j (v_j - v0) >= (v - v0) Σ w_j.
bool EevdfRunQueue::vruntime_eligible(u64 vruntime, const Load& l) const {
    return l.sum >= i128(static_cast<i64>(vruntime - zero_vruntime_)) * i128(l.weight);
}

// Moving v0 to V keeps every key small, whatever the absolute vruntimes.
// The sums shift exactly, so no decision depends on where v0 is; only its
// distance from V matters, and a division per queue operation to keep it at
// zero cost more than the rest of the bookkeeping. v0 moves once V has left
// a window of 2^kRebaseShift around it, which |Σ w_i key_i| < W << shift
// tells without dividing: keys stay within that window of the lags.
void EevdfRunQueue::rebase_zero() {
    Load l = load();
    if (!l.weight) return;
    i128 window = i128(l.weight) << kRebaseShift;
    if (l.sum < window && l.sum > -window) return;
    i64 delta = div_floor(l.sum, l.weight);
    zero_vruntime_ += static_cast<u64>(delta);
    tree_sum_ -= i128(delta) * tree_weight_;
}

u64 EevdfRunQueue::min_vruntime() const {
    const SchedEntity* root = tree_.root();
    if (!curr_) return root ? root->min_vruntime : zero_vruntime_;
    if (root && vruntime_before(root->min_vruntime, curr_->vruntime)) return root->min_vruntime;
    return curr_->vruntime;
}

void EevdfRunQueue::tree_insert(SchedEntity& se) {
    tree_sum_ += i128(key(se)) * se.weight;
    tree_weight_ += se.weight;
    se.min_vruntime = se.vruntime;
    tree_.insert(se);
}

void EevdfRunQueue::tree_erase(SchedEntity& se) {
    tree_.erase(se);
    tree_sum_ -= i128(key(se)) * se.weight;
    tree_weight_ -= se.weight;
}

// --- Placement ------------------------------------------------------------

u64 EevdfRunQueue::update_entity_lag(SchedEntity& se) {
    u64 v = avg_vruntime();
    i64 vlag = static_cast<i64>(v - se.vruntime);
    u64 limit_u = calc_delta_fair(max(2 * se.slice, TICK_NSEC), se);
    i64 limit = limit_u > u64(kI64Max) ? kI64Max : static_cast<i64>(limit_u);
    se.vlag = clamp(vlag, -limit, limit);
    return v;
}

// se is counted by neither the tree nor curr here (or is curr and excluded).
void EevdfRunQueue::place_entity(SchedEntity& se, bool initial) {
    Load l = load(&se);
    u64 v = average(l);
    if (!se.custom_slice) se.slice = cfg_.base_slice;
    u64 vslice = calc_delta_fair(se.slice, se);

    // Joining moves V towards the newcomer: with W the weight already here,
    // V' = V - w*lag/(W + w), so the lag it ends up with is lag*W/(W + w).
    // Inflating the stored lag by (W + w)/W preserves it exactly.
    i64 lag = 0;
    if (cfg_.place_lag && l.weight && se.vlag)
        lag = div_trunc(i128(se.vlag) * i128(l.weight + se.weight), l.weight);
    se.vruntime = v - static_cast<u64>(lag);

    if (se.rel_deadline) {
        se.deadline += se.vruntime;
        se.rel_deadline = false;
        return;
    }
    // Those already here are on average halfway through their request.
    if (initial) vslice /= 2;
    se.deadline = se.vruntime + vslice;
}

void EevdfRunQueue::enqueue(SchedEntity& se, Enqueue how) {
    if (se.sched_delayed) {
        KASSERT(se.on_rq && how == Enqueue::Wakeup);
        requeue_delayed(se);
        return;
    }
    KASSERT(!se.on_rq && !se.run_node.linked);
    KASSERT(how != Enqueue::Restore || se.rel_deadline);
    place_entity(se, how == Enqueue::Initial);
    tree_insert(se);
    se.on_rq = true;
    se.slice_protected = false;
    ++nr_queued_;
    rebase_zero();
}

// A delayed entity is woken before it was picked. DELAY_ZERO: if it has
// meanwhile become owed service, it restarts at the 0-lag point instead of
// cashing in lag earned while blocked.
void EevdfRunQueue::requeue_delayed(SchedEntity& se) {
    update_entity_lag(se);
    if (se.vlag > 0) {
        bool is_curr = &se == curr_;
        if (!is_curr) tree_erase(se);
        se.vlag = 0;
        place_entity(se, false);
        if (!is_curr) tree_insert(se);
    }
    se.sched_delayed = false;
    --nr_delayed_;
    rebase_zero();
}

bool EevdfRunQueue::dequeue(SchedEntity& se, Dequeue how) {
    KASSERT(se.on_rq);
    if (how == Dequeue::Delayed) {
        KASSERT(se.sched_delayed);
    } else {
        KASSERT(!se.sched_delayed);
        if (cfg_.delay_dequeue && how == Dequeue::Sleep && !eligible(se)) {
            se.sched_delayed = true;
            ++nr_delayed_;
            return false;
        }
    }
    u64 v = update_entity_lag(se);
    // PLACE_REL_DEADLINE: an entity that is only moved keeps its request.
    if (how == Dequeue::Save) {
        se.deadline -= se.vruntime;
        se.rel_deadline = true;
    }
    if (&se == curr_)
        curr_ = nullptr;
    else
        tree_erase(se);
    se.on_rq = false;
    se.slice_protected = false;
    --nr_queued_;
    if (how == Dequeue::Delayed) {
        se.sched_delayed = false;
        --nr_delayed_;
        if (se.vlag > 0) se.vlag = 0;  // DELAY_ZERO
    }
    // An empty queue's V is v0: leave it where V was.
    if (!nr_queued_) zero_vruntime_ = v;
    rebase_zero();
    return true;
}

// --- Running --------------------------------------------------------------

// A new request starts when the current one is used up: vd = v + r/w.
bool EevdfRunQueue::update_deadline(SchedEntity& se) {
    if (vruntime_before(se.vruntime, se.deadline)) return false;
    if (!se.custom_slice) se.slice = cfg_.base_slice;
    se.deadline = se.vruntime + calc_delta_fair(se.slice, se);
    se.slice_protected = false;
    return true;
}

bool EevdfRunQueue::update_curr(u64 delta_exec) {
    SchedEntity* c = curr_;
    if (!c || !delta_exec) return false;
    c->sum_exec_runtime += delta_exec;
    c->vruntime += calc_delta_fair(delta_exec, *c);
    bool resched = update_deadline(*c);
    rebase_zero();
    if (nr_queued_ == 1) return false;
    // A shorter-slice wakeup cancelled curr's protection without getting
    // the CPU at once: preempt as soon as curr stops being owed service.
    bool short_preempted = cfg_.preempt_short && !c->slice_protected && !eligible(*c);
    return resched || short_preempted;
}

SchedEntity* EevdfRunQueue::pick_eevdf() const {
    SchedEntity* leftmost = tree_.first();
    SchedEntity* c = curr_;
    if (nr_queued_ == 1) return c ? c : leftmost;

    Load l = load();
    if (c && !vruntime_eligible(c->vruntime, l)) c = nullptr;
    if (cfg_.run_to_parity && c && c->slice_protected) return c;

    SchedEntity* best = nullptr;
    if (leftmost && vruntime_eligible(leftmost->vruntime, l)) {
        best = leftmost;
    } else {
        // The tree is ordered by deadline; the first eligible entity in that
        // order is found by steering with each subtree's minimum vruntime.
        for (SchedEntity* node = tree_.root(); node;) {
            SchedEntity* left = EntityTree::left(*node);
            if (left && vruntime_eligible(left->min_vruntime, l)) {
                node = left;
                continue;
            }
            if (vruntime_eligible(node->vruntime, l)) {
                best = node;
                break;
            }
            node = EntityTree::right(*node);
        }
    }
    if (!best || (c && EntityTreeTraits::less(*c, *best))) best = c;
    return best;
}

void EevdfRunQueue::set_next(SchedEntity& se) {
    KASSERT(!curr_ && se.on_rq && se.run_node.linked);
    tree_erase(se);
    curr_ = &se;
    se.slice_protected = true;
    se.prev_sum_exec_runtime = se.sum_exec_runtime;
}

void EevdfRunQueue::put_prev() {
    if (!curr_) return;
    SchedEntity& se = *curr_;
    curr_ = nullptr;
    tree_insert(se);
}

SchedEntity* EevdfRunQueue::pick_next() {
    for (;;) {
        SchedEntity* se = pick_eevdf();
        if (!se) return nullptr;
        // Picked means eligible: a delayed entity has paid off its lag.
        if (se->sched_delayed) {
            dequeue(*se, Dequeue::Delayed);
            continue;
        }
        if (se != curr_) {
            put_prev();
            set_next(*se);
        } else {
            // Linux 6.12 marks protection only when an entity is switched
            // to, so a re-picked curr runs unprotected; protecting every
            // pick matches RUN_TO_PARITY's stated intent ("once picked, run
            // the request out") and differs only after a renewal or a
            // PREEMPT_SHORT cancellation.
            se->slice_protected = true;
        }
        return se;
    }
}

bool EevdfRunQueue::do_preempt_short(const SchedEntity& woken, const SchedEntity& c) const {
    if (!cfg_.preempt_short || woken.slice >= c.slice) return false;
    if (!eligible(woken)) return false;
    return EntityTreeTraits::less(woken, c) || !eligible(c);
}

bool EevdfRunQueue::wakeup_preempt(SchedEntity& woken) {
    KASSERT(woken.on_rq);
    SchedEntity* c = curr_;
    if (!c) return true;  // no fair entity is running: only idle can be
    if (&woken == c) return false;
    if (c->policy == SchedPolicy::Idle && woken.policy != SchedPolicy::Idle) return true;
    // Batch and idle tasks wait for curr's request to end.
    if (woken.policy != SchedPolicy::Normal) return false;
    if (do_preempt_short(woken, *c)) c->slice_protected = false;
    return pick_eevdf() == &woken;
}

// An eligible yielder forfeits the rest of its request: its vruntime moves
// to its deadline and it asks for a new slice from there, so the other
// entities become eligible before it (Linux since 6.12.63, "forfeit vruntime
// on yield"). Pushing only the deadline let a yielder that had run less than
// its peer stay the only eligible entity and be picked again: two threads
// yielding in turn alternated on 17% of calls when one did more work per
// turn (Linux: 100%). An ineligible yielder is left as it is.
void EevdfRunQueue::yield() {
    if (!curr_ || nr_queued_ == 1) return;
    curr_->slice_protected = false;
    if (!eligible(*curr_)) return;
    curr_->vruntime = curr_->deadline;
    curr_->deadline += calc_delta_fair(curr_->slice, *curr_);
}

u64 EevdfRunQueue::runtime_until_deadline() const {
    if (!curr_) return 0;
    i64 vleft = static_cast<i64>(curr_->deadline - curr_->vruntime);
    if (vleft <= 0) return 0;
    // Invert calc_delta_fair, rounding up; its truncated inverse weight may
    // still fall a few units short, so step until the deadline is reached.
    static_assert(NICE_0_LOAD == 1 << 10);
    u64 w = curr_->weight;
    u128 real = (u128(vleft) * w + NICE_0_LOAD - 1) >> 10;
    for (;;) {
        if (real > ~u64(0)) return ~u64(0);
        u64 got = calc_delta_fair(static_cast<u64>(real), *curr_);
        if (got >= static_cast<u64>(vleft)) return static_cast<u64>(real);
        real += (u128(static_cast<u64>(vleft) - got) * w + NICE_0_LOAD - 1) >> 10;
    }
}

// --- Attributes and migration -------------------------------------------

// Leave and rejoin with the lag rescaled to the new weight: V does not move
// and every other entity keeps its lag.
void EevdfRunQueue::reweight(SchedEntity& se, u64 weight) {
    KASSERT(weight > 0);
    if (!se.on_rq) {
        reweight_detached(se, weight);
        return;
    }
    bool is_curr = &se == curr_;
    update_entity_lag(se);
    se.deadline -= se.vruntime;
    se.rel_deadline = true;
    if (!is_curr) tree_erase(se);
    rescale_weight(se, weight);
    place_entity(se, false);
    if (is_curr)
        se.slice_protected = false;
    else
        tree_insert(se);
    rebase_zero();
}

void EevdfRunQueue::set_slice(SchedEntity& se, u64 slice_ns) {
    u64 s = clamp_custom_slice(slice_ns);
    se.custom_slice = s != 0;
    se.slice = s ? s : cfg_.base_slice;
}

void EevdfRunQueue::detach(SchedEntity& se) {
    KASSERT(se.on_rq && !se.sched_delayed && &se != curr_);
    dequeue(se, Dequeue::Save);
}

void EevdfRunQueue::attach(SchedEntity& se) { enqueue(se, Enqueue::Restore); }

// --- Checking -------------------------------------------------------------

bool EevdfRunQueue::check_invariants() const {
    if (tree_.validate() < 0) return false;
    i128 sum = 0;
    u64 weight = 0;
    u32 count = 0, delayed = 0;
    const SchedEntity* prev = nullptr;
    bool ok = true;
    tree_.for_each([&](const SchedEntity& se) {
        if (!se.on_rq || se.rel_deadline || &se == curr_) ok = false;
        if (prev && EntityTreeTraits::less(se, *prev)) ok = false;
        u64 m = se.vruntime;
        const SchedEntity* l = EntityTree::left(se);
        const SchedEntity* r = EntityTree::right(se);
        if (l && vruntime_before(l->min_vruntime, m)) m = l->min_vruntime;
        if (r && vruntime_before(r->min_vruntime, m)) m = r->min_vruntime;
        if (se.min_vruntime != m) ok = false;
        sum += i128(key(se)) * se.weight;
        weight += se.weight;
        ++count;
        delayed += se.sched_delayed;
        prev = &se;
    });
    if (curr_) {
        if (!curr_->on_rq || curr_->run_node.linked || curr_->rel_deadline) ok = false;
        ++count;
        delayed += curr_->sched_delayed;
    }
    return ok && sum == tree_sum_ && weight == tree_weight_ && count == nr_queued_ &&
           delayed == nr_delayed_;
}

}  // namespace keel::sched
