find_package(GTest REQUIRED)

set(KEEL_HOST_FLAGS -std=c++20 -Wall -Wextra -Werror -Wshadow -Wvla -g -O1)
if(KEEL_SANITIZE)
  list(APPEND KEEL_HOST_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  set(KEEL_HOST_LINK -fsanitize=address,undefined)
endif()

add_library(keel_portable STATIC ${KEEL_PORTABLE_SOURCES})
target_include_directories(keel_portable PUBLIC ${CMAKE_SOURCE_DIR})
target_compile_options(keel_portable PUBLIC ${KEEL_HOST_FLAGS})
target_compile_definitions(keel_portable PUBLIC KEEL_HOST=1)
target_link_options(keel_portable PUBLIC ${KEEL_HOST_LINK})

file(GLOB KEEL_HOST_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/host/*.cpp)
add_executable(keel_host_tests ${KEEL_HOST_TEST_SOURCES})
target_link_libraries(keel_host_tests keel_portable GTest::gtest GTest::gtest_main)
include(GoogleTest)
gtest_discover_tests(keel_host_tests DISCOVERY_TIMEOUT 60)
