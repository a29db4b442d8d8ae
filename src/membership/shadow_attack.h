#pragma once
// A kShadowAttack job (membership/plan.h): LiRA and RMIA (attacks/shadow_scores.h) from the signal records of the
// victim and its K shadows, one rank, written to attacks/<job>.h5 with one group per score beside the raw and
// GAN-Leaks-calibrated groups of the attack job of the same setting.
#include <string>
#include <vector>

#include "data/splits.h"
#include "dist/placement.h"
#include "membership/config.h"
#include "membership/plan.h"
#include "runner/layout.h"

namespace ganleaks::membership {

struct ShadowAttackInputs {
  const Config& config;
  const runner::Layout& layout;
  const data::SeedSplits& splits;          // of the job's seed
  std::vector<std::string> signal_jobs;    // the victim's signal job, then shadows 0 .. K − 1's
  dist::Placement where;
};
void run_shadow_attack_job(const Job& job, const ShadowAttackInputs& inputs);

}  // namespace ganleaks::membership
