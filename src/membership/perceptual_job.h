#pragma once
// The perceptual classifier job (attack.perceptual = "classifier"): a Fashion-MNIST classifier trained on the file
// data.pool leaves out, so that it has seen no query, and cached for every experiment under the same results
// directory; the pbb and wb attacks compare images in its layers (attacks/perceptual.h).
#include <c10/core/Device.h>

#include <filesystem>
#include <functional>

#include "membership/config.h"
#include "membership/plan.h"
#include "runner/layout.h"

namespace ganleaks::models {
class Classifier;
}

namespace ganleaks::membership {

// The job's output: its record, beside the weights in the cache.
std::filesystem::path perceptual_classifier_record(const runner::Layout& layout, const Config& config);

void train_perceptual_classifier_job(const Job& job, const Config& config, const runner::Layout& layout, int rank,
                                     const at::Device& device, const std::function<void()>& between_steps);

// The trained classifier on `device`, in eval mode; UserError naming the file when it is missing or damaged.
models::Classifier load_perceptual_classifier(const runner::Layout& layout, const Config& config, const at::Device& device);

}  // namespace ganleaks::membership
