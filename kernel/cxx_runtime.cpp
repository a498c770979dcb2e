// The few C++ runtime hooks a freestanding kernel needs.
#include "kernel/panic.h"

extern "C" {

// Static objects are never destroyed: the kernel does not exit.
int atexit(void (*)()) { return 0; }
void* __dso_handle = nullptr;

[[noreturn]] void __cxa_pure_virtual() { keel::panic("pure virtual function called"); }

}
