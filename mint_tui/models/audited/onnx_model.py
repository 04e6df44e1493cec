"""Audited models given as ONNX graphs, run by onnxruntime with the tap tensors added as graph outputs.

The graph is the architecture: no ``--arch`` is needed. Before anything runs, :func:`check_onnx`
parses the file with the ``onnx`` package and refuses what a bundle must not carry: files over
``MAX_ONNX_BYTES``, operator sets outside ``OPSET_RANGE`` or outside the standard domain, tensors
stored as external data (they would be read from files beside the model), and graphs without one
image input.

Default taps (:func:`discover_taps`): the graph is run once on a blank image of the input size with
every intermediate tensor as an output; among the 4-D tensors that every path from the input to the
output passes through (cut points: a residual block's input and output, not its branches), the last
one of each of the four smallest spatial sizes is a stage output (56/28/14/7 for a 112 input),
preferring the output of an ``Add`` (a residual sum) where the size has one. They are named
``layer1`` .. ``layer4``; ``embedding`` is the graph's first output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["MAX_ONNX_BYTES", "OPSET_RANGE", "OnnxAudited", "OnnxError", "check_onnx", "discover_taps",
           "onnx_config", "tap_name_for"]

MAX_ONNX_BYTES = 1024**3
#: ONNX operator-set versions of the standard domain accepted (onnxruntime runs all of them).
OPSET_RANGE = (7, 22)
_STANDARD_DOMAINS = ("", "ai.onnx")
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


class OnnxError(ValueError):
    """An ONNX file that cannot or must not be used."""


def _tensors(graph) -> Iterator:
    """Every TensorProto in a graph, its nodes' attributes and subgraphs."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("sparse_tensor"):
                yield attr.sparse_tensor.values
                yield attr.sparse_tensor.indices
            if attr.HasField("g"):
                yield from _tensors(attr.g)
            for sub in attr.graphs:
                yield from _tensors(sub)


def _require(module: str):
    """Import onnx / onnxruntime, or say clearly that this installation lacks them.

    onnxruntime (1.29 and later, on Linux and macOS) otherwise starts Microsoft's telemetry when it first
    runs: it writes a device id and an event database under ``~/.cache/Microsoft``, a ``.ses`` file in the
    temporary folder, and uploads events over HTTPS. ``ORT_DISABLE_TELEMETRY=1``, set before it
    initialises, turns all of that off; mint-tui never reaches the network."""
    import importlib
    import os

    if module == "onnxruntime":
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    try:
        return importlib.import_module(module)
    except ImportError:
        raise OnnxError(f"ONNX audited models need the {module} package, which this installation does not "
                        "include (`make setup` installs it)") from None


def check_onnx(data: bytes, where: str = "ONNX model"):
    """Parse and check an ONNX file's bytes; returns the ``onnx.ModelProto`` or raises :class:`OnnxError`."""
    onnx = _require("onnx")

    if len(data) > MAX_ONNX_BYTES:
        raise OnnxError(f"{where}: {len(data)} bytes is more than the {MAX_ONNX_BYTES}-byte limit")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise OnnxError(f"{where}: not an ONNX model ({type(exc).__name__}: {exc})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise OnnxError(f"{where}: not an ONNX model (no graph)")
    if model.functions:
        raise OnnxError(f"{where}: model-local functions are not supported")
    for opset in model.opset_import:
        if opset.domain not in _STANDARD_DOMAINS:
            raise OnnxError(f"{where}: operator set domain {opset.domain!r} is not supported (only the "
                            "standard ONNX operators)")
        if not OPSET_RANGE[0] <= opset.version <= OPSET_RANGE[1]:
            raise OnnxError(f"{where}: opset {opset.version} is outside the supported range "
                            f"{OPSET_RANGE[0]}..{OPSET_RANGE[1]}")
    for tensor in _tensors(model.graph):
        if tensor.data_location == _EXTERNAL or len(tensor.external_data):
            raise OnnxError(f"{where}: tensor {tensor.name!r} refers to external data; save the model as one "
                            "file (onnx.save_model(model, F, save_as_external_data=False))")
    inputs = _image_inputs(model)
    if len(inputs) != 1:
        raise OnnxError(f"{where}: expected one image input, found {len(inputs)}")
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) != 4 or (dims[1].HasField("dim_value") and dims[1].dim_value != 3):
        raise OnnxError(f"{where}: the input {inputs[0].name!r} is not an N x 3 x H x W image batch")
    if not model.graph.output:
        raise OnnxError(f"{where}: the graph has no output")
    return model


def _image_inputs(model) -> list:
    initializers = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def input_size_of(model) -> tuple[int, int] | None:
    """The input's fixed (height, width), or None when it is dynamic."""
    dims = _image_inputs(model)[0].type.tensor_type.shape.dim
    if dims[2].HasField("dim_value") and dims[3].HasField("dim_value"):
        return (dims[2].dim_value, dims[3].dim_value)
    return None


def tap_name_for(tensor: str) -> str:
    """A tap name for a graph tensor (letters, digits and '_')."""
    return re.sub(r"[^A-Za-z0-9_]", "_", tensor).strip("_") or "tensor"


def _session(model, outputs: Sequence[str], device: str = "cpu"):
    """An onnxruntime session of ``model`` whose outputs are ``outputs`` (names of graph tensors)."""
    onnx = _require("onnx")
    ort = _require("onnxruntime")

    edited = onnx.ModelProto()
    edited.CopyFrom(model)
    del edited.graph.output[:]
    edited.graph.output.extend(onnx.ValueInfoProto(name=name) for name in outputs)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    try:
        return ort.InferenceSession(edited.SerializeToString(), options, providers=providers)
    except Exception as exc:
        raise OnnxError(f"onnxruntime cannot run the model: {exc}") from None


def _cut_tensors(model) -> list[tuple[int, str, str]]:
    """(node position, tensor, op type) of the tensors every input-to-output path passes through."""
    graph = model.graph
    source = _image_inputs(model)[0].name
    position = {source: -1}
    producer_op = {source: "Input"}
    depends = {source}
    for i, node in enumerate(graph.node):
        if any(x in depends for x in node.input):
            for out in node.output:
                depends.add(out)
                position[out] = i
                producer_op[out] = node.op_type
    last_use = {name: position[name] for name in depends}
    for i, node in enumerate(graph.node):
        for x in node.input:
            if x in depends:
                last_use[x] = max(last_use[x], i)
    for out in graph.output:
        if out.name in last_use:
            last_use[out.name] = len(graph.node)
    # A tensor made at p is a cut when no other tensor made before p is still used after p.
    by_position: dict[int, list[str]] = {}
    for name, p in position.items():
        by_position.setdefault(p, []).append(name)
    cuts, reach = [], -1
    for p in range(-1, len(graph.node)):
        names = by_position.get(p, [])
        if p >= 0 and reach <= p and len(names) == 1:
            cuts.append((p, names[0], producer_op[names[0]]))
        for name in names:
            reach = max(reach, last_use[name])
    return cuts


def discover_taps(model, input_size: tuple[int, int]) -> dict[str, str]:
    """Default taps of a graph: ``{"layer1": tensor, ..., "embedding": first output}`` (see module doc)."""
    cuts = _cut_tensors(model)
    names = [name for _, name, _ in cuts]
    session = _session(model, names)
    x = np.zeros((1, 3, *input_size), dtype=np.float32)
    values = session.run(names, {session.get_inputs()[0].name: x})
    by_size: dict[tuple[int, int], list[tuple[str, str]]] = {}
    ops = {name: op for _, name, op in cuts}
    for name, value in zip(names, values):
        if value.ndim == 4 and value.shape[2] > 1 and value.shape[3] > 1:
            by_size.setdefault(tuple(value.shape[2:]), []).append((name, ops[name]))
    sizes = sorted(by_size, key=lambda s: s[0] * s[1])[:4][::-1]
    taps: dict[str, str] = {}
    for i, size in enumerate(sizes, start=1):
        candidates = by_size[size]
        adds = [name for name, op in candidates if op == "Add"]
        taps[f"layer{i}"] = adds[-1] if adds else candidates[-1][0]
    taps["embedding"] = model.graph.output[0].name
    return taps


def onnx_config(model, taps: Mapping[str, str], input_size: tuple[int, int]) -> dict:
    """The ``audited.config`` of an ONNX pair: input and embedding tensors, taps and their shapes."""
    session = _session(model, list(taps.values()))
    x = np.zeros((1, 3, *input_size), dtype=np.float32)
    values = session.run(list(taps.values()), {session.get_inputs()[0].name: x})
    return {"input": session.get_inputs()[0].name, "embedding": taps["embedding"],
            "taps": {k: v for k, v in taps.items() if k != "embedding"},
            "shapes": {k: [int(d) for d in value.shape[1:]] for k, value in zip(taps, values)}}


def graph_tensors(model) -> set[str]:
    """Names of every tensor a node of the graph produces, plus the inputs."""
    return {out for node in model.graph.node for out in node.output} | {i.name for i in model.graph.input}


class _Tap(nn.Module):
    """Passes a graph tensor through, so that forward hooks (TapExtractor) see it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class OnnxAudited(nn.Module):
    """An ONNX graph as an audited model: ``forward(x)`` runs onnxruntime once and returns the
    embedding; each tap tensor passes through the submodule ``taps.<name>`` (aliased as ``<name>``
    in ``tap_modules``), so the usual :class:`~mint_tui.models.taps.TapExtractor` reads them."""

    def __init__(self, model, config: Mapping, device: str = "cpu") -> None:
        super().__init__()
        self.config = dict(config)
        self.tensors = {**dict(config["taps"]), "embedding": config["embedding"]}
        missing = [t for t in self.tensors.values() if t not in graph_tensors(model)]
        if missing:
            raise OnnxError(f"the graph has no tensor {', '.join(map(repr, missing))}")
        self.taps = nn.ModuleDict({name: _Tap() for name in config["taps"]})
        self.tap_modules = {name: f"taps.{name}" for name in config["taps"]}
        self._outputs = list(self.tensors.values())
        self._input = config["input"]
        self._session = _session(model, self._outputs, device)
        batch = _image_inputs(model)[0].type.tensor_type.shape.dim[0]
        #: A graph exported with a fixed batch of one runs one face at a time.
        self.one_at_a_time = batch.HasField("dim_value") and batch.dim_value == 1

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        if not self.one_at_a_time or len(x) == 1:
            return self._session.run(self._outputs, {self._input: x})
        parts = [self._session.run(self._outputs, {self._input: x[i:i + 1]}) for i in range(len(x))]
        return [np.concatenate(values) for values in zip(*parts)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = self._run(np.ascontiguousarray(x.detach().float().cpu().numpy()))
        out = dict(zip(self.tensors, values))
        for name, module in self.taps.items():
            module(torch.from_numpy(out[name]).to(x.device))
        return torch.from_numpy(out["embedding"]).to(x.device).reshape(x.shape[0], -1)


def check_onnx_entry(data: bytes, config: Mapping, where: str):
    """A bundle's ONNX file against its manifest's ``audited.config``: the file passes :func:`check_onnx`,
    its input is ``config["input"]`` and every tap and the embedding name a tensor of the graph."""
    model = check_onnx(data, where)
    source = _image_inputs(model)[0].name
    if source != config["input"]:
        raise OnnxError(f"{where}: the graph's input is {source!r}, the manifest says {config['input']!r}")
    known = graph_tensors(model)
    missing = [t for t in (*config["taps"].values(), config["embedding"]) if t not in known]
    if missing:
        raise OnnxError(f"{where}: the graph has no tensor {', '.join(map(repr, missing))} named by audited.config")
    return model
