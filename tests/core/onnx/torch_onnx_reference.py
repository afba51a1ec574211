"""Python's side of the torch.onnx comparison (run by onnx_torch_onnx_test).

usage: torch_onnx_reference.py [ARCH CLASSES SIDE STATE_DICT OUT_ONNX]...  (one Python for all)

For each group of five arguments: loads STATE_DICT (written by trellis's save_state_dict) with torch.load(weights_only=True) into
torchvision's ARCH(num_classes=CLASSES) (resnet18/34/50) or, for small_cnn, into the Python
replica of trellis's small CNN that the DDP benchmark uses (one channel, ten classes), and writes
torch.onnx.export's file for it in eval mode: opset 17, input "input" [batch, C, SIDE, SIDE],
output "output", BatchNorm folded by constant folding. Prints each file's nodes by op type.
"""
import collections
import pathlib
import sys

import onnx
import torch
import torchvision

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "benchmarks" / "ddp"))
from python_ddp_bench import SmallCNN  # noqa: E402


def export(arch, classes, side, state_dict, out):
    classes, side = int(classes), int(side)
    if arch == "small_cnn":
        if classes != 10:
            sys.exit("the small_cnn replica has ten classes")
        model, channels = SmallCNN(side), 1
    else:
        model, channels = getattr(torchvision.models, arch)(num_classes=classes), 3
    model.load_state_dict(torch.load(state_dict, weights_only=True))  # strict
    model.eval()
    torch.onnx.export(model, torch.zeros(1, channels, side, side), out, opset_version=17,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    nodes = collections.Counter(node.op_type for node in onnx.load(out).graph.node)
    print(arch + ": " + " ".join(f"{op}={count}" for op, count in sorted(nodes.items())))


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or len(args) % 5 != 0:
        sys.exit(__doc__)
    for i in range(0, len(args), 5):
        export(*args[i:i + 5])
