"""PyTorch-Python reference for bench_attacks' WhiteBox and PowellNlopt/PowellBatched: the same DCGAN
generator (z 100, width 16, 32x32), the same objective (MSE + 0.001 (|z|^2 - 100)^2) and the same
evaluation budgets, written the way the GAN-Leaks reference code does it:
  - wb: torch.optim.LBFGS over the whole batch of latents (strong-Wolfe line search, history 20);
  - pbb: scipy.optimize.minimize(method="Powell") one query at a time.
Prints one JSON object per benchmark: {"name", "queries_per_second"}. One CPU thread, like one rank.
"""
import json
import sys
import time

import numpy as np
import scipy.optimize
import torch
import torch.nn as nn

torch.set_num_threads(1)
Z, W, PIXELS = 100, 16, 32 * 32
LINE_EVALUATIONS = 8
POWELL_BUDGET = 1 + Z * LINE_EVALUATIONS + 1


def generator():
    torch.manual_seed(0)
    g = nn.Sequential(
        nn.ConvTranspose2d(Z, 4 * W, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * W), nn.ReLU(),
        nn.ConvTranspose2d(4 * W, 2 * W, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * W), nn.ReLU(),
        nn.ConvTranspose2d(2 * W, W, 4, 2, 1, bias=False), nn.BatchNorm2d(W), nn.ReLU(),
        nn.ConvTranspose2d(W, 1, 4, 2, 1, bias=False), nn.Tanh())
    for m in g.modules():
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0, 0.02)
        if isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1, 0.02)
            nn.init.zeros_(m.bias)
    with torch.no_grad():
        for _ in range(20):
            g(torch.randn(64, Z, 1, 1))
    g.eval()
    for p in g.parameters():
        p.requires_grad_(False)
    return g


def objective(g, z, x):
    mse = (g(z.view(-1, Z, 1, 1)).reshape(len(z), -1) - x).square().mean(1)
    return mse + 0.001 * (z.square().sum(1) - Z).square()


def white_box(g, queries, evaluations):
    x = torch.rand(queries, PIXELS) * 2 - 1
    z = torch.randn(queries, Z, requires_grad=True)
    opt = torch.optim.LBFGS([z], lr=1, max_iter=evaluations, max_eval=evaluations, history_size=20,
                            tolerance_grad=0, tolerance_change=0, line_search_fn="strong_wolfe")
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = objective(g, z, x).sum()
        loss.backward()
        return loss

    start = time.perf_counter()
    opt.step(closure)
    seconds = time.perf_counter() - start
    return queries / seconds, calls[0]


def powell_scipy(g, queries):
    x = torch.rand(queries, PIXELS) * 2 - 1
    starts = torch.randn(queries, Z)
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(queries):
            f = lambda z: objective(g, torch.tensor(z, dtype=torch.float32).unsqueeze(0), x[i : i + 1]).item()
            scipy.optimize.minimize(f, starts[i].numpy().astype(np.float64), method="Powell",
                                    options={"maxfev": POWELL_BUDGET})
    return queries / (time.perf_counter() - start)


def main():
    g = generator()
    wb_rate, calls = white_box(g, 128, 100)
    print(json.dumps({"name": "python/WhiteBox/128/100", "queries_per_second": wb_rate, "evaluations": calls}))
    print(json.dumps({"name": "python/PowellScipy/16", "queries_per_second": powell_scipy(g, 16)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
