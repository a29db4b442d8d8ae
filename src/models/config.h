#pragma once
// [model]: which models of the zoo (models/catalog.h) and their size.
#include <string>
#include <vector>

#include "core/config.h"
#include "models/catalog.h"

namespace ganleaks {

struct ModelConfig {
  static constexpr std::string_view kSection = "model";
  std::vector<std::string> names{"dcgan"};
  int z_dim = 100;
  int width = 32;

  // The model a builder makes: the first name (jobs pass only(their model)).
  const std::string& name() const { return names.front(); }
  ModelConfig only(const std::string& name) const {
    auto one = *this;
    one.names = {name};
    return one;
  }

  void visit(KeyVisitor& v) {
    v.one_or_more("name", names, models::kModelNames,
                  "the model ([`docs/models.md`](../docs/models.md)): `medgan` takes records, the others images; an "
                  "array compares models: each gets its own jobs, and job names start with the model "
                  "(`vae-victim-n64-s0`). The model must fit `data.dataset`; DP-SGD is available for `dcgan` only");
    v.integer("z_dim", z_dim, {1, 4096}, "latent (noise) dimension; `medgan`: also its code dimension");
    v.integer("width", width, {4, 1024}, "base channel count (`medgan`: its discriminator's hidden layer has 8 × width units)");
  }
  bool operator==(const ModelConfig&) const = default;
};

}  // namespace ganleaks
