# Locates LibTorch inside the PyPI torch wheel installed by launch/setup into .venv.
# Torch_DIR or CMAKE_PREFIX_PATH given by the user win; otherwise ask the venv's Python.
set(GANLEAKS_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
    "Python interpreter whose torch package provides LibTorch")
if(NOT Torch_DIR)
  if(NOT EXISTS "${GANLEAKS_PYTHON}")
    message(FATAL_ERROR "LibTorch not found: ${GANLEAKS_PYTHON} does not exist. "
                        "Run launch/setup first, or pass -DTorch_DIR=<libtorch>/share/cmake/Torch.")
  endif()
  execute_process(
    COMMAND "${GANLEAKS_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _torch_rc)
  if(NOT _torch_rc EQUAL 0)
    message(FATAL_ERROR "${GANLEAKS_PYTHON} cannot import torch; run launch/setup.")
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
endif()
# The CUDA wheel's config wants the CUDA toolkit; it is at /usr/local/cuda on these machines.
if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
# Torch's config would probe the local GPU with try_run (none on CPU machines, and it breaks under C++20):
# name the architectures instead. 9.0 = Hopper (H100/H200), the GPU machines here.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "9.0")
endif()
find_package(Torch REQUIRED)
# Torch's config puts its flags into TORCH_CXX_FLAGS; the imported target carries the rest.
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")
