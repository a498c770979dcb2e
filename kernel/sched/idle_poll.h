// How long an idle CPU polls for work before it halts (portable: host-tested).
//
// In a virtual machine a halted vCPU is a host thread asleep: waking it
// takes an IPI, a VM exit on KVM, and the host scheduler's time to run the
// thread again. On a loaded host that is milliseconds (a 1 x 1 futex
// wake-up across two vCPUs of QEMU took 4 ms at the median with a halt,
// against 19 us on Linux 6.12, whose idle loop does not halt there). A CPU
// that polls sees a reschedule request at once, and the waker can leave out
// the IPI. Polling burns the host's CPU, so the window adapts, as Linux's
// cpuidle-haltpoll does for KVM guests: it grows when the CPU slept only a
// little longer than it polled (polling longer would have caught the
// wake-up), shrinks after a long sleep, and never exceeds MAX_NS.
#pragma once

#include "lib/types.h"

namespace keel::sched {

class IdlePoll {
public:
    static constexpr u64 MAX_NS = 200000;   // haltpoll's default guest_halt_poll_ns
    static constexpr u64 GROW_START_NS = 50000;

    u64 limit_ns() const { return limit_; }

    // After one idle period of `idle_ns` (polling and halt together).
    void adjust(u64 idle_ns) {
        if (idle_ns > limit_ && idle_ns <= MAX_NS) {
            u64 grown = limit_ * 2;
            limit_ = grown < GROW_START_NS ? GROW_START_NS : grown > MAX_NS ? MAX_NS : grown;
        } else if (idle_ns > MAX_NS) {
            limit_ /= 2;
        }
    }

private:
    u64 limit_ = 0;
};

}  // namespace keel::sched
