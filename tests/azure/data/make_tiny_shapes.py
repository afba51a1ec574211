"""Writes tiny-shapes/: a 3-class image folder (horizontal stripes, vertical stripes, checks;
28x28 grayscale PNG with noise), 16 training and 4 validation images a class. The Azure tests
run their emulated job on it: small enough to travel with the code snapshot, learnable in one
epoch. Run with /usr/bin/python3 (PIL) from this folder; the output is committed."""
import os
import random

from PIL import Image

random.seed(7)
PATTERNS = {
    "a": lambda x, y: (y // 4) % 2,
    "b": lambda x, y: (x // 4) % 2,
    "c": lambda x, y: ((x // 7) + (y // 7)) % 2,
}
for split, count in (("train", 16), ("val", 4)):
    for name, pattern in PATTERNS.items():
        folder = os.path.join("tiny-shapes", split, name)
        os.makedirs(folder, exist_ok=True)
        for i in range(count):
            image = Image.new("L", (28, 28))
            shift = random.randrange(4)
            image.putdata([min(255, max(0, 60 + 140 * pattern(x + shift, y + shift) + random.randrange(-30, 31)))
                           for y in range(28) for x in range(28)])
            image.save(os.path.join(folder, "%d.png" % i), optimize=True)
