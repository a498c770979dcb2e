#pragma once

namespace keel {

// The kernel release as uname(2) and /proc/version will report it.
constexpr const char* KEEL_RELEASE = "6.12.0-keel";
const char* version_banner();

#ifdef KEEL_DEBUG
constexpr bool KEEL_DEBUG_CHECKS = true;
#else
constexpr bool KEEL_DEBUG_CHECKS = false;
#endif

}  // namespace keel
