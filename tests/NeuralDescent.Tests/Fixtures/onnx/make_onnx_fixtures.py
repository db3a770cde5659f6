"""Makes the ONNX import fixtures (run once with Debian's python3-torch 1.13):

    /usr/bin/python3 make_onnx_fixtures.py   # writes {mlp,cnn}.onnx and {mlp,cnn}.expected.json beside this script

Each model is exported by torch.onnx.export (opset 13, dynamic batch) after a few training-mode batches, so batch-norm
statistics are not 0/1; the JSON holds four inputs and the outputs PyTorch gave for them in eval mode.
"""
import json, os
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(11)

def save(name, model, shape):
    model.train()
    for _ in range(5):
        model(torch.rand(16, *shape))
    model.eval()
    inputs = torch.rand(4, *shape)
    with torch.no_grad():
        outputs = model(inputs)
    torch.onnx.export(model, inputs, os.path.join(here, name + ".onnx"), opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with open(os.path.join(here, name + ".expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "shape": list(shape), "inputs": inputs.reshape(4, -1).tolist(),
                   "outputs": outputs.reshape(4, -1).tolist()}, f)

save("mlp", torch.nn.Sequential(
    torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.BatchNorm1d(16),
    torch.nn.Linear(16, 12), torch.nn.LeakyReLU(0.05),
    torch.nn.Linear(12, 10), torch.nn.Tanh(),
    torch.nn.Linear(10, 8), torch.nn.Sigmoid(),
    torch.nn.Linear(8, 5), torch.nn.Softmax(dim=1)), (20,))

save("cnn", torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.BatchNorm2d(4), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(4, 6, 3, stride=2, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(6 * 2 * 2, 10), torch.nn.Softmax(dim=1)), (1, 16, 16))
