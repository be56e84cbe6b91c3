#!/bin/sh
# AddressSanitizer + UndefinedBehaviorSanitizer run of the native kernels (no Python involved,
# so no LD_PRELOAD of the sanitizer runtimes into the interpreter is needed):
#
#   tests/kernels/sanitize/run.sh [build-dir]      (default build/sanitize)
#
# Builds the kernel library in Debug with -fsanitize=address,undefined, links driver.cpp
# against it and runs it over edge shapes on every ISA this CPU has, with 1 and 2 threads.
# Any sanitizer report aborts with a non-zero status. Takes a minute or two on 2 cores.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build/sanitize}
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="$flags" -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir 2>/dev/null || true)" \
  >/dev/null
cmake --build "$build" --target headwater_kernels -j "${JOBS:-2}" >/dev/null
${CXX:-c++} -std=c++17 -g -O1 $flags -I"$root/csrc" -I"$build/generated" \
  "$here/driver.cpp" "$build/libheadwater_kernels.a" -lpthread -o "$build/sanitize_driver"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$build/sanitize_driver"
