#include <gtest/gtest.h>

#include <string>

#include "fs/lock_ranges.h"

using namespace keel;
using namespace keel::fs;

namespace {

constexpr u64 MAX = LOCK_OFFSET_MAX;

struct Locks {
    RecordLockList list;

    ~Locks() {
        while (RecordLock* l = list.locks().pop_front()) delete l;
    }

    void apply(const void* owner, short type, u64 start, u64 end) {
        RecordLock* spares[2] = {new RecordLock, new RecordLock};
        RecordLock req;
        req.owner = owner;
        req.type = type;
        req.start = start;
        req.end = end;
        RecordLockList::List freed;
        list.apply(req, spares, freed);
        for (RecordLock* s : spares)
            if (s) delete s;
        while (RecordLock* f = freed.pop_front()) delete f;
    }

    // "owner:type[start,end]" for every lock, in list order.
    std::string dump(const void* a, const void* b = nullptr) {
        std::string s;
        for (RecordLock* l = list.locks().front(); l; l = list.locks().next(*l)) {
            s += l->owner == a ? "A" : l->owner == b ? "B" : "?";
            s += l->type == LOCK_TYPE_READ ? "r" : "w";
            s += "[" + std::to_string(l->start) + "," + (l->end == MAX ? std::string("max") : std::to_string(l->end)) + "]";
        }
        return s;
    }
};

int A, B;

TEST(LockRange, FromFlock) {
    auto range = [](short whence, i64 start, i64 len, u64 pos, u64 size) {
        auto r = lock_range(whence, start, len, pos, size);
        EXPECT_TRUE(r.is_ok());
        return r.is_ok() ? r.value() : LockRange{};
    };
    EXPECT_EQ(range(0, 10, 5, 0, 0).start, 10u);
    EXPECT_EQ(range(0, 10, 5, 0, 0).end, 14u);
    EXPECT_EQ(range(0, 10, 0, 0, 0).end, MAX);
    EXPECT_EQ(range(0, 10, -4, 0, 0).start, 6u);
    EXPECT_EQ(range(0, 10, -4, 0, 0).end, 9u);
    EXPECT_EQ(range(1, -2, 2, 5, 0).start, 3u);    // SEEK_CUR
    EXPECT_EQ(range(2, 0, 1, 5, 100).start, 100u);  // SEEK_END
    EXPECT_EQ(lock_range(3, 0, 0, 0, 0).error().code(), EINVAL);
    EXPECT_EQ(lock_range(0, -1, 0, 0, 0).error().code(), EINVAL);
    EXPECT_EQ(lock_range(0, 5, -6, 0, 0).error().code(), EINVAL);
    EXPECT_EQ(lock_range(2, static_cast<i64>(MAX), 0, 0, 1).error().code(), EOVERFLOW);
    EXPECT_EQ(lock_range(0, static_cast<i64>(MAX), 2, 0, 0).error().code(), EOVERFLOW);
    EXPECT_TRUE(lock_range(0, static_cast<i64>(MAX), 1, 0, 0).is_ok());
}

TEST(RecordLocks, MergeAdjacentSameType) {
    Locks l;
    l.apply(&A, LOCK_TYPE_READ, 0, 9);
    l.apply(&A, LOCK_TYPE_READ, 10, 19);
    EXPECT_EQ(l.dump(&A), "Ar[0,19]");
    l.apply(&A, LOCK_TYPE_READ, 30, 39);
    EXPECT_EQ(l.dump(&A), "Ar[0,19]Ar[30,39]");
    l.apply(&A, LOCK_TYPE_READ, 15, 32);
    EXPECT_EQ(l.dump(&A), "Ar[0,39]");
}

TEST(RecordLocks, SplitByOtherTypeAndUnlock) {
    Locks l;
    l.apply(&A, LOCK_TYPE_READ, 0, 99);
    l.apply(&A, LOCK_TYPE_WRITE, 40, 49);
    EXPECT_EQ(l.dump(&A), "Ar[0,39]Aw[40,49]Ar[50,99]");
    l.apply(&A, LOCK_TYPE_UNLOCK, 45, 59);
    EXPECT_EQ(l.dump(&A), "Ar[0,39]Aw[40,44]Ar[60,99]");
    l.apply(&A, LOCK_TYPE_UNLOCK, 0, MAX);
    EXPECT_EQ(l.dump(&A), "");
    EXPECT_TRUE(l.list.empty());
}

TEST(RecordLocks, ConvertTrimsNeighbours) {
    Locks l;
    l.apply(&A, LOCK_TYPE_READ, 0, 4);
    l.apply(&A, LOCK_TYPE_WRITE, 5, 9);
    l.apply(&A, LOCK_TYPE_READ, 3, 6);
    EXPECT_EQ(l.dump(&A), "Ar[0,6]Aw[7,9]");
    l.apply(&A, LOCK_TYPE_WRITE, 0, MAX);
    EXPECT_EQ(l.dump(&A), "Aw[0,max]");
}

TEST(RecordLocks, ConflictsAcrossOwners) {
    Locks l;
    l.apply(&A, LOCK_TYPE_READ, 0, 9);
    l.apply(&B, LOCK_TYPE_WRITE, 20, 29);
    EXPECT_EQ(l.dump(&A, &B), "Ar[0,9]Bw[20,29]");
    RecordLock req;
    req.owner = &B;
    req.type = LOCK_TYPE_READ;
    req.start = 5;
    req.end = 5;
    EXPECT_EQ(l.list.find_conflict(req), nullptr);  // read vs read
    req.type = LOCK_TYPE_WRITE;
    ASSERT_NE(l.list.find_conflict(req), nullptr);
    EXPECT_EQ(l.list.find_conflict(req)->owner, &A);
    req.owner = &A;
    req.start = 25;
    req.end = MAX;
    ASSERT_NE(l.list.find_conflict(req), nullptr);
    EXPECT_EQ(l.list.find_conflict(req)->owner, &B);
    req.start = 30;
    EXPECT_EQ(l.list.find_conflict(req), nullptr);
    // A's own locks never conflict with A.
    req.start = 0;
    req.end = 9;
    req.owner = &A;
    req.type = LOCK_TYPE_WRITE;
    l.apply(&B, LOCK_TYPE_UNLOCK, 0, MAX);
    EXPECT_EQ(l.list.find_conflict(req), nullptr);
}

TEST(RecordLocks, OwnersStayGrouped) {
    Locks l;
    l.apply(&A, LOCK_TYPE_READ, 50, 59);
    l.apply(&B, LOCK_TYPE_READ, 0, 9);
    l.apply(&A, LOCK_TYPE_READ, 0, 9);
    EXPECT_EQ(l.dump(&A, &B), "Ar[0,9]Ar[50,59]Br[0,9]");
    RecordLockList::List freed;
    EXPECT_TRUE(l.list.remove_owner(&A, freed));
    EXPECT_EQ(l.dump(&A, &B), "Br[0,9]");
    while (RecordLock* f = freed.pop_front()) delete f;
    EXPECT_FALSE(l.list.remove_owner(&A, freed));
}

}  // namespace
