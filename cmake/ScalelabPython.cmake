# The Python module's prerequisites (python/CMakeLists.txt). The interpreter: Python3_EXECUTABLE
# when given; else the first `python3` — on PATH, then /usr/bin/python3 — that imports numpy (a
# pyenv or conda python3 ahead on PATH often lacks it, while Debian's python3-numpy is for
# /usr/bin/python3). Then its headers (Development.Module) and pybind11's CMake package. Anything
# missing: SCALELAB_PYTHON_FOUND is OFF with a message saying what, and the rest builds as before.
set(SCALELAB_PYTHON_FOUND OFF)
if(SCALELAB_PYTHON AND NOT SCALELAB_SANITIZE AND NOT SCALELAB_FUZZ)
  if(NOT Python3_EXECUTABLE)
    find_program(_scalelab_path_python3 python3)
    foreach(_candidate ${_scalelab_path_python3} /usr/bin/python3)
      if(_candidate AND EXISTS ${_candidate})
        execute_process(COMMAND ${_candidate} -c "import numpy"
                        RESULT_VARIABLE _no_numpy OUTPUT_QUIET ERROR_QUIET)
        if(NOT _no_numpy)
          set(Python3_EXECUTABLE ${_candidate} CACHE FILEPATH "Python for the scalelab module")
          break()
        endif()
      endif()
    endforeach()
  endif()
  if(NOT Python3_EXECUTABLE)
    message(STATUS "scalelab: no python3 with numpy found: the Python module is not built "
                   "(install python3-numpy, or set Python3_EXECUTABLE)")
  else()
    find_package(Python3 COMPONENTS Interpreter Development.Module)
    if(Python3_FOUND)
      find_package(pybind11 2.6 CONFIG QUIET)
    endif()
    if(NOT Python3_FOUND)
      message(STATUS "scalelab: no Python headers for ${Python3_EXECUTABLE}: the Python module is "
                     "not built (install python3-dev)")
    elseif(NOT pybind11_FOUND)
      message(STATUS "scalelab: pybind11 not found: the Python module is not built "
                     "(install pybind11-dev)")
    else()
      set(SCALELAB_PYTHON_FOUND ON)
      message(STATUS "scalelab: Python module for ${Python3_EXECUTABLE} (${Python3_VERSION}), "
                     "pybind11 ${pybind11_VERSION}")
    endif()
  endif()
endif()
