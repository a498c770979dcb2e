// The UTS names uname(2) reports: fixed system, release and machine, and
// the host and domain names that sethostname(2)/setdomainname(2) change
// (one set for the whole system until UTS namespaces arrive).
#pragma once

#include <linux/utsname.h>

#include "lib/result.h"

namespace keel::uts {

// A consistent copy of all the names.
new_utsname snapshot();

// The new name is `len` bytes (no NUL needed), at most __NEW_UTS_LEN.
Status set_hostname(const char* name, usize len);
Status set_domainname(const char* name, usize len);

}  // namespace keel::uts
