#include "kernel/version.h"

namespace keel {

const char* version_banner() {
    return "Keel version 6.12.0-keel (C++20 microVM kernel) #1 SMP PREEMPT "
#ifdef KEEL_DEBUG
           "debug"
#else
           "release"
#endif
        ;
}

}  // namespace keel
