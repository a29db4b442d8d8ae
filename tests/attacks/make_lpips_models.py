"""Writes TorchScript stand-ins for an LPIPS model (the real weights cannot be downloaded here):
good.pt returns a per-pair L1 distance of shape (B, 1, 1, 1) like the lpips package, bad_shape.pt returns
one scalar, not_a_model.pt is text. usage: make_lpips_models.py OUT_DIR"""
import pathlib
import sys

import torch


class L1(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x - y).abs().mean(dim=[1, 2, 3], keepdim=True)


class Scalar(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x - y).abs().mean()


out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
torch.jit.script(L1()).save(str(out / "good.pt"))
torch.jit.script(Scalar()).save(str(out / "bad_shape.pt"))
(out / "not_a_model.pt").write_text("not TorchScript\n")
