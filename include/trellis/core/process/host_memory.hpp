// keep_freed_host_memory: a training rank keeps the host memory it frees instead of giving it
// back to the kernel. By default glibc maps each large block on its own and unmaps it on free
// (from 128 KiB, a threshold it raises up to 32 MiB as it goes) and trims the top of its heap.
// A training step frees and allocates the same activation-sized blocks every step, so each
// step page-faults its way back into memory it had a moment before: 3.8 million faults in 300
// small-CNN steps on 28x28 images, 5-7% of the step time on 2 vCPUs. Kept memory is reused
// instead; the resident size stays at the peak a step reaches anyway.
#pragma once
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace trellis::core::process {

/// True when the environment sets one of the glibc malloc tunables that keep_freed_host_memory
/// sets (MALLOC_TRIM_THRESHOLD_, ... or GLIBC_TUNABLES=glibc.malloc.trim_threshold=..., ...):
/// such a choice is the user's and is left as it is.
inline bool malloc_tuned_by_environment() {
  for (const char* name : {"MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_",
                           "MALLOC_TOP_PAD_"})
    if (std::getenv(name) != nullptr) return true;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables == nullptr) return false;
  for (const char* name : {"glibc.malloc.trim_threshold", "glibc.malloc.mmap_threshold",
                           "glibc.malloc.mmap_max", "glibc.malloc.top_pad"})
    if (std::strstr(tunables, name) != nullptr) return true;
  return false;
}

/// From now on this process serves every allocation of its main heap from memory it keeps:
/// no block is unmapped on free and the heap is never trimmed. Returns whether it changed the
/// allocator: not with another C library, nor when malloc_tuned_by_environment().
inline bool keep_freed_host_memory() {
#if defined(__GLIBC__)
  if (malloc_tuned_by_environment()) return false;
  // Threads other than the main one allocate from arenas of at most 64 MiB; larger blocks there
  // are still mapped, as they must be.
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1;
#else
  return false;
#endif
}

}  // namespace trellis::core::process
