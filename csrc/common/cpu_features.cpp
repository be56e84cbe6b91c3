#include "common/cpu_features.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#define HW_X86 1
#if defined(_MSC_VER)
#include <immintrin.h>
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace headwater {
namespace {

#if defined(HW_X86)
struct Regs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Regs cpuid(uint32_t leaf, uint32_t subleaf) {
  Regs r;
#if defined(_MSC_VER)
  int out[4];
  __cpuidex(out, static_cast<int>(leaf), static_cast<int>(subleaf));
  r.eax = static_cast<uint32_t>(out[0]);
  r.ebx = static_cast<uint32_t>(out[1]);
  r.ecx = static_cast<uint32_t>(out[2]);
  r.edx = static_cast<uint32_t>(out[3]);
#else
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// XGETBV is only legal once CPUID reports OSXSAVE; the caller checks that first.
uint64_t xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
#endif
}

bool bit(uint32_t v, int i) { return ((v >> i) & 1u) != 0; }

CpuFeatures detect() {
  CpuFeatures f;
  f.x86 = true;
  const Regs r0 = cpuid(0, 0);
  const uint32_t max_leaf = r0.eax;
  char vendor[13];
  std::memcpy(vendor + 0, &r0.ebx, 4);
  std::memcpy(vendor + 4, &r0.edx, 4);
  std::memcpy(vendor + 8, &r0.ecx, 4);
  vendor[12] = '\0';
  f.vendor = vendor;

  const uint32_t max_ext = cpuid(0x80000000u, 0).eax;
  if (max_ext >= 0x80000004u) {
    char brand[49];
    for (uint32_t i = 0; i < 3; ++i) {
      const Regs r = cpuid(0x80000002u + i, 0);
      std::memcpy(brand + 16 * i + 0, &r.eax, 4);
      std::memcpy(brand + 16 * i + 4, &r.ebx, 4);
      std::memcpy(brand + 16 * i + 8, &r.ecx, 4);
      std::memcpy(brand + 16 * i + 12, &r.edx, 4);
    }
    brand[48] = '\0';
    std::string b = brand;
    const auto first = b.find_first_not_of(' ');
    const auto last = b.find_last_not_of(' ');
    f.brand = first == std::string::npos ? std::string() : b.substr(first, last - first + 1);
  }

  if (max_leaf < 7) return f;
  const Regs r1 = cpuid(1, 0);
  const Regs r7 = cpuid(7, 0);
  const bool osxsave = bit(r1.ecx, 27);
  if (!osxsave) return f;
  const uint64_t xcr0 = xgetbv0();
  // XCR0 bits 1-2: SSE and AVX (YMM) state; bits 5-7: opmask, ZMM0-15 high halves, ZMM16-31.
  const bool os_ymm = (xcr0 & 0x6u) == 0x6u;
  const bool os_zmm = (xcr0 & 0xE6u) == 0xE6u;

  const bool avx = bit(r1.ecx, 28);
  const bool fma = bit(r1.ecx, 12);
  const bool avx2 = bit(r7.ebx, 5);
  f.avx2_fma = os_ymm && avx && fma && avx2;

  const bool avx512f = bit(r7.ebx, 16);
  const bool avx512dq = bit(r7.ebx, 17);
  const bool avx512bw = bit(r7.ebx, 30);
  const bool avx512vl = bit(r7.ebx, 31);
  f.avx512 = f.avx2_fma && os_zmm && avx512f && avx512dq && avx512bw && avx512vl;
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace headwater
