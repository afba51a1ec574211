"""Writes the image folders the Azure tests' emulated jobs train on, small enough to travel with
the code snapshot and learnable in a few steps (28x28 grayscale PNGs of stripes and checks, with
noise):
  tiny-shapes/                        3 classes, 16 training and 4 validation images a class
                                      (tests/azure/azure_job.cpp)
  transfer/data/fashion-target/       5 classes, 4 training, 2 validation and 2 test images a
                                      class: the data root examples/transfer_learning.cpp reads,
                                      relative to transfer/, where the tests start it
Run with /usr/bin/python3 (PIL) from this folder; the output is committed."""
import os
import random

from PIL import Image

PATTERNS = {
    "a": lambda x, y: (y // 4) % 2,
    "b": lambda x, y: (x // 4) % 2,
    "c": lambda x, y: ((x // 7) + (y // 7)) % 2,
    "d": lambda x, y: ((x + y) // 5) % 2,
    "e": lambda x, y: ((x // 3) % 2) * ((y // 3) % 2),
}


def write(root, splits, classes, rng):
    for split, count in splits:
        for name in classes:
            pattern = PATTERNS[name]
            folder = os.path.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                image = Image.new("L", (28, 28))
                shift = rng.randrange(4)
                image.putdata([min(255, max(0, 60 + 140 * pattern(x + shift, y + shift) + rng.randrange(-30, 31)))
                               for y in range(28) for x in range(28)])
                image.save(os.path.join(folder, "%d.png" % i), optimize=True)


random.seed(7)
write("tiny-shapes", (("train", 16), ("val", 4)), "abc", random)
write(os.path.join("transfer", "data", "fashion-target"), (("train", 4), ("val", 2), ("test", 2)), "abcde",
      random.Random(11))
