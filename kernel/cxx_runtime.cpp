// The few C++ runtime hooks a freestanding kernel needs.
#include "kernel/panic.h"

extern "C" {

// Static objects are never destroyed: the kernel does not exit.
int atexit(void (*)()) { return 0; }
void* __dso_handle = nullptr;

[[noreturn]] void __cxa_pure_virtual() { keel::panic("pure virtual function called"); }

}

// Virtual destructors make the compiler emit "deleting destructors" that
// call operator delete. Keel never uses new/delete (make<>/destroy<> go
// through kmalloc), so reaching one of these is a bug.
void operator delete(void*, keel::usize) noexcept { keel::panic("operator delete called"); }
void operator delete(void*) noexcept { keel::panic("operator delete called"); }
