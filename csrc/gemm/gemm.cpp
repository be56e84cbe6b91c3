#include "gemm/gemm.h"

#include <atomic>

#include "common/isa.h"

namespace headwater {
namespace {

const GemmTable* table_for(Isa isa) {
  return HW_ISA_TABLE(isa, kGemmTable);
}

std::atomic<int> g_forced_tile{-1};
std::atomic<int> g_operand_mode{-1};

}  // namespace

void set_gemm_forced_tile(int index) { g_forced_tile.store(index, std::memory_order_relaxed); }
int gemm_forced_tile() { return g_forced_tile.load(std::memory_order_relaxed); }
void set_gemm_operand_mode(int mode) { g_operand_mode.store(mode, std::memory_order_relaxed); }
int gemm_operand_mode() { return g_operand_mode.load(std::memory_order_relaxed); }

const GemmTable& gemm_table() { return *table_for(current_isa()); }

template <>
void gemm<float>(const GemmArgs<float>& args) {
  table_for(current_isa())->f32(args);
}
template <>
void gemm<double>(const GemmArgs<double>& args) {
  table_for(current_isa())->f64(args);
}

}  // namespace headwater
