"""Python DDP side of the speed check: ResNet-18 on 64x64, batch 32, 2 ranks x 1 thread, Gloo.

Prints per-rank step times synced vs under no_sync (and CPU-time overhead), measured the same
way as `ddp_tests "[.bench]"` (alternating steps), so both can run side by side.
Run with Debian's python: /usr/bin/python3 tests/core/ddp/bench_python_ddp.py
"""
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torchvision

BATCH, STEPS, ROUNDS = 32, 1, 20


def rank_main(rank, world, port):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    model = torch.nn.parallel.DistributedDataParallel(torchvision.models.resnet18(num_classes=10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.randn(BATCH, 3, 64, 64), torch.randint(0, 10, (BATCH,))

    def step(sync):
        opt.zero_grad()
        if sync:
            torch.nn.functional.cross_entropy(model(x), y).backward()
        else:
            with model.no_sync():
                torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    def timed(sync, totals):
        dist.barrier()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(STEPS):
            step(sync)
        totals[0] += time.perf_counter() - wall
        totals[1] += time.process_time() - cpu

    step(True), step(False)
    synced, local = [0.0, 0.0], [0.0, 0.0]
    for _ in range(ROUNDS):
        timed(True, synced)
        timed(False, local)
    n = STEPS * ROUNDS
    print(f"python bench rank={rank} sync_ms_per_step={1000 * synced[0] / n:.1f} "
          f"no_sync_ms_per_step={1000 * local[0] / n:.1f} sync_img_s={BATCH * n / synced[0]:.2f} "
          f"no_sync_img_s={BATCH * n / local[0]:.2f} overhead_pct={100 * (synced[0] - local[0]) / local[0]:.2f} "
          f"cpu_overhead_pct={100 * (synced[1] - local[1]) / local[1]:.2f}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    mp.spawn(rank_main, args=(2, free_port), nprocs=2)
