#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora under corpus/<target>/ (run once; the seeds are kept
in the repository). Real inputs: slices of Fashion-MNIST, images made from its pixels with PIL,
model.pt files and their data.pkl from torch.save, --set strings and command lines."""
import collections
import gzip
import io
import os
import random
import struct
import sys
import zipfile
import zlib

import numpy as np
import torch
from PIL import Image

FASHION = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))


def out(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def idx_seeds():
    """First byte: odd, the fuzz target gzips the rest; even, the rest is the file as it is."""
    with gzip.open(f"{FASHION}/train-images-idx3-ubyte.gz") as f:
        images = f.read(16 + 3 * 784)
    with gzip.open(f"{FASHION}/train-labels-idx1-ubyte.gz") as f:
        labels = f.read(8 + 16)

    def idx(dims, values):
        return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + values

    two_images = idx([2, 28, 28], images[16:16 + 2 * 784])
    out("idx", "images_2x28x28", b"\x00" + two_images)
    out("idx", "images_2x28x28_gzipped_by_target", b"\x01" + two_images)
    out("idx", "images_1x28x28.gz", b"\x00" + gzip.compress(idx([1, 28, 28], images[16:16 + 784]), mtime=0))
    out("idx", "labels_16", b"\x00" + idx([16], labels[8:]))
    out("idx", "labels_16.gz", b"\x00" + gzip.compress(idx([16], labels[8:]), mtime=0))
    out("idx", "rows_3x2x14x28_gzipped_by_target", b"\x01" + idx([3, 2, 14, 28], images[16:16 + 3 * 784]))


def fashion_image(i):
    with gzip.open(f"{FASHION}/t10k-images-idx3-ubyte.gz") as f:
        f.read(16 + i * 784)
        return np.frombuffer(f.read(784), dtype=np.uint8).reshape(28, 28)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def adam7_png(gray):
    """An interlaced 8-bit gray PNG (PIL writes none): the seven Adam7 passes, filter 0."""
    h, w = gray.shape
    passes = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]
    raw = b""
    for y0, x0, dy, dx in passes:
        sub = gray[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\x00" + row.tobytes() for row in sub)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9))
            + png_chunk(b"IEND", b""))


def image_seeds():
    gray = fashion_image(0)[6:22, 6:22]  # 16 x 16 of a real sample
    rgb = np.stack([gray, 255 - gray, gray // 2], axis=-1)

    def save(image, fmt, **options):
        b = io.BytesIO()
        image.save(b, fmt, **options)
        return b.getvalue()

    g, c = Image.fromarray(gray), Image.fromarray(rgb)
    out("image", "gray.png", save(g, "PNG"))
    out("image", "rgb.png", save(c, "PNG"))
    out("image", "rgba.png", save(c.convert("RGBA"), "PNG"))
    out("image", "gray_alpha.png", save(g.convert("LA"), "PNG"))
    out("image", "palette.png", save(c.convert("P", palette=Image.ADAPTIVE, colors=16), "PNG"))
    out("image", "one_bit.png", save(g.convert("1"), "PNG"))
    out("image", "gray_16bit.png", save(Image.fromarray(gray.astype(np.uint16) * 257), "PNG"))
    out("image", "gray_interlaced.png", adam7_png(gray))
    out("image", "gray.jpg", save(g, "JPEG", quality=90))
    out("image", "rgb_420.jpg", save(c, "JPEG", quality=90))
    out("image", "rgb_444.jpg", save(c, "JPEG", quality=90, subsampling=0))
    out("image", "rgb_progressive.jpg", save(c, "JPEG", quality=90, progressive=True))
    out("image", "cmyk.jpg", save(c.convert("CMYK"), "JPEG", quality=90))


def model_pt_seeds():
    """model_pt/: whole model.pt files (zip). pickle/: their data.pkl alone, whose storages are
    each 64 bytes, the size of the records model_pt.cpp stores beside a bare pickle."""
    torch.manual_seed(0)

    def saved(obj, **options):
        b = io.BytesIO()
        torch.save(obj, b, **options)
        return b.getvalue()

    def data_pkl(zip_bytes):
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
            return z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))

    linear = torch.nn.Linear(4, 4, bias=False)  # weight: 16 floats, 64 bytes
    out("model_pt", "linear_state_dict.pt", saved(linear.state_dict()))
    out("pickle", "linear_state_dict.pkl", data_pkl(saved(linear.state_dict())))

    base = torch.arange(16, dtype=torch.float32).reshape(4, 4)
    dtypes = collections.OrderedDict([
        ("f32", base.clone()),
        ("f64", torch.arange(8, dtype=torch.float64)),
        ("i64", torch.arange(8, dtype=torch.int64)),
        ("i32", torch.arange(16, dtype=torch.int32)),
        ("i16", torch.arange(32, dtype=torch.int16)),
        ("i8", torch.arange(64, dtype=torch.int8)),
        ("u8", torch.arange(64, dtype=torch.uint8)),
        ("bool", torch.arange(64) % 3 == 0),
        ("f16", torch.arange(32, dtype=torch.float16)),
        ("bf16", torch.arange(32, dtype=torch.bfloat16)),
        ("c64", torch.arange(8, dtype=torch.float32).to(torch.complex64)),
    ])
    out("pickle", "dtypes.pkl", data_pkl(saved(dtypes)))
    views = collections.OrderedDict([("whole", base), ("rows", base[1:3]), ("strided", base[:, ::2]),
                                     ("transposed", base.t()), ("empty", base[4:]), ("scalar", base[2, 3])])
    out("pickle", "views_of_one_storage.pkl", data_pkl(saved(views)))
    out("model_pt", "views_of_one_storage.pt", saved(views))
    params = collections.OrderedDict([("p", torch.nn.Parameter(base.clone()))])
    out("pickle", "parameter.pkl", data_pkl(saved(params)))
    out("pickle", "plain_dict.pkl", data_pkl(saved({"a": base.clone(), "b": torch.arange(8.0, dtype=torch.float64)})))
    out("pickle", "protocol_4.pkl", data_pkl(saved(dtypes, pickle_protocol=4)))
    big = torch.nn.Sequential(torch.nn.Linear(2, 4, bias=False), torch.nn.Linear(4, 4, bias=False))
    out("pickle", "sequential_state_dict.pkl", data_pkl(saved(big.state_dict())))  # with _metadata


def settings_seeds():
    """First byte: the field type parse_value tries on the text after '=' (0 text, 1 flag,
    2 size_t, 3 uint16, 4 number, 5 three numbers, 6 list, 7 tags); the rest is also --set's."""
    for name, kind, assignment in [
        ("root", 0, "dataset.root=/usr/share/datasets/fashion-mnist"),
        ("hflip", 1, "dataset.transform.hflip=true"),
        ("workers", 2, "dataset.workers=4"),
        ("master_port", 3, "distributed.master_port=29500"),
        ("lr", 4, "train.lr=1e-3"),
        ("mean", 5, "dataset.transform.mean=0.485,0.456,0.406"),
        ("pip", 6, "environment.pip=torchvision,onnx"),
        ("tags", 7, "register_model.tags=team:vision,stage:dev"),
        ("fixed_field", 2, "train.epochs=3"),
        ("unknown_stage", 0, "nope.field=1"),
    ]:
        out("settings", name, bytes([kind]) + assignment.encode())


def options_seeds():
    for name, args in [
        ("dry_run", ["--dry-run"]),
        ("all_flags", ["--dry-run", "--backend=local", "--workspace", "ws", "--set", "train.lr=0.5",
                       "--set=dataset.root=/x"]),
        ("backend_azure", ["--backend", "azure"]),
        ("help", ["-h"]),
    ]:
        out("options", name, b"\x00".join(a.encode() for a in args))


def plan_json_seeds():
    """The target reads its input through FuzzedDataProvider: any bytes make a document."""
    rng = random.Random(17)
    for size in (64, 256, 1024):
        out("plan_json", f"random_{size}", bytes(rng.randrange(256) for _ in range(size)))


if __name__ == "__main__":
    for seeds in (idx_seeds, image_seeds, model_pt_seeds, settings_seeds, options_seeds, plan_json_seeds):
        seeds()
    sys.exit(0)
