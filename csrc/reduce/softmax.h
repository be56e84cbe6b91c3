// Row-wise softmax family over the last axis of a (rows, classes) C-contiguous matrix, fused
// into one pass per row (max, sum of exponentials, outputs) and numerically stable.
#pragma once

#include <cstdint>

namespace headwater {

template <class T>
void softmax_rows(int64_t rows, int64_t classes, const T* x, T* out);
template <class T>
void log_softmax_rows(int64_t rows, int64_t classes, const T* x, T* out);
// loss[r] = -sum(labels * log_softmax(logits)), backprop = softmax(logits) - labels.
template <class T>
void softmax_xent_rows(int64_t rows, int64_t classes, const T* logits, const T* labels, T* loss,
                       T* backprop);
// Sparse labels (already range-checked): loss[r] = -log_softmax[r, label[r]],
// backprop = softmax - onehot(label).
template <class T, class I>
void sparse_softmax_xent_rows(int64_t rows, int64_t classes, const T* logits, const I* labels,
                              T* loss, T* backprop);

}  // namespace headwater
