# Helpers shared by every scalelab target: warnings, sanitizers, and the library/test conventions.

add_library(scalelab_options INTERFACE)
target_compile_options(scalelab_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                  -Wnon-virtual-dtor -Wno-missing-field-initializers)
# GCC 12's libstdc++ trips -Wrestrict inside std::string (GCC bug 105329): a false positive.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(scalelab_options INTERFACE -Wno-restrict)
endif()
if(SCALELAB_WARNINGS_AS_ERRORS)
  target_compile_options(scalelab_options INTERFACE -Werror)
endif()
if(SCALELAB_SANITIZE)
  target_compile_options(scalelab_options INTERFACE -fsanitize=address,undefined
                                                    -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(scalelab_options INTERFACE -fsanitize=address,undefined)
endif()
if(SCALELAB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SCALELAB_FUZZ needs clang (libFuzzer): use the fuzz preset")
  endif()
  # Coverage instrumentation everywhere; the harnesses link libFuzzer's main (tests/fuzz).
  # -Wno-pass-failed: clang cannot honour the fit kernel's vectorisation hints under the sanitizers.
  target_compile_options(scalelab_options INTERFACE -fsanitize=fuzzer-no-link -Wno-pass-failed)
endif()

# scalelab_add_library(<component> SOURCES ... DEPS ...): builds scalelab_<component>, aliased as
# scalelab::<component>, with src/ on the include path (headers are included as "common/error.h").
function(scalelab_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(scalelab_${name} STATIC ${ARG_SOURCES})
  add_library(scalelab::${name} ALIAS scalelab_${name})
  target_include_directories(scalelab_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(scalelab_${name} PUBLIC ${ARG_DEPS} PRIVATE scalelab_options ${ARG_PRIVATE_DEPS})
endfunction()

# scalelab_add_test(<name> LABELS ... SOURCES ... DEPS ...): one GoogleTest binary per component,
# registered with gtest_discover_tests so that every TEST is its own CTest entry carrying LABELS.
function(scalelab_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main scalelab_options)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)  # test_support.h
  target_compile_definitions(${name} PRIVATE
    SCALELAB_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    SCALELAB_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data"
    SCALELAB_BINARY="$<TARGET_FILE:scalelab>")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  gtest_discover_tests(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} DISCOVERY_TIMEOUT 60)
  # Labels: a list passed through gtest_discover_tests' PROPERTIES is split into separate arguments,
  # so set them from an include file that runs after discovery, on the list it defines (<name>_TESTS).
  set(label_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${label_file}
       "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${ARG_LABELS}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${label_file})
endfunction()
