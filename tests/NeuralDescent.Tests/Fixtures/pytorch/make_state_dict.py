"""Makes the PyTorch state_dict fixture for ModelFile.LoadWeights tests (run once with Debian's python3-torch 1.13).

    /usr/bin/python3 make_state_dict.py   # writes mlp_bn.safetensors and mlp_bn.expected.json beside this script

The safetensors file is written directly (8-byte header length, JSON header, raw little-endian data), as
safetensors.torch.save_file(model.state_dict()) would, including BatchNorm1d's I64 num_batches_tracked.
"""
import json, os, struct
import torch

torch.manual_seed(7)
model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(), torch.nn.Linear(5, 3), torch.nn.Softmax(dim=1))
model.train()
for _ in range(5):
    model(torch.randn(16, 6) * 2 + 0.5)  # moves the running statistics away from 0 and 1
model.eval()
inputs = torch.randn(4, 6)
with torch.no_grad():
    outputs = model(inputs)

here = os.path.dirname(os.path.abspath(__file__))
header, blobs, offset = {}, [], 0
for name, tensor in model.state_dict().items():
    t = tensor.contiguous()
    dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
    data = t.numpy().tobytes()
    header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
header["__metadata__"] = {"format": "pt"}
text = json.dumps(header, separators=(",", ":")).encode("utf-8")
with open(os.path.join(here, "mlp_bn.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
with open(os.path.join(here, "mlp_bn.expected.json"), "w") as f:
    json.dump({"torch": torch.__version__, "inputs": inputs.tolist(), "outputs": outputs.tolist()}, f, indent=1)
