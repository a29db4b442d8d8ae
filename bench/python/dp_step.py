"""Opacus reference for bench_dp: the same DCGAN discriminator (width 16 / 32, LeakyReLU 0.2, no norm
layers), batch 64, one Adam step with and without DP-SGD, flat clipping to 1, noise multiplier 1, in Opacus's
default mode (GradSampleModule + DPOptimizer: per-sample gradients by hooks) and in its fastest (ghost
clipping: GradSampleModuleFastGradientClipping, whose layers without a norm sampler, Conv2d in Opacus 1.6,
compute norms from per-sample gradients they do not keep; two backwards). One CPU thread, like one rank.
Prints one JSON object per benchmark: {"name", "steps_per_second"}.
"""
import json
import time
import warnings

import torch
import torch.nn as nn
from opacus import GradSampleModule
from opacus.grad_sample import GradSampleModuleFastGradientClipping
from opacus.optimizers import DPOptimizer, DPOptimizerFastGradientClipping
from opacus.utils.fast_gradient_clipping_utils import DPLossFastGradientClipping

torch.set_num_threads(1)
# Opacus's hooks warn that the input needs no gradient (true of a discriminator's data); nothing to act on.
warnings.filterwarnings("ignore", message="Full backward hook is firing")
BATCH = 64


def discriminator(w):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(4 * w, 1, 4, 1, 0), nn.Flatten(0))


def rate(step, seconds=2.0):
    for _ in range(3):
        step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - start)


def main():
    x = torch.rand(BATCH, 1, 32, 32) * 2 - 1
    target = torch.cat([torch.ones(BATCH // 2), torch.zeros(BATCH - BATCH // 2)])
    loss = nn.BCEWithLogitsLoss()
    for w in (16, 32):
        d = discriminator(w)
        adam = torch.optim.Adam(d.parameters(), lr=5e-4, betas=(0.5, 0.999))

        def plain():
            adam.zero_grad()
            loss(d(x), target).backward()
            adam.step()

        print(json.dumps({"name": f"python/DiscriminatorStep/{w}/{BATCH}", "steps_per_second": rate(plain)}))
        gsm = GradSampleModule(discriminator(w))
        dp_adam = DPOptimizer(torch.optim.Adam(gsm.parameters(), lr=5e-4, betas=(0.5, 0.999)),
                              noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=BATCH)

        def private():
            dp_adam.zero_grad()
            loss(gsm(x), target).backward()
            dp_adam.step()

        print(json.dumps({"name": f"python/DiscriminatorStepDp/{w}/{BATCH}", "steps_per_second": rate(private)}))
        ghost_module = GradSampleModuleFastGradientClipping(discriminator(w), max_grad_norm=1.0,
                                                            use_ghost_clipping=True, loss_reduction="mean")
        ghost_adam = DPOptimizerFastGradientClipping(
            torch.optim.Adam(ghost_module.parameters(), lr=5e-4, betas=(0.5, 0.999)), noise_multiplier=1.0,
            max_grad_norm=1.0, expected_batch_size=BATCH, loss_reduction="mean")
        ghost_loss = DPLossFastGradientClipping(ghost_module, ghost_adam, nn.BCEWithLogitsLoss(), loss_reduction="mean")

        def ghost():
            ghost_adam.zero_grad()
            ghost_loss(ghost_module(x), target).backward()
            ghost_adam.step()

        print(json.dumps({"name": f"python/DiscriminatorStepDpGhost/{w}/{BATCH}", "steps_per_second": rate(ghost)}))


if __name__ == "__main__":
    main()
