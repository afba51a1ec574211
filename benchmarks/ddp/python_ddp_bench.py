"""One rank of the Python DDP side of benchmarks/ddp: the same model, batch and synthetic data
as ddp_bench.cpp, under torch.nn.parallel.DistributedDataParallel (Gloo on the CPU, NCCL on
LOCAL_RANK's GPU), started by torchrun.
usage: python_ddp_bench.py small_cnn|resnet18 IMAGE_SIDE BATCH STEPS sync|nosync [cpu|cuda]
"""
import contextlib
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torchvision


class SmallCNN(torch.nn.Module):
    """trellis::core::small_cnn, layer for layer."""

    def __init__(self, side):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(32, 64, 3, padding=1)
        self.dropout = torch.nn.Dropout(0.25)
        self.fc1 = torch.nn.Linear(64 * (side // 4) * (side // 4), 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(self.dropout(x.flatten(1)))))


def main():
    name, side, batch, steps, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    cuda = len(sys.argv) > 6 and sys.argv[6] == "cuda"
    torch.set_num_threads(1)
    torch.manual_seed(1)
    local_rank = int(os.environ["LOCAL_RANK"])
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo")
    channels = 1 if name == "small_cnn" else 3
    net = SmallCNN(side) if name == "small_cnn" else torchvision.models.resnet18(num_classes=10)
    model = torch.nn.parallel.DistributedDataParallel(net.to(device), device_ids=[local_rank] if cuda else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(batch, channels, side, side, device=device)
    labels = torch.randint(0, 10, (batch,), device=device)

    def finish_queued_work():  # GPU kernels run asynchronously: time what they do, not their launch
        if cuda:
            torch.cuda.synchronize()

    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    # The best of several windows, as in ddp_bench.cpp (and timeit): noise only slows a window.
    windows, per_window = 7, max(1, steps // 5)  # as many windows as ddp_bench.cpp times per mode
    best = 0.0
    with model.no_sync() if mode == "nosync" else contextlib.nullcontext():
        for _ in range(5):
            step()
        for _ in range(windows):
            dist.barrier()
            finish_queued_work()
            start = time.perf_counter()
            for _ in range(per_window):
                step()
            finish_queued_work()
            dist.barrier()  # the window ends when every rank is done, as in ddp_bench.cpp
            best = max(best, batch * per_window / (time.perf_counter() - start))
    dist.barrier()
    if dist.get_rank() == 0:
        print(json.dumps({"images_per_s": best}), flush=True)

if __name__ == "__main__":
    main()
