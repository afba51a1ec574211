"""torchvision side of the model interop tests (run by torchvision_interop_test).

names                      print 'arch name [shape]' for each state-dict entry of resnet18/34/50
check ARCH K DICT IO       load a C++-written state dict with torch.load(weights_only=True) into
                           torchvision's ARCH(num_classes=K) and compare its eval output on
                           IO['input'] with IO['output'] (exit 1 above 1e-5)
write ARCH K DICT IO       torch.save a torchvision ARCH(num_classes=K) state dict (BatchNorm
                           statistics from a few training-mode batches) and its eval output
extras DIR                 torch.save DIR/parameters.pt (nn.Parameter values) and DIR/unsafe.pt
                           (a dict holding an object that is not a tensor)
"""
import sys
from collections import Counter, OrderedDict

import torch
import torchvision

TOLERANCE = 1e-5


def build(arch, classes):
    return getattr(torchvision.models, arch)(num_classes=int(classes))


def names():
    for arch in ("resnet18", "resnet34", "resnet50"):
        for name, tensor in build(arch, 1000).state_dict().items():
            print(f"{arch} {name} [{','.join(str(s) for s in tensor.shape)}]")


def check(arch, classes, dict_path, io_path):
    state = torch.load(dict_path, weights_only=True)
    if not isinstance(state, OrderedDict):
        sys.exit(f"expected an OrderedDict, got {type(state).__name__}")
    model = build(arch, classes)
    model.load_state_dict(state)  # strict: every name and shape must match
    model.eval()
    io = torch.load(io_path, weights_only=True)
    with torch.no_grad():
        output = model(io["input"])
    diff = (output - io["output"]).abs().max().item()
    print(f"{arch}: {len(state)} entries loaded, max |torchvision - C++| = {diff:.3g}")
    sys.exit(0 if diff <= TOLERANCE else 1)


def write(arch, classes, dict_path, io_path):
    torch.manual_seed(7)
    model = build(arch, classes)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, 64, 64))
    model.eval()
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        output = model(images)
    torch.save(model.state_dict(), dict_path)
    torch.save({"input": images, "output": output}, io_path)


def extras(directory):
    torch.save({"weight": torch.nn.Parameter(torch.arange(6.0).view(2, 3))},
               f"{directory}/parameters.pt")
    torch.save({"weight": torch.ones(2), "counts": Counter("abc")}, f"{directory}/unsafe.pt")


if __name__ == "__main__":
    commands = {"names": names, "check": check, "write": write, "extras": extras}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
