"""Builds the EfficientNet-Lite0 ONNX graph straight from the checkpoint's arrays.

Why not `torch.onnx.export`: it needs torch (a large download) on every fresh machine. Lite0 is a
plain chain of convolutions, so the graph is written with the `onnx` helper API, each BatchNorm
folded into the convolution before it (inference only), with TensorFlow-style "SAME" padding
computed for the fixed 224x224 input exactly as `efficientnet_lite_pytorch` does. Lite models use
ReLU6 everywhere and no squeeze-and-excitation (that package's `set_swish()` would break them).

Run in the build environment: `python -m autotagger.models.efficientnet_onnx CHECKPOINT OUT.onnx`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from autotagger.models.torch_pickle import load_state_dict

INPUT_NAME = "images"  # N x 3 x 224 x 224, float32, (rgb - 127) / 128
OUTPUT_NAME = "logits"  # N x 1000, ImageNet-1k order
IMAGE_SIZE = 224
BN_EPS = 1e-3
# (repeats, kernel, stride, expand ratio, in, out): efficientnet_lite_builder.py's lite0 block args
BLOCK_ARGS = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = math.ceil(size / stride)
    pad = max((out - 1) * stride + kernel - size, 0)
    return pad // 2, pad - pad // 2


class _GraphBuilder:
    def __init__(self, sd: dict[str, np.ndarray]):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.sd = sd
        self.nodes: list = []
        self.inits: list = []
        self.count = 0

    def _name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def _const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def conv_bn(self, x: str, conv: str, bn: str, size: int, stride: int, groups: int = 1) -> str:
        """Conv (no bias) followed by BatchNorm, folded into one Conv with bias."""
        w = self.sd[f"{conv}.weight"].astype(np.float64)
        gamma, beta = self.sd[f"{bn}.weight"], self.sd[f"{bn}.bias"]
        mean, var = self.sd[f"{bn}.running_mean"], self.sd[f"{bn}.running_var"]
        scale = gamma / np.sqrt(var.astype(np.float64) + BN_EPS)
        w = (w * scale[:, None, None, None]).astype(np.float32)
        b = (beta - mean * scale).astype(np.float32)
        k = w.shape[-1]
        top, bottom = _same_pads(size, k, stride)
        out = self._name(conv.replace(".", "_"))
        self.nodes.append(self.helper.make_node(
            "Conv", [x, self._const(f"{out}_w", w), self._const(f"{out}_b", b)], [out],
            kernel_shape=[k, k], strides=[stride, stride], pads=[top, top, bottom, bottom], group=groups))
        return out

    def relu6(self, x: str) -> str:
        out = self._name("relu6")
        lo = self._const(f"{out}_min", np.array(0.0, np.float32))
        hi = self._const(f"{out}_max", np.array(6.0, np.float32))
        self.nodes.append(self.helper.make_node("Clip", [x, lo, hi], [out]))
        return out

    def add(self, a: str, b: str) -> str:
        out = self._name("add")
        self.nodes.append(self.helper.make_node("Add", [a, b], [out]))
        return out


def build_model(sd: dict[str, np.ndarray]):
    """The ONNX ModelProto for a Lite0 state dict."""
    from onnx import TensorProto, checker, helper

    g = _GraphBuilder(sd)
    size = IMAGE_SIZE
    x = g.relu6(g.conv_bn(INPUT_NAME, "_conv_stem", "_bn0", size, 2))
    size = math.ceil(size / 2)
    idx = 0
    for repeats, kernel, stride, expand, c_in, c_out in BLOCK_ARGS:
        for r in range(repeats):
            s = stride if r == 0 else 1
            cin = c_in if r == 0 else c_out
            p = f"_blocks.{idx}"
            inputs = x
            if expand != 1:
                x = g.relu6(g.conv_bn(x, f"{p}._expand_conv", f"{p}._bn0", size, 1))
            channels = cin * expand
            if sd[f"{p}._depthwise_conv.weight"].shape != (channels, 1, kernel, kernel):
                raise ValueError(f"{p}: checkpoint does not match the Lite0 architecture")
            x = g.relu6(g.conv_bn(x, f"{p}._depthwise_conv", f"{p}._bn1", size, s, groups=channels))
            size = math.ceil(size / s)
            x = g.conv_bn(x, f"{p}._project_conv", f"{p}._bn2", size, 1)
            if s == 1 and cin == c_out:
                x = g.add(x, inputs)
            idx += 1
    if f"_blocks.{idx}._depthwise_conv.weight" in sd:
        raise ValueError("checkpoint has more blocks than Lite0")
    x = g.relu6(g.conv_bn(x, "_conv_head", "_bn1", size, 1))
    pooled = "pooled"
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled]))
    flat = "features"
    g.nodes.append(helper.make_node("Flatten", [pooled], [flat], axis=1))
    fc_w = g._const("fc_w", sd["_fc.weight"].astype(np.float32))
    fc_b = g._const("fc_b", sd["_fc.bias"].astype(np.float32))
    g.nodes.append(helper.make_node("Gemm", [flat, fc_w, fc_b], [OUTPUT_NAME], transB=1))
    graph = helper.make_graph(
        g.nodes, "efficientnet_lite0",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, IMAGE_SIZE, IMAGE_SIZE])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", sd["_fc.weight"].shape[0]])],
        initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="autotagger")
    model.ir_version = 8  # readable by every onnxruntime >= 1.14
    checker.check_model(model)
    return model


def convert(checkpoint: str | Path, out: str | Path) -> None:
    import onnx

    onnx.save(build_model(load_state_dict(checkpoint)), str(out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m autotagger.models.efficientnet_onnx CHECKPOINT OUT.onnx")
    convert(sys.argv[1], sys.argv[2])
