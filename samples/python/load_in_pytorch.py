"""Load a NeuralDescent model (safetensors) into an equivalent PyTorch nn.Sequential and classify MNIST test images.

    python3 samples/python/load_in_pytorch.py mnist.safetensors data/mnist/t10k-images-idx3-ubyte.gz 5

Uses safetensors.torch.load_file when the safetensors package is installed, otherwise reads the format directly
(8-byte little-endian header length, JSON header, raw little-endian float32 data). Needs torch and numpy.
"""
import gzip
import json
import struct
import sys

import numpy as np
import torch


def load_state(path):
    try:
        from safetensors.torch import load_file
        state = load_file(path)
        with open(path, "rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        return state, header["__metadata__"]
    except ImportError:
        data = open(path, "rb").read()
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + n])
        metadata = header.pop("__metadata__")
        state = {}
        for name, info in header.items():
            begin, end = info["data_offsets"]
            values = np.frombuffer(data[8 + n + begin:8 + n + end], dtype="<f4").reshape(info["shape"]).copy()
            state[name] = torch.from_numpy(values)
        return state, metadata


def build(architecture):
    modules = []
    for layer in json.loads(architecture):
        kind = layer["type"]
        if kind == "Dense":
            modules.append(torch.nn.Linear(layer["in"], layer["out"]))
        elif kind == "ReLU":
            modules.append(torch.nn.ReLU())
        elif kind == "Sigmoid":
            modules.append(torch.nn.Sigmoid())
        elif kind == "Tanh":
            modules.append(torch.nn.Tanh())
        elif kind == "LeakyReLU":
            modules.append(torch.nn.LeakyReLU(layer["slope"]))
        elif kind == "Dropout":
            modules.append(torch.nn.Dropout(layer["rate"]))
        elif kind == "Softmax":
            modules.append(torch.nn.Softmax(dim=1))
        else:
            raise SystemExit(f"layer type {kind} has no PyTorch counterpart in this script")
    return torch.nn.Sequential(*modules)


def main():
    model_path, images_path = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    state, metadata = load_state(model_path)
    model = build(metadata["neuraldescent.architecture"])
    model.load_state_dict(state)
    model.eval()
    raw = gzip.open(images_path).read() if images_path.endswith(".gz") else open(images_path, "rb").read()
    pixels = np.frombuffer(raw[16:16 + count * 784], dtype=np.uint8).reshape(count, 784).astype(np.float32) / 255
    with torch.no_grad():
        probabilities = model(torch.from_numpy(pixels))
    for i, p in enumerate(probabilities):
        print(f"image {i}: {int(p.argmax())} ({float(p.max()) * 100:.1f} %)")


if __name__ == "__main__":
    main()
