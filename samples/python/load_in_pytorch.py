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


class Standardize(torch.nn.Module):
    """NeuralDescent's Standardize layer: (x - mean) / std per feature (its tensors are the state_dict's mean and std)."""

    def __init__(self, size):
        super().__init__()
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("std", torch.ones(size))

    def forward(self, x):
        return (x - self.mean.view(x.shape[1:])) / self.std.view(x.shape[1:])


def build(architecture, input_shape):
    """The nn.Sequential of a stored architecture; shapes are folded as NeuralDescent folds them (C, H, W)."""
    modules = []
    c, h, w = input_shape
    four_d = (h, w) != (1, 1)  # whether PyTorch's tensor is N x C x H x W here (else N x features)
    for layer in json.loads(architecture):
        kind = layer["type"]
        if kind == "Dense":
            modules.append(torch.nn.Linear(layer["in"], layer["out"]))
            c, h, w, four_d = layer["out"], 1, 1, False
        elif kind == "Conv2D":
            k, s, p = int(layer["kernel"]), int(layer["stride"]), int(layer["padding"])
            modules.append(torch.nn.Conv2d(int(layer["in_channels"]), int(layer["out_channels"]), k, stride=s, padding=p))
            c, h, w = int(layer["out_channels"]), (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif kind in ("MaxPool2D", "AvgPool2D"):
            k, s = int(layer["kernel"]), int(layer["stride"])
            modules.append((torch.nn.MaxPool2d if kind == "MaxPool2D" else torch.nn.AvgPool2d)(k, stride=s))
            h, w = (h - k) // s + 1, (w - k) // s + 1
        elif kind == "GlobalAvgPool2D":
            modules += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()]
            h, w, four_d = 1, 1, False
        elif kind == "Flatten":
            modules.append(torch.nn.Flatten())
            c, h, w, four_d = c * h * w, 1, 1, False
        elif kind == "BatchNorm":
            norm = torch.nn.BatchNorm2d if four_d else torch.nn.BatchNorm1d
            modules.append(norm(int(layer["features"]), eps=layer["epsilon"], momentum=layer["momentum"]))
        elif kind == "Standardize":
            modules.append(Standardize(int(layer["size"])))
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
    input_shape = json.loads(metadata.get("neuraldescent.input_shape", "[784,1,1]"))
    model = build(metadata["neuraldescent.architecture"], input_shape)
    # BatchNorm's num_batches_tracked counter is PyTorch's own; every other tensor must match (strict otherwise).
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        raise SystemExit(f"state does not match the architecture: missing {missing}, unexpected {unexpected}")
    model.eval()
    raw = gzip.open(images_path).read() if images_path.endswith(".gz") else open(images_path, "rb").read()
    pixels = np.frombuffer(raw[16:16 + count * 784], dtype=np.uint8).reshape(count, 784).astype(np.float32) / 255
    inputs = torch.from_numpy(pixels)
    if input_shape[1:] != [1, 1]:
        inputs = inputs.reshape(count, *input_shape)
    with torch.no_grad():
        probabilities = model(inputs)
    for i, p in enumerate(probabilities):
        print(f"image {i}: {int(p.argmax())} ({float(p.max()) * 100:.1f} %) " + " ".join(f"{float(v):.7f}" for v in p))


if __name__ == "__main__":
    main()
