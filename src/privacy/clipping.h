#pragma once
// How DP-SGD obtains each row's gradient norm and the clipped sum (privacy.clipping; grad_sample.h, dp_sgd.h).
// Every mode gives the same DP-SGD step: same norms, clipping, noise and accounting, up to float rounding.
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ganleaks::privacy {

enum class Clipping {
  // Every row's gradient, (B, *param.shape), as Opacus's grad samplers keep it; the norms and the clipped sum
  // are read from it. Several captured backwards add up (a layer used twice in one step).
  kMaterialise,
  // Book-keeping (Bu et al., ICML 2023) with the layerwise choice of mixed ghost clipping (Bu et al. 2022):
  // where the ghost norm (Li et al., ICLR 2022) takes fewer multiplications than materialising, the layer keeps
  // each row's squared norm and its input and output gradient, and its clipped sum is one ordinary weight
  // gradient with each row's output gradient scaled by its clipping factor; elsewhere it materialises as
  // above. One captured backward per step; the fastest mode.
  kBookKeeping,
  // Mixed ghost clipping (Bu et al. 2022): as book-keeping, but a layer where materialising is cheaper builds
  // its rows' gradients a block at a time, keeps only their norms, and computes its clipped sum like a ghost
  // layer. No per-row gradient outlives its block, so the least memory, for one more weight gradient per
  // such layer.
  kGhost,
};

// privacy.clipping's values, indexed by Clipping.
inline constexpr std::array<std::string_view, 3> kClippingNames{"materialise", "book-keeping", "ghost"};

inline Clipping clipping_named(std::string_view name) {
  for (std::size_t i = 0; i < kClippingNames.size(); ++i) {
    if (kClippingNames[i] == name) return static_cast<Clipping>(i);
  }
  throw std::invalid_argument("unknown clipping mode '" + std::string(name) + "'");
}

}  // namespace ganleaks::privacy
