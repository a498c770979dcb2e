# Portable sources: algorithms that compile both into the kernel and for the
# host, where they are unit-tested. Everything in lib/ and fs/core/ is
# portable by definition; elsewhere each portable file is listed here.
file(GLOB KEEL_PORTABLE_GLOBBED CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/lib/*.cpp
  ${CMAKE_SOURCE_DIR}/fs/core/*.cpp)
set(KEEL_PORTABLE_LISTED
  fs/proc/seq.cpp
  kernel/cmdline.cpp
  kernel/cgroup/parse.cpp
  fs/lock_ranges.cpp
  kernel/sched/eevdf.cpp
  kernel/exec/elf.cpp
  kernel/exec/user_stack.cpp
  kernel/tty/ldisc.cpp
  kernel/tty/ldisc_io.cpp
  kernel/psi/psi_core.cpp
  mm/boot_mem.cpp
  mm/buddy.cpp
  mm/slab.cpp
  mm/vmem_arena.cpp
)
list(TRANSFORM KEEL_PORTABLE_LISTED PREPEND ${CMAKE_SOURCE_DIR}/)
set(KEEL_PORTABLE_SOURCES ${KEEL_PORTABLE_GLOBBED})
foreach(f ${KEEL_PORTABLE_LISTED})
  if(EXISTS ${f})
    list(APPEND KEEL_PORTABLE_SOURCES ${f})
  endif()
endforeach()
