#pragma once
// Order statistics of the outlier check's small windows (OUT001: 2k+1 values, k = hampel_k).
#include <cstddef>
#include <utility>
#include <vector>

namespace aiot::lineage {

// The compare-exchange pairs of Batcher's odd-even merge sort for n values (any n): applying them
// in order sorts any input. Built once per n and kept (thread-local).
const std::vector<std::pair<std::size_t, std::size_t>>& sorting_network(std::size_t n);

// The median and the MAD (the median of |x - median|) of an odd number n of values: sorted copy
// into scratch (n doubles) by the network, the median in the middle, and the MAD by walking
// outwards from it, taking the smaller deviation each step. The network and the walk branch on no
// value: the windows that get here are the ones a cheaper test could not clear, whose values an
// insertion sort mispredicted on nearly every step.
void median_and_mad(const double* x, std::size_t n, double* scratch, double& med, double& mad);

}  // namespace aiot::lineage
