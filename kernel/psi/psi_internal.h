// What psi.cpp and the pressure files (psi_file.cpp) share.
#pragma once

#include "kernel/psi/psi.h"
#include "kernel/spinlock.h"

namespace keel::psi {

// Groups: aggregation state and triggers under psi_lock; per-CPU states
// written under their CPU's run-queue lock (see psi_core.h).
struct PsiGroup {
    PsiGroup* parent = nullptr;
    GroupCore core;
    CpuState* cpus = nullptr;
    // When psimon should next run the averaging and the trigger work
    // (0: not scheduled). Task changes schedule them lock-free.
    u64 avgs_due = 0;
    u64 poll_due = 0;
    u32 refs = 1;
    bool enabled = true;  // cgroup.pressure (atomic)
    bool dead = false;  // psi_lock
    bool system = false;
    ListNode node;      // in `groups`, psi_lock
};

// Guards every group's aggregation state, trigger lists and `dead`.
extern Spinlock psi_lock;

}  // namespace keel::psi
