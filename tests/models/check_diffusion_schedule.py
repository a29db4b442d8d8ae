"""The diffusion arithmetic of src/models/diffusion_schedule.h against the diffusers library's DDPMScheduler and
DDIMScheduler (issue #21), through the test-only driver tests/models/diffusion_tool, to 1e-6:
- the linear and cosine ("squaredcos_cap_v2") beta schedules and alphas_cumprod (diffusers keeps betas in float32;
  its alphas_cumprod is recomputed here in float64 from its own betas);
- the steps below on diffusers' own betas (handed to the tool as a given schedule), so that they compare arithmetic,
  not float32 rounding (x_0 predicted at t = 999 of the cosine schedule divides by sqrt(alphas_cumprod) ~ 1e-4);
- q(x_t | x_0) against DDPMScheduler.add_noise;
- one DDPM step (clip_sample on and off, the variance noise drawn from a seeded torch.Generator as diffusers does);
- one DDIM step at eta 0, 0.5 and 1 (variance_noise given), clip on and off, over set_timesteps' "leading" spacing;
- DDIM inversion then generation between two timesteps with the same noise prediction returns the start to 1e-9.
usage: check_diffusion_schedule.py DIFFUSION_TOOL"""
import subprocess
import sys

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler

tool = sys.argv[1]
rng = np.random.default_rng(21)
cases, expected = [], []


def fmt(values):
    return " ".join(repr(float(v)) for v in values)


def diffusers_kind(kind):
    return "linear" if kind == "linear" else "squaredcos_cap_v2"


def float64(scheduler):
    scheduler.alphas = 1.0 - scheduler.betas.double()
    scheduler.alphas_cumprod = torch.cumprod(scheduler.alphas, dim=0)
    if hasattr(scheduler, "final_alpha_cumprod"):
        scheduler.final_alpha_cumprod = torch.tensor(1.0, dtype=torch.float64)
    return scheduler


for kind, steps, start, end in (("linear", 1000, 1e-4, 0.02), ("cosine", 1000, 1e-4, 0.02), ("linear", 50, 1e-3, 0.05)):
    spec = f"{kind} {steps} {start!r} {end!r}"
    ddpm = DDPMScheduler(num_train_timesteps=steps, beta_start=start, beta_end=end, beta_schedule=diffusers_kind(kind))
    betas = ddpm.betas.double().numpy()
    given = f"given {steps} {fmt(betas)}"
    cases.append(f"schedule {spec}")
    expected.append(("schedule", np.concatenate([betas, np.cumprod(1 - betas)])))
    for clip in (True, False):
        sched = float64(DDPMScheduler(num_train_timesteps=steps, beta_start=start, beta_end=end,
                                      beta_schedule=diffusers_kind(kind), clip_sample=clip))
        for t in [0, 1, steps - 1] + list(rng.integers(0, steps, 3)):
            n = 6
            x = torch.from_numpy(rng.normal(size=(1, n)) * 1.2)  # diffusers' steps take (batch, ...) samples
            eps = torch.from_numpy(rng.normal(size=(1, n)))
            seed = int(rng.integers(0, 2**31))
            z = torch.randn((1, n), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
            prev = sched.step(eps, int(t), x, generator=torch.Generator().manual_seed(seed)).prev_sample
            cases.append(f"ddpm {given} {t} {int(clip)} {n} {fmt(x[0])} {fmt(eps[0])} {fmt(z[0])}")
            expected.append((f"ddpm {kind} t={t} clip={clip}", prev.numpy()[0]))
            noisy = sched.add_noise(x, eps, torch.tensor([int(t)]))
            cases.append(f"noised {given} {t} {n} {fmt(x[0])} {fmt(eps[0])}")
            expected.append((f"noised {kind} t={t}", noisy.numpy()[0]))
        for count in (10, 50 if steps >= 50 else 7):
            sched = float64(DDIMScheduler(num_train_timesteps=steps, beta_start=start, beta_end=end,
                                          beta_schedule=diffusers_kind(kind), clip_sample=clip))
            sched.set_timesteps(count)
            cases.append(f"timesteps {steps} {count}")
            expected.append((f"timesteps T={steps} count={count}", sched.timesteps.numpy().astype(float)))
            for t in list(sched.timesteps.numpy()[[0, -1]]) + list(rng.choice(sched.timesteps.numpy(), 2)):
                for eta in (0.0, 0.5, 1.0):
                    n = 5
                    x = torch.from_numpy(rng.normal(size=(1, n)))
                    eps = torch.from_numpy(rng.normal(size=(1, n)))
                    z = torch.from_numpy(rng.normal(size=(1, n)))
                    prev = sched.step(eps, int(t), x, eta=eta, variance_noise=z).prev_sample
                    t_next = int(t) - steps // count
                    cases.append(f"ddim {given} {t} {t_next} {eta!r} {int(clip)} {n} {fmt(x[0])} {fmt(eps[0])} {fmt(z[0])}")
                    expected.append((f"ddim {kind} t={t} eta={eta} clip={clip}", prev.numpy()[0]))

out = subprocess.run([tool], input="\n".join(cases) + "\n", capture_output=True, text=True)
assert out.returncode == 0, out.stderr
lines = out.stdout.strip().splitlines()
assert len(lines) == len(expected), f"{len(lines)} answers for {len(expected)} cases"
for line, (what, want) in zip(lines, expected):
    got = np.array([float(v) for v in line.split()])
    assert got.shape == want.shape, f"{what}: {got.shape} vs {want.shape}"
    worst = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
    assert worst <= 1e-6, f"{what}: differs by {worst:.3g}"

# Inversion (t -> t_next > t, eta 0, no clipping) undone by the DDIM step back with the same noise prediction.
spec = "cosine 1000 0.0001 0.02"
x = rng.normal(size=4)
eps = rng.normal(size=4)
zero = np.zeros(4)
up = subprocess.run([tool], input=f"ddim {spec} 100 300 0 0 4 {fmt(x)} {fmt(eps)} {fmt(zero)}\n", capture_output=True,
                    text=True, check=True).stdout.split()
back = subprocess.run([tool], input=f"ddim {spec} 300 100 0 0 4 {' '.join(up)} {fmt(eps)} {fmt(zero)}\n",
                      capture_output=True, text=True, check=True).stdout.split()
assert np.max(np.abs(np.array(back, dtype=float) - x)) < 1e-9, (back, x)
print(f"{len(expected) + 1} diffusion cases agree with diffusers {__import__('diffusers').__version__} to 1e-6")
