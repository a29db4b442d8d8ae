#include "extraction/config.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/errors.h"
#include "models/catalog.h"

namespace ganleaks::extraction {
namespace {

// The rules between keys, after every key was read on its own.
void check(const Config& c) {
  const auto& e = c.extraction;
  const auto fail = [&](const std::string& message) { throw ConfigError(fmt::format("{}: {}", c.source, message)); };
  if (const auto problem = c.experiment.problem(); !problem.empty()) fail(problem);
  if (!c.data.images() || c.data.image_size != 32) {
    fail(fmt::format("experiment.task = \"extraction\" needs images: data.dataset = \"fashion-mnist\" and "
                     "data.image_size = 32 (got {} and {}); the zoo's image models and the FID classifier take 32×32 images",
                     quote(c.data.dataset), c.data.image_size));
  }
  const auto image_model = [&](const std::string& key, const std::string& name) {
    if (models::model_info(name).modality != models::Modality::kImages) {
      fail(fmt::format("{} = {} is a model of records; extraction steals image GANs (docs/models.md)", key, quote(name)));
    }
    if (models::is_diffusion(name)) {  // its hashes and costs are not extraction's yet (issue #21 adds it as a victim)
      fail(fmt::format("{} = {} is a diffusion model; extraction steals GANs and VAEs (docs/models.md)", key, quote(name)));
    }
  };
  for (const auto& name : c.model.names) {
    image_model("model.name", name);
    if (!e.accuracy_queries.empty() && !models::model_info(name).discriminator) {
      fail(fmt::format("model.name = {} has no discriminator, which accuracy extraction refines with; set "
                       "extraction.accuracy_queries = [] or choose a GAN target", quote(name)));
    }
  }
  for (const auto& name : e.attack_models) image_model("extraction.attack_models", name);
  const std::int64_t feature_dim = c.features.extractor == "classifier" ? c.features.classifier_feature_dim : 0;
  if (feature_dim > 0 && e.fid_samples <= feature_dim) {
    fail(fmt::format("extraction.fid_samples = {} must exceed features.classifier_feature_dim = {}: FID needs more samples "
                     "than feature dimensions for a non-singular covariance", e.fid_samples, feature_dim));
  }
  if (feature_dim > 0 && e.target_train_size <= feature_dim) {
    fail(fmt::format("extraction.target_train_size = {} must exceed features.classifier_feature_dim = {}: the target's "
                     "training set is the real side of every accuracy FID", e.target_train_size, feature_dim));
  }
  if (feature_dim > 0 && !e.defenses.empty() && e.defense_queries <= feature_dim) {
    fail(fmt::format("extraction.defense_queries = {} must exceed features.classifier_feature_dim = {}: each defense's "
                     "utility cost is an FID of its answers", e.defense_queries, feature_dim));
  }
  if (e.partial_real > e.target_train_size) {
    fail(fmt::format("extraction.partial_real = {} exceeds extraction.target_train_size = {}: the thief's real records "
                     "are part of the target's training set", e.partial_real, e.target_train_size));
  }
  for (const auto q : e.accuracy_queries) {
    for (const auto& refiner : e.refiners) {
      const auto least = e.partial_real + (refiner == "mh" ? e.mh_chain_length : 1);
      if (q < least) {
        fail(fmt::format("extraction.accuracy_queries has {}, fewer than the {} generator calls one {} sample costs "
                         "(extraction.partial_real calibration samples{}); raise it", q, least, refiner,
                         refiner == "mh" ? " + one chain of extraction.mh_chain_length" : " + one proposal"));
      }
    }
  }
  if (e.transfer) {
    if (e.target_classes.empty()) {
      fail("extraction.transfer = true needs extraction.target_classes: the target's classes, disjoint from "
           "extraction.transfer_classes, the new domain");
    }
    for (const auto cls : e.transfer_classes) {
      if (std::ranges::find(e.target_classes, cls) != e.target_classes.end()) {
        fail(fmt::format("class {} is in both extraction.target_classes and extraction.transfer_classes; the transfer "
                         "domain must be new to the target", cls));
      }
    }
  }
  if (std::ranges::find(e.defenses, "semantic") != e.defenses.end() &&
      2 * c.defenses.semantic_k > c.defenses.semantic_samples) {
    fail(fmt::format("defenses.semantic_k = {} needs 2 × k ≤ defenses.semantic_samples = {} (k top- and k bottom-scored "
                     "latents label the SVM)", c.defenses.semantic_k, c.defenses.semantic_samples));
  }
  if (c.features.extractor == "torchscript" && c.features.torchscript_model.empty()) {
    fail("features.extractor = \"torchscript\" needs features.torchscript_model, the path of a TorchScript feature "
         "network (docs/extraction.md)");
  }
}

}  // namespace

Config parse_config(std::string_view toml_text, std::string_view source_name,
                    const std::function<std::string(std::string_view)>& other_sections) {
  Config c;
  c.source = std::string(source_name);
  read_config(toml_text, source_name, [&](KeyVisitor& v) { c.visit(v); }, other_sections);
  check(c);
  return c;
}

}  // namespace ganleaks::extraction
