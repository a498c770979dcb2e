# Portable sources: algorithms that compile both into the kernel and for the
# host, where they are unit-tested. Each is listed once, here.
set(KEEL_PORTABLE_SOURCES
  lib/format.cpp
  lib/string.cpp
  lib/rbtree.cpp
  lib/ktap.cpp
  lib/cpio.cpp
  kernel/cmdline.cpp
  kernel/sched/eevdf.cpp
  mm/boot_mem.cpp
  mm/buddy.cpp
  mm/slab.cpp
  mm/vmem_arena.cpp
)
list(TRANSFORM KEEL_PORTABLE_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/)
set(_existing)
foreach(f ${KEEL_PORTABLE_SOURCES})
  if(EXISTS ${f})
    list(APPEND _existing ${f})
  endif()
endforeach()
set(KEEL_PORTABLE_SOURCES ${_existing})
