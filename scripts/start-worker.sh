#!/bin/sh
# Runs the compiled worker: the CMD of its image (Dockerfile.worker), and `npm run start:worker`,
# `npm run dev` and the tests. Memory a page frees must go back to the system, or a worker
# that stopped a decompression bomb stays at the memory limit and stops the pages after it:
# - with jemalloc (Debian's libjemalloc2) preloaded, freed pages return within about a second;
# - without it, glibc maps and unmaps every allocation of 16 KiB or more, which returns the
#   memory too, at the cost of a system call each (measured up to 1.4x slower on receipts).
# NODE picks the node binary (default: the one on PATH); LD_PRELOAD set by the caller wins.
set -eu
if [ -z "${LD_PRELOAD:-}" ] && [ -z "${MALLOC_MMAP_THRESHOLD_:-}" ]; then
  for lib in /usr/local/lib/libjemalloc.so.2 /usr/lib/*-linux-gnu/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2; do
    if [ -f "$lib" ]; then
      export LD_PRELOAD="$lib"
      export MALLOC_CONF="${MALLOC_CONF:-background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0}"
      break
    fi
  done
fi
[ -n "${LD_PRELOAD:-}" ] || export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-16384}"
exec "${NODE:-node}" "$(dirname "$0")/../dist/worker.main.js" "$@"
