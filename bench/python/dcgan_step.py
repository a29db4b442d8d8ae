"""PyTorch eager reference for bench_gpu's GanIteration: ganleaks's DCGAN training iteration (train/trainer.cpp,
non-saturating objective, one critic step) on the same networks (models/dcgan.cpp), on the CPU or one GPU.

One iteration: z ~ N(0, I) and a random batch of a fixed real set (N = 1024, kept on the device); D step on the
real rows and G(z).detach() with BCE-with-logits summed / batch; its loss read with .item(); G step on the same
G(z) through D; its loss read with .item(). Adam (0.5, 0.999), lr 2e-4 for both.

On CUDA the arithmetic is set as ganleaks's dist::configure_arithmetic sets it: no TF32, and with
--deterministic 1 (experiment.deterministic's default) deterministic algorithms and no cuDNN autotuning.
Prints one JSON object per (width, batch): {"name", "device", "iterations_per_second"}.
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

N_RECORDS = 1024
Z_DIM = 100  # ganleaks's default model.z_dim
CHANNELS = 1
WARMUP = 10


def generator(w):
    # z (B, z_dim, 1, 1) -> 4x4 -> 8x8 -> 16x16 -> 32x32; transposed convolutions without bias (BatchNorm follows).
    return nn.Sequential(
        nn.ConvTranspose2d(Z_DIM, 4 * w, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(),
        nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
        nn.ConvTranspose2d(w, CHANNELS, 4, 2, 1, bias=False), nn.Tanh())


def discriminator(w):
    # 32x32 -> 16x16 -> 8x8 -> 4x4 -> one logit per image; no normalisation (ganleaks: per-sample for DP-SGD).
    return nn.Sequential(
        nn.Conv2d(CHANNELS, w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(4 * w, 1, 4, 1, 0), nn.Flatten(0))


def dcgan_init(module):
    # models::dcgan_init: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0.
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def configure_arithmetic(device, deterministic):
    # As dist::configure_arithmetic(device, deterministic, tf32=false); a no-op on the CPU, as there.
    if device.type != "cuda":
        return
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # before the first cuBLAS call
        torch.use_deterministic_algorithms(True, warn_only=True)  # as ganleaks: warn, do not stop
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def iterations_per_second(device, width, batch, seconds):
    torch.manual_seed(0)
    g, d = generator(width).to(device), discriminator(width).to(device)
    dcgan_init(g)
    dcgan_init(d)
    g.train()
    d.train()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real_set = torch.rand(N_RECORDS, CHANNELS, 32, 32, device=device) * 2 - 1

    def iteration():
        real = real_set.index_select(0, torch.randint(N_RECORDS, (batch,), device=device))
        fake = g(torch.randn(batch, Z_DIM, device=device).view(batch, Z_DIM, 1, 1))
        # Discriminator: real rows called real, generated rows fake; sums divided by the batch.
        opt_d.zero_grad()
        logits_real, logits_fake = d(real), d(fake.detach())
        loss_d = (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real), reduction="sum") +
                  F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake), reduction="sum")) / batch
        loss_d.backward()
        opt_d.step()
        loss_d.item()  # ganleaks records each loss on the host as soon as it has it
        # Generator: make D call the same samples real.
        opt_g.zero_grad()
        logits = d(fake)
        loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="sum") / batch
        loss_g.backward()
        opt_g.step()
        loss_g.item()

    def clock():
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter()

    for _ in range(WARMUP):
        iteration()
    n, start = 0, clock()
    while clock() - start < seconds:
        iteration()
        n += 1
    return n / (clock() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--widths", default="16,64", help="generator/discriminator base widths, comma-separated")
    parser.add_argument("--batches", default="32,64", help="batch sizes, comma-separated")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per (width, batch)")
    parser.add_argument("--deterministic", type=int, choices=(0, 1), default=1,
                        help="CUDA: deterministic algorithms, as ganleaks's experiment.deterministic (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    configure_arithmetic(device, bool(args.deterministic))
    for width in (int(w) for w in args.widths.split(",")):
        for batch in (int(b) for b in args.batches.split(",")):
            rate = iterations_per_second(device, width, batch, args.seconds)
            print(json.dumps({"name": f"python/GanIteration/{width}/{batch}", "device": args.device,
                              "iterations_per_second": rate}), flush=True)


if __name__ == "__main__":
    main()
