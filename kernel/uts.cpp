#include "kernel/uts.h"

#include "kernel/spinlock.h"
#include "kernel/version.h"
#include "lib/string.h"

namespace keel::uts {

namespace {

struct Names {
    char host[__NEW_UTS_LEN + 1] = "(none)";
    char domain[__NEW_UTS_LEN + 1] = "(none)";
};
SpinlockProtected<Names> g_names{LockRank::Device};

void set(char* dst, const char* name, usize len) {
    __builtin_memcpy(dst, name, len);
    __builtin_memset(dst + len, 0, __NEW_UTS_LEN + 1 - len);
}

}  // namespace

new_utsname snapshot() {
    new_utsname u{};
    str_lcpy(u.sysname, "Linux", sizeof(u.sysname));
    str_lcpy(u.release, KEEL_RELEASE, sizeof(u.release));
    str_lcpy(u.version, "#1 SMP PREEMPT Keel", sizeof(u.version));
    str_lcpy(u.machine, "x86_64", sizeof(u.machine));
    g_names.with([&](Names& n) {
        __builtin_memcpy(u.nodename, n.host, sizeof(n.host));
        __builtin_memcpy(u.domainname, n.domain, sizeof(n.domain));
    });
    return u;
}

Status set_hostname(const char* name, usize len) {
    if (len > __NEW_UTS_LEN) return Error(EINVAL);
    g_names.with([&](Names& n) { set(n.host, name, len); });
    return {};
}

Status set_domainname(const char* name, usize len) {
    if (len > __NEW_UTS_LEN) return Error(EINVAL);
    g_names.with([&](Names& n) { set(n.domain, name, len); });
    return {};
}

}  // namespace keel::uts
