# The kernel image: a freestanding C++20 ELF linked at -2 GiB (kernel code
# model), loaded at 1 MiB physical, entered through its PVH note.

# The uapi headers (linux/, asm/, asm-generic/) are the only system headers
# the kernel may see; libc's are kept out with -nostdinc.
set(KEEL_UAPI_DIR ${CMAKE_BINARY_DIR}/uapi)
file(MAKE_DIRECTORY ${KEEL_UAPI_DIR})
foreach(pair "linux=/usr/include/linux" "asm-generic=/usr/include/asm-generic"
             "asm=/usr/include/x86_64-linux-gnu/asm")
  string(REPLACE "=" ";" kv ${pair})
  list(GET kv 0 name)
  list(GET kv 1 target)
  file(CREATE_LINK ${target} ${KEEL_UAPI_DIR}/${name} SYMBOLIC)
endforeach()

execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE KEEL_CC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)

# Recursive: kernel/sched, fs/core and the like are included.
file(GLOB_RECURSE KEEL_KERNEL_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/arch/x86_64/*.cpp ${CMAKE_SOURCE_DIR}/arch/x86_64/*.S
  ${CMAKE_SOURCE_DIR}/kernel/*.cpp ${CMAKE_SOURCE_DIR}/mm/*.cpp
  ${CMAKE_SOURCE_DIR}/lib/*.cpp ${CMAKE_SOURCE_DIR}/drivers/*.cpp ${CMAKE_SOURCE_DIR}/fs/*.cpp
  ${CMAKE_SOURCE_DIR}/tests/ktest/*.cpp)

set(KEEL_KERNEL_CXX_FLAGS
  -std=c++20 -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics
  -fno-use-cxa-atexit -nostdinc -nostdinc++ -fno-stack-protector -fno-pic -fno-pie
  -mno-red-zone -mcmodel=kernel -mgeneral-regs-only -mno-sse -mno-mmx -mno-avx
  -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls
  -fno-asynchronous-unwind-tables
  -ffunction-sections -O2 -g
  -Wall -Wextra -Werror -Wshadow -Wvla -Wno-missing-field-initializers
  # Kernel stacks are 16 KiB: no function may take a sizeable part of one.
  -Wframe-larger-than=3072)

# Syscall names by number, generated from the uapi header.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/generated/syscall_names.inc
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/generated
  COMMAND python3 ${CMAKE_SOURCE_DIR}/tools/gen_syscall_names.py
          /usr/include/x86_64-linux-gnu/asm/unistd_64.h ${CMAKE_BINARY_DIR}/generated/syscall_names.inc
  DEPENDS ${CMAKE_SOURCE_DIR}/tools/gen_syscall_names.py)
add_custom_target(keel_generated DEPENDS ${CMAKE_BINARY_DIR}/generated/syscall_names.inc)

# The vDSO: a small shared object built with the host compiler (it is user
# code) and embedded in the kernel image by vdso/vdso_blob.S.
set(KEEL_VDSO ${CMAKE_BINARY_DIR}/generated/vdso.so)
add_custom_command(OUTPUT ${KEEL_VDSO}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/generated
  COMMAND ${CMAKE_C_COMPILER_LAUNCHER} gcc -O2 -fPIC -fno-stack-protector -fno-asynchronous-unwind-tables
          -nostdlib -shared -Wl,-soname,linux-vdso.so.1 -Wl,--hash-style=both
          -Wl,-T,${CMAKE_SOURCE_DIR}/vdso/vdso.lds -Wl,--build-id=none -Wl,-z,max-page-size=4096
          -I${CMAKE_SOURCE_DIR}/vdso -o ${KEEL_VDSO} ${CMAKE_SOURCE_DIR}/vdso/vdso.c
  DEPENDS ${CMAKE_SOURCE_DIR}/vdso/vdso.c ${CMAKE_SOURCE_DIR}/vdso/vdso.h ${CMAKE_SOURCE_DIR}/vdso/vdso.lds)
add_custom_target(keel_vdso DEPENDS ${KEEL_VDSO})
list(APPEND KEEL_KERNEL_SOURCES ${CMAKE_SOURCE_DIR}/vdso/vdso_blob.S)
set_source_files_properties(${CMAKE_SOURCE_DIR}/vdso/vdso_blob.S PROPERTIES OBJECT_DEPENDS ${KEEL_VDSO})

add_library(keel_objs OBJECT ${KEEL_KERNEL_SOURCES})
add_dependencies(keel_objs keel_vdso)
add_dependencies(keel_objs keel_generated)
target_include_directories(keel_objs PRIVATE ${CMAKE_BINARY_DIR}/generated)
# CMake drops implicit compiler include dirs from -isystem; pass it by hand.
target_include_directories(keel_objs SYSTEM PRIVATE ${KEEL_UAPI_DIR})
list(APPEND KEEL_KERNEL_CXX_FLAGS -isystem ${KEEL_CC_INCLUDE})
target_include_directories(keel_objs PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_definitions(keel_objs PRIVATE KEEL_KERNEL=1 $<$<BOOL:${KEEL_DEBUG}>:KEEL_DEBUG=1>)
target_compile_options(keel_objs PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:${KEEL_KERNEL_CXX_FLAGS}>
  $<$<COMPILE_LANGUAGE:ASM>:-nostdinc -fno-pic -D__ASSEMBLY__ -DKEEL_VDSO_PATH="${KEEL_VDSO}">)

set(KEEL_LDSCRIPT ${CMAKE_SOURCE_DIR}/arch/x86_64/kernel.ld)
set(KEEL_LINK_FLAGS -nostdlib -static -no-pie -Wl,-T,${KEEL_LDSCRIPT}
  -Wl,-z,max-page-size=4096 -Wl,--build-id=none -Wl,--gc-sections -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments)

# Sibling calls are kept as calls (above) so that every caller shows in a
# backtrace. Symbols for backtraces are embedded at build time with a two-pass link:
# pass 1 has an empty table; its text addresses are read back and linked into
# pass 2. The table's section sits after .text, so text addresses match.
add_executable(keel_pass1 $<TARGET_OBJECTS:keel_objs> ${CMAKE_SOURCE_DIR}/tools/ksyms_empty.S)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/ksyms.S
  COMMAND python3 ${CMAKE_SOURCE_DIR}/tools/gen_ksyms.py $<TARGET_FILE:keel_pass1> ${CMAKE_BINARY_DIR}/ksyms.S
  DEPENDS keel_pass1 ${CMAKE_SOURCE_DIR}/tools/gen_ksyms.py)
add_executable(keel ${CMAKE_BINARY_DIR}/ksyms.S $<TARGET_OBJECTS:keel_objs>)
foreach(t keel_pass1 keel)
  target_link_options(${t} PRIVATE ${KEEL_LINK_FLAGS})
  target_link_libraries(${t} PRIVATE gcc)
  set_target_properties(${t} PROPERTIES LINK_DEPENDS ${KEEL_LDSCRIPT} SUFFIX ".elf")
endforeach()
# Pass 2's symbols must equal pass 1's, else a backtrace would lie.
add_custom_command(TARGET keel POST_BUILD
  COMMAND python3 ${CMAKE_SOURCE_DIR}/tools/gen_ksyms.py --verify $<TARGET_FILE:keel> ${CMAKE_BINARY_DIR}/ksyms.S)
