// Folding an eval-mode BatchNorm into the convolution before it (what torch.onnx's constant
// folding does): conv(x, W, b) then BN(gamma, beta, mean, var, eps) is conv(x, W', b') with
// W' = W * s and b' = (b - mean) * s + beta per output channel, s = gamma / sqrt(var + eps).
#pragma once
#include <torch/torch.h>

#include <vector>

namespace trellis::core::onnx_export {

struct folded_convolution {
  torch::Tensor weight;
  torch::Tensor bias;
};

/// `bias` may be undefined (a bias-free convolution), as may `gamma` and `beta` (BatchNorm
/// without affine parameters). Computed in float64 and rounded once to the weight's type.
inline folded_convolution fold_batch_norm(const torch::Tensor& weight, const torch::Tensor& bias,
                                          const torch::Tensor& gamma, const torch::Tensor& beta,
                                          const torch::Tensor& mean, const torch::Tensor& var,
                                          double eps) {
  auto as_double = [](const torch::Tensor& t) { return t.detach().to(torch::kDouble); };
  auto channels = weight.size(0);
  auto ones = torch::ones({channels}, torch::kDouble);
  auto zeros = torch::zeros({channels}, torch::kDouble);
  auto scale = (gamma.defined() ? as_double(gamma) : ones) / torch::sqrt(as_double(var) + eps);
  std::vector<std::int64_t> per_channel(static_cast<std::size_t>(weight.dim()), 1);
  per_channel[0] = channels;
  auto folded_weight = as_double(weight) * scale.reshape(per_channel);
  auto folded_bias = ((bias.defined() ? as_double(bias) : zeros) - as_double(mean)) * scale +
                     (beta.defined() ? as_double(beta) : zeros);
  return {folded_weight.to(weight.scalar_type()), folded_bias.to(weight.scalar_type())};
}

}  // namespace trellis::core::onnx_export
