#include "elementwise/fused.h"

#include <atomic>
#include <cstring>
#include <memory>

#include "common/isa.h"
#include "common/thread_pool.h"
#include "elementwise/claim.h"
#include "elementwise/unary.h"

namespace headwater {
namespace {

constexpr int64_t kParallelMin = int64_t(1) << 16;

const FusedTable* fused_table() {
  return HW_ISA_TABLE(current_isa(), kFusedTable);
}

const UnaryTable* unary_table() {
  return HW_ISA_TABLE(current_isa(), kUnaryTable);
}

const FusedFns<float>& fns_of(const FusedTable* t, float*) { return t->f32; }
const FusedFns<double>& fns_of(const FusedTable* t, double*) { return t->f64; }
UnaryLoopFn<float> unary_of(const UnaryTable* t, UnaryOp op, float*) {
  return t->f32[static_cast<int>(op)];
}
UnaryLoopFn<double> unary_of(const UnaryTable* t, UnaryOp op, double*) {
  return t->f64[static_cast<int>(op)];
}

UnaryOp transcendental(FusedOp op) {
  switch (op) {
    case FusedOp::exp:
      return UnaryOp::exp;
    case FusedOp::log:
      return UnaryOp::log;
    case FusedOp::tanh:
      return UnaryOp::tanh;
    default:
      return UnaryOp::sigmoid;
  }
}

// A register as read by an instruction: `p` points at the block's values, or at one value
// when `scalar`.
template <class T>
struct Reg {
  const T* p = nullptr;
  bool scalar = false;
};

// The loops, bound once per call.
template <class T>
struct Kernels {
  const FusedFns<T>* f;
  const UnaryTable* u;

  // dst[0 .. len) = op(a, b) for registers a, b (not both scalar: scalars are folded first).
  void run(const FusedInstr& in, int64_t len, const Reg<T>* r, T* dst) const {
    const int op = static_cast<int>(in.op);
    if (fused_is_binary(in.op)) {
      const Reg<T>& a = r[in.a];
      const Reg<T>& b = r[in.b];
      const int pat = a.scalar ? 1 : (b.scalar ? 2 : 0);
      f->binary[op][pat](len, a.p, b.p, dst);
    } else if (op < 10 + kNumFusedSimpleUnary) {
      f->unary[op - 10](len, r[in.a].p, dst);
    } else {
      unary_of(u, transcendental(in.op), static_cast<T*>(nullptr))(len, r[in.a].p, dst);
    }
  }
};

}  // namespace

template <class T>
void fused_elementwise(const std::vector<FusedInstr>& prog,
                       const std::vector<FusedInput<T>>& inputs, int64_t n, T* out) {
  if (n <= 0 || prog.empty()) return;
  const Kernels<T> k{&fns_of(fused_table(), static_cast<T*>(nullptr)), unary_table()};
  const int nin = static_cast<int>(inputs.size());
  const size_t nprog = prog.size();

  // Fold everything that depends on scalars only (constants, scalar inputs): one value per
  // such instruction, computed by the same loops as the vector path.
  T sval[kFusedMaxRegs] = {};  // register values during the fold, in program order
  bool is_scalar[kFusedMaxRegs] = {};
  T in_val[kFusedMaxRegs] = {};  // scalar inputs
  std::vector<T> fval(nprog);
  std::vector<char> folded(nprog, 0);
  for (int i = 0; i < nin; ++i)
    if (inputs[static_cast<size_t>(i)].kind == FusedInputKind::scalar) {
      in_val[i] = sval[i] = inputs[static_cast<size_t>(i)].data[0];
      is_scalar[i] = true;
    }
  {
    Reg<T> r[kFusedMaxRegs];
    for (int q = 0; q < kFusedMaxRegs; ++q) r[q] = Reg<T>{&sval[q], false};
    for (size_t j = 0; j < nprog; ++j) {
      const FusedInstr& in = prog[j];
      bool all_scalar;
      if (in.op == FusedOp::constant)
        all_scalar = true;
      else if (fused_is_binary(in.op))
        all_scalar = is_scalar[in.a] && is_scalar[in.b];
      else
        all_scalar = is_scalar[in.a];
      is_scalar[in.dst] = all_scalar;
      if (!all_scalar) continue;
      folded[j] = 1;
      T v;
      if (in.op == FusedOp::constant)
        v = static_cast<T>(in.value);
      else
        k.run(in, 1, r, &v);
      sval[in.dst] = fval[j] = v;
    }
  }
  if (folded.back()) {
    const T v = fval.back();
    for (int64_t i = 0; i < n; ++i) out[i] = v;
    return;
  }

  const int64_t blocks = (n + kFusedBlock - 1) / kFusedBlock;
  int64_t nregs = nin;
  for (const FusedInstr& in : prog) nregs = in.dst + 1 > nregs ? in.dst + 1 : nregs;
  // Runs blocks [b_begin, b_end), then (with `next`) whatever chunks of blocks it can claim.
  auto run_blocks = [&](std::atomic<int64_t>* next, int64_t parts, int64_t b_begin,
                        int64_t b_end) {
    // Per-thread register buffers, one block for each register the program uses, left
    // uninitialised (every register is written before it is read): zeroing kFusedMaxRegs
    // blocks (64 KiB for float) took a few microseconds per thread and call.
    std::unique_ptr<T[]> scratch(new T[static_cast<size_t>(nregs * kFusedBlock)]);
    Reg<T> r[kFusedMaxRegs];
    for (int64_t b = b_begin;; ++b) {
      if (b >= b_end) {
        // At least 4096 elements per claim (see claim.h).
        const int64_t unit = (4095 + kFusedBlock) / kFusedBlock;
        if (next == nullptr || !claim_guided(*next, blocks, unit, parts, &b, &b_end)) break;
      }
      const int64_t i0 = b * kFusedBlock;
      const int64_t len = n - i0 < kFusedBlock ? n - i0 : kFusedBlock;
      for (int i = 0; i < nin; ++i) {
        const FusedInput<T>& in = inputs[static_cast<size_t>(i)];
        if (in.kind == FusedInputKind::scalar) {
          r[i] = Reg<T>{&in_val[i], true};
        } else if (in.kind == FusedInputKind::full) {
          r[i] = Reg<T>{in.data + i0, false};
        } else if (in.kind == FusedInputKind::row && i0 % in.len + len <= in.len) {
          r[i] = Reg<T>{in.data + i0 % in.len, false};  // the block lies within one repeat
        } else if (in.kind == FusedInputKind::row) {
          // Copy the block's stretch of the repeated row, run by run.
          T* buf = scratch.get() + static_cast<size_t>(i) * kFusedBlock;
          int64_t done = 0, pos = i0 % in.len;
          while (done < len) {
            const int64_t take = in.len - pos < len - done ? in.len - pos : len - done;
            std::memcpy(buf + done, in.data + pos, static_cast<size_t>(take) * sizeof(T));
            done += take;
            pos = 0;
          }
          r[i] = Reg<T>{buf, false};
        }
      }
      for (size_t j = 0; j < nprog; ++j) {
        const FusedInstr& in = prog[j];
        if (folded[j]) {
          r[in.dst] = Reg<T>{&fval[j], true};
          continue;
        }
        T* dst = j + 1 == nprog ? out + i0
                                : scratch.get() + static_cast<size_t>(in.dst) * kFusedBlock;
        k.run(in, len, r, dst);
        r[in.dst] = Reg<T>{dst, false};
      }
    }
  };
  if (n < kParallelMin) {
    run_blocks(nullptr, 1, 0, blocks);
    return;
  }
  // Chunks of blocks claimed from a shared counter (claim.h): a late worker just takes fewer.
  std::atomic<int64_t> next{0};
  const int64_t parts = blocks < get_num_threads() ? blocks : get_num_threads();
  parallel_for(parts, 1, [&](int64_t, int64_t) { run_blocks(&next, parts, 0, 0); });
}

template void fused_elementwise<float>(const std::vector<FusedInstr>&,
                                       const std::vector<FusedInput<float>>&, int64_t, float*);
template void fused_elementwise<double>(const std::vector<FusedInstr>&,
                                        const std::vector<FusedInput<double>>&, int64_t,
                                        double*);

}  // namespace headwater
