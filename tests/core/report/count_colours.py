"""Counts the pixels of given colours in a PNG (a browser's screenshot), with PIL. Usage:
count_colours.py PNG OUT_JSON #RRGGBB...; writes {"width", "height", "counts": [...]}."""
import json
import sys

from PIL import Image

image = Image.open(sys.argv[1]).convert("RGB")
wanted = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in sys.argv[3:]]
histogram = {colour: n for n, colour in image.getcolors(image.width * image.height)}
with open(sys.argv[2], "w") as out:
    json.dump({"width": image.width, "height": image.height,
               "counts": [histogram.get(c, 0) for c in wanted]}, out)
