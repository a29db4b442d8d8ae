"""Opacus reference for bench_dp: the same DCGAN discriminator (width 16 / 32, LeakyReLU 0.2, no norm
layers), batch 64, one Adam step with and without DP-SGD (Opacus GradSampleModule + DPOptimizer: per-sample
gradients by hooks, flat clipping to 1, noise multiplier 1). One CPU thread, like one rank.
Prints one JSON object per benchmark: {"name", "steps_per_second"}.
"""
import json
import time

import torch
import torch.nn as nn
from opacus import GradSampleModule
from opacus.optimizers import DPOptimizer

torch.set_num_threads(1)
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


if __name__ == "__main__":
    main()
