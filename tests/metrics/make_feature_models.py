"""Writes TorchScript feature networks for tests/metrics/test_features.cpp (ctest `features_torchscript`).

inception_pool3.pt: torchvision's Inception-v3 ARCHITECTURE (Szegedy et al. 2016) with random weights
(weights=None, init_weights=True: the pretrained weights cannot be downloaded here), fc = Identity, so the
output is the 2048-d pool3 vector FID uses (Heusel et al. 2017; pytorch-fid); BatchNorm statistics set from one
batch of random images; traced in eval mode.
inception_reference.pt: a module whose buffers hold 3 fixed 1-channel 32x32 inputs in [-1, 1] and Python's
features of them, computed with pytorch-fid's preprocessing order by the eager (untraced) model: bilinear resize
to 299x299 (align_corners=False), gray repeated to RGB, mapped to [0, 1].
channel_means.pt returns per-channel means as (B, C, 1, 1); tuple_output.pt (means (B, C), None);
not_a_model.pt is text; fails_to_run.pt multiplies by a matrix of the wrong size; wrong_shape.pt returns
(B, C, 2, 2); two_tensors.pt returns two tensors.

usage: make_feature_models.py OUT_DIR
"""
import pathlib
import sys
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
import torchvision


class ChannelMeans(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=[2, 3], keepdim=True)


class TupleOutput(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        return x.mean(dim=[2, 3]), None


class FailsToRun(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(7, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1).mm(self.weight)


class WrongShape(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :2, :2]


class TwoTensors(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return x.mean(dim=[2, 3]), x.amax(dim=[2, 3])


class Reference(torch.nn.Module):
    def __init__(self, inputs, outputs):
        super().__init__()
        self.register_buffer("inputs", inputs)
        self.register_buffer("outputs", outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    inception = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=True)
    inception.fc = torch.nn.Identity()
    # Random weights with BatchNorm's initial statistics (mean 0, variance 1) blow features up to ~1e10: set the
    # statistics once from a batch of 4 random images (momentum 1), so that features are O(1) as in a trained net.
    for module in inception.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 1.0
    with torch.no_grad():
        inception.train()
        inception(torch.rand(4, 3, 299, 299))
    inception.eval()
    generator = torch.Generator().manual_seed(1)
    inputs = torch.rand(3, 1, 32, 32, generator=generator) * 2 - 1
    inputs[2] = torch.linspace(-1, 1, 32 * 32).reshape(1, 32, 32)  # a smooth ramp beside the noise
    with torch.no_grad():
        x = F.interpolate(inputs, size=(299, 299), mode="bilinear", align_corners=False)
        x = (x.repeat(1, 3, 1, 1) + 1) / 2
        outputs = inception(x)
        traced = torch.jit.trace(inception, torch.zeros(2, 3, 299, 299), check_trace=False)
    assert outputs.shape == (3, 2048), outputs.shape
    traced.save(str(out / "inception_pool3.pt"))
    torch.jit.script(Reference(inputs, outputs)).save(str(out / "inception_reference.pt"))
    torch.jit.script(ChannelMeans()).save(str(out / "channel_means.pt"))
    torch.jit.script(TupleOutput()).save(str(out / "tuple_output.pt"))
    torch.jit.script(FailsToRun()).save(str(out / "fails_to_run.pt"))
    torch.jit.script(WrongShape()).save(str(out / "wrong_shape.pt"))
    torch.jit.script(TwoTensors()).save(str(out / "two_tensors.pt"))
    (out / "not_a_model.pt").write_text("not TorchScript\n")
    print(f"feature networks in {out}; Inception pool3 of the references: mean {outputs.mean():.4g}, "
          f"max {outputs.abs().max():.4g}")


if __name__ == "__main__":
    main()
