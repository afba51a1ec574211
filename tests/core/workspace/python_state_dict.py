"""Writes a state dict the way a Python user does: torch.save(dict(model.state_dict()), FILE).

usage: python_state_dict.py FILE ARCH CHANNELS CLASSES
  ARCH is a torchvision model (resnet18, resnet34, resnet50); CHANNELS replaces its first
  convolution's 3 input channels when it differs.
"""
import sys

import torch
import torchvision


def main(path, arch, channels, classes):
    torch.manual_seed(11)
    model = getattr(torchvision.models, arch)(num_classes=int(classes))
    if int(channels) != 3:
        model.conv1 = torch.nn.Conv2d(int(channels), 64, 7, 2, 3, bias=False)
    torch.save(dict(model.state_dict()), path)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
