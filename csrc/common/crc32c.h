#pragma once

#include <cstddef>
#include <cstdint>

namespace headwater {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing.
// `crc` is the running value of a previous call (0 to start), so a buffer can be fed in pieces.
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run time), else a
// slicing-by-8 table.
uint32_t crc32c_extend(uint32_t crc, const uint8_t* data, size_t n);

// The table path alone (for tests of the fallback on CPUs with SSE4.2).
uint32_t crc32c_extend_portable(uint32_t crc, const uint8_t* data, size_t n);

inline uint32_t crc32c(const uint8_t* data, size_t n) { return crc32c_extend(0, data, n); }

// TFRecord's masked form: rotate right by 15 and add a constant, so a CRC stored inside data
// that is itself CRC'd does not produce degenerate checksums.
inline uint32_t crc32c_mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

// True when crc32c_extend runs on the SSE4.2 instruction.
bool crc32c_is_hardware();

}  // namespace headwater
