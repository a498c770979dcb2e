// Linux errno values come from the uapi headers, never retyped.
#pragma once

#include <asm-generic/errno.h>
