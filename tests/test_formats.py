"""The face models auditors bring, each saved the way its own project saves it.

State dicts are built from our modules under the upstream key names and wrapper keys (read from the
upstream code: insightface arcface_torch, AdaFace net.py / inference.py, facenet-pytorch), so each
test exercises the layout exactly as a file made by that project would present it.
"""

from __future__ import annotations

import argparse
import json

import pytest
import torch
from torch import nn

from mint_tui.models.audited import (ARCHITECTURES, CheckpointError, LayoutMismatchError, UnsafeCheckpointError,
                                     build_audited, import_checkpoint, import_checkpoint_report)
from mint_tui.models.taps import TapExtractor, tap_shapes
from random_pair import export_onnx as _export
from random_pair import make_onnx_pair


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _state(arch: str, seed: int = 1) -> dict[str, torch.Tensor]:
    """Weights with non-default BatchNorm statistics, so a silent re-initialisation would show."""
    torch.manual_seed(seed)
    model = build_audited(arch)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)) and m.running_mean is not None:
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ arcface_torch MobileFaceNet (get_mbf)

#: Key names and shapes of arcface_torch's get_mbf(False, 512) (backbones/mobilefacenet.py).
MBF_KEYS = {
    "layers.0.layers.0.weight": (128, 3, 3, 3),
    "layers.0.layers.2.weight": (128,),
    "layers.1.layers.0.weight": (128, 2, 3, 3),  # depth-wise with groups=64 on 128 channels
    "layers.2.layers.0.layers.0.weight": (128, 128, 1, 1),
    "layers.2.layers.1.layers.0.weight": (128, 1, 3, 3),
    "layers.2.layers.2.layers.1.running_var": (128,),
    "layers.3.layers.3.layers.2.layers.0.weight": (128, 128, 1, 1),
    "layers.4.layers.0.layers.0.weight": (256, 128, 1, 1),
    "layers.5.layers.5.layers.1.layers.0.weight": (256, 1, 3, 3),
    "layers.7.layers.1.layers.2.layers.1.bias": (256,),
    "conv_sep.layers.0.weight": (512, 256, 1, 1),
    "features.layers.0.layers.0.weight": (512, 1, 7, 7),
    "features.layers.2.weight": (512, 512),
    "features.layers.3.running_mean": (512,),
}


def test_mbf_has_arcface_torch_keys():
    sd = build_audited("mbf").state_dict()
    assert len(sd) == 333  # the 333 keys an arcface_torch mbf backbone.pth holds
    for key, shape in MBF_KEYS.items():
        assert tuple(sd[key].shape) == shape, key
    assert "layers.8.layers.0.weight" not in sd
    large = build_audited("mbf_large").state_dict()
    assert tuple(large["layers.0.layers.0.weight"].shape) == (256, 3, 3, 3)
    assert "layers.1.layers.1.layers.0.layers.0.weight" in large  # blocks[0] = 2: a Residual stem


def test_mbf_taps_are_the_stage_outputs():
    model = build_audited("mbf").eval()
    assert tap_shapes(model, ARCHITECTURES["mbf"].tap_names) == {
        "layer1": (128, 56, 56), "layer2": (128, 28, 28), "layer3": (256, 14, 14), "layer4": (256, 7, 7),
        "embedding": (512,)}
    x = torch.randn(2, 3, 112, 112)
    with TapExtractor(model, ["layer3", "embedding"]) as extract, torch.inference_mode():
        taps = extract(x)
        y = x
        for layer in model.layers[:6]:
            y = layer(y)
        assert torch.equal(taps["layer3"], y)  # layers.5 = the 14x14 stage output
        assert torch.equal(taps["embedding"], model(x))


@pytest.mark.parametrize("arch", ["mbf", "iresnet18"])
def test_arcface_torch_backbone_and_resume_checkpoint_load(tmp_path, arch):
    sd = _state(arch)
    plain = tmp_path / "backbone.pth"
    torch.save(sd, plain)
    report = import_checkpoint_report(plain, arch)
    assert report.layout.name == "arcface_torch backbone.pth" and _same(report.state, sd)
    # checkpoint_gpu_N.pt as arcface_torch's train_v2.py writes it (DDP-wrapped backbone).
    resume = tmp_path / "checkpoint_gpu_0.pt"
    torch.save({"epoch": 4, "global_step": 1200,
                "state_dict_backbone": {"module." + k: v for k, v in sd.items()},
                "state_dict_softmax_fc": {"weight": torch.randn(100, 512)},
                "state_optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "momentum": 0.9, "params": [0, 1]}]},
                "state_lr_scheduler": {"last_epoch": 4, "base_lrs": [0.1]}}, resume)
    report = import_checkpoint_report(resume, arch)
    assert report.layout.name == "arcface_torch resume checkpoint"
    assert report.matched == len([k for k in sd])
    assert _same(report.state, sd)


def test_wrong_architecture_says_what_the_file_is(tmp_path):
    path = tmp_path / "checkpoint_gpu_0.pt"
    torch.save({"epoch": 1, "state_dict_backbone": _state("mbf")}, path)
    with pytest.raises(LayoutMismatchError) as info:
        import_checkpoint(path, "iresnet50")
    headline = str(info.value).splitlines()[0]
    assert "does not fit iresnet50" in headline
    assert "closest accepted layout is 'arcface_torch resume checkpoint'" in headline
    assert "0 of " in headline and "333 unexpected" in headline
    assert "it is a mbf checkpoint (arcface_torch resume checkpoint): use --arch mbf" in headline
    # Not in any layout: a dict without weights names the layouts tried.
    empty = tmp_path / "notes.pth"
    torch.save({"epoch": 3, "notes": "hello"}, empty)
    with pytest.raises(CheckpointError, match="not a iresnet18 checkpoint in an accepted layout"):
        import_checkpoint(empty, "iresnet18")


# ------------------------------------------------------------------ AdaFace IR-50 / IR-101


def test_adaface_keys_and_stage_taps():
    sd = build_audited("adaface_ir50").state_dict()
    for key, shape in {"input_layer.0.weight": (64, 3, 3, 3), "input_layer.2.weight": (64,),
                       "body.0.res_layer.1.weight": (64, 64, 3, 3), "body.3.shortcut_layer.0.weight": (128, 64, 1, 1),
                       "body.23.res_layer.5.running_var": (512,), "output_layer.3.weight": (512, 512 * 7 * 7),
                       "output_layer.4.running_mean": (512,)}.items():
        assert tuple(sd[key].shape) == shape, key
    assert "body.24.res_layer.0.weight" not in sd and "output_layer.4.weight" not in sd  # affine=False
    assert "body.48.res_layer.5.weight" in build_audited("adaface_ir101").state_dict()
    model = build_audited("adaface_ir50").eval()
    assert model.tap_modules == {"layer1": "body.2", "layer2": "body.6", "layer3": "body.20", "layer4": "body.23"}
    assert tap_shapes(model, ARCHITECTURES["adaface_ir50"].tap_names)["layer4"] == (512, 7, 7)


def test_adaface_ckpt_loads_and_the_tuple_output_is_handled(tmp_path):
    sd = _state("adaface_ir50")
    ckpt = tmp_path / "adaface_ir50_ms1mv2.ckpt"
    # A Lightning checkpoint: the whole training module's weights (backbone under model., AdaFace head).
    torch.save({"epoch": 25, "global_step": 9000, "pytorch-lightning_version": "1.8.6",
                "state_dict": {**{"model." + k: v for k, v in sd.items()}, "head.kernel": torch.randn(512, 10),
                               "head.t": torch.zeros(1), "head.batch_mean": torch.ones(1)},
                "hyper_parameters": {"arch": "ir_50", "head": "adaface", "m": 0.4, "h": 0.333}}, ckpt)
    report = import_checkpoint_report(ckpt, "adaface_ir50")
    assert report.layout.name == "AdaFace Lightning .ckpt"
    assert report.ignored == ["head.batch_mean", "head.kernel", "head.t"]
    assert _same(report.state, sd)
    model = build_audited("adaface_ir50").eval()
    model.load_state_dict(report.state)
    x = torch.randn(2, 3, 112, 112)
    with TapExtractor(model, ["embedding"]) as extract, torch.inference_mode():
        emb = extract(x)["embedding"]
        feature, norm = model(x)
    assert torch.equal(emb, feature)
    assert torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-5)


class _Namespace:
    """Like argparse.Namespace in Lightning's hyper_parameters: needs unpickling of an object."""

    def __init__(self):
        self.arch = "ir_50"


def test_adaface_ckpt_with_pickled_objects_is_refused_with_a_recipe(tmp_path):
    ckpt = tmp_path / "adaface.ckpt"
    torch.save({"state_dict": {"model." + k: v for k, v in _state("adaface_ir50").items()},
                "hyper_parameters": argparse.Namespace(arch="ir_50")}, ckpt)
    with pytest.raises(UnsafeCheckpointError) as info:
        import_checkpoint(ckpt, "adaface_ir50")
    message = str(info.value)
    assert "refusing to load" in message and "['state_dict']" in message and "torch.save" in message


# ------------------------------------------------------------------ facenet-pytorch InceptionResnetV1

FACENET_KEYS = {
    "conv2d_1a.conv.weight": (32, 3, 3, 3), "conv2d_4b.bn.running_var": (256,),
    "repeat_1.4.branch2.2.conv.weight": (32, 32, 3, 3), "repeat_1.0.conv2d.bias": (256,),
    "mixed_6a.branch1.2.conv.weight": (256, 192, 3, 3), "repeat_2.9.branch1.1.conv.weight": (128, 128, 1, 7),
    "mixed_7a.branch2.2.bn.weight": (256,), "repeat_3.0.branch1.2.conv.weight": (192, 192, 3, 1),
    "block8.conv2d.weight": (1792, 384, 1, 1), "last_linear.weight": (512, 1792), "last_bn.running_mean": (512,),
}


def test_facenet_keys_taps_and_released_state_dict(tmp_path):
    sd = _state("inception_resnet_v1")
    for key, shape in FACENET_KEYS.items():
        assert tuple(sd[key].shape) == shape, key
    model = build_audited("inception_resnet_v1").eval()
    assert tap_shapes(model, ARCHITECTURES["inception_resnet_v1"].tap_names, (160, 160)) == {
        "layer1": (256, 17, 17), "layer2": (896, 8, 8), "layer3": (1792, 3, 3), "layer4": (1792, 3, 3),
        "embedding": (512,)}
    # The released 20180402-114759-vggface2.pt holds the classifier too.
    path = tmp_path / "20180402-114759-vggface2.pt"
    torch.save({**sd, "logits.weight": torch.randn(8631, 512), "logits.bias": torch.zeros(8631)}, path)
    report = import_checkpoint_report(path, "inception_resnet_v1")
    assert report.ignored == ["logits.bias", "logits.weight"] and _same(report.state, sd)


def _facenet_pytorch_class():
    """facenet-pytorch's own InceptionResnetV1, imported without its package __init__ (which needs
    torchvision for MTCNN); skipped when the optional test extra is not installed."""
    import importlib.util
    import sys
    import types

    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("facenet-pytorch is not installed (optional: pip install --no-deps facenet-pytorch==2.6.0)")
    root = list(spec.submodule_search_locations)[0]
    saved = {k: sys.modules.get(k) for k in ("facenet_pytorch", "facenet_pytorch.models")}
    try:
        for name, where in (("facenet_pytorch", root), ("facenet_pytorch.models", f"{root}/models")):
            package = types.ModuleType(name)
            package.__path__ = [where]
            sys.modules[name] = package
        try:
            module = importlib.import_module("facenet_pytorch.models.inception_resnet_v1")
        except ImportError as exc:
            pytest.skip(f"facenet-pytorch's InceptionResnetV1 cannot be imported here: {exc}")
    finally:
        for name, value in saved.items():
            if value is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = value
    return module.InceptionResnetV1


def test_facenet_pytorch_own_class_matches(tmp_path):
    upstream_cls = _facenet_pytorch_class()
    torch.manual_seed(3)
    upstream = upstream_cls(classify=False, num_classes=None).eval()
    for m in upstream.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    path = tmp_path / "facenet.pt"
    torch.save(upstream.state_dict(), path)
    ours = build_audited("inception_resnet_v1").eval()
    ours.load_state_dict(import_checkpoint(path, "inception_resnet_v1"))
    x = torch.randn(2, 3, 160, 160)
    with torch.inference_mode():
        assert (ours(x) - upstream(x)).abs().max().item() < 1e-5


# ------------------------------------------------------------------ ONNX


@pytest.fixture(scope="module")
def r50_onnx():
    """The zoo's iResNet-50 (tamed random weights) and its torch2onnx-style export."""
    torch.manual_seed(5)
    model = build_audited("iresnet50").eval()
    with torch.no_grad():
        for m in model.modules():
            if hasattr(m, "bn3"):
                m.bn3.weight.uniform_(0.0, 0.2)
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
    return model, _export(model)


@pytest.mark.slow
def test_onnx_iresnet50_taps_found_and_agree_with_torch_and_onnxruntime(r50_onnx):
    import onnxruntime as ort

    from mint_tui.models.audited import build_loaded
    from mint_tui.models.audited.onnx_model import check_onnx, discover_taps, onnx_config

    model, data = r50_onnx
    proto = check_onnx(data)
    ops = [n.op_type for n in proto.graph.node]
    assert [o.version for o in proto.opset_import] == [11]
    assert ops.count("BatchNormalization") < 60  # most of the 123 BatchNorms are folded into convolutions
    taps = discover_taps(proto, (112, 112))
    assert list(taps) == ["layer1", "layer2", "layer3", "layer4", "embedding"]
    config = onnx_config(proto, taps, (112, 112))
    assert config["shapes"] == {"layer1": [64, 56, 56], "layer2": [128, 28, 28], "layer3": [256, 14, 14],
                                "layer4": [512, 7, 7], "embedding": [512]}
    runner = build_loaded("onnx", config, data)
    x = torch.randn(4, 3, 112, 112)
    names = list(config["shapes"])
    with TapExtractor(runner, names) as a, TapExtractor(model, names) as b, torch.inference_mode():
        ours, zoo = a(x), b(x)
    for name in names:  # the graph's stage outputs are the zoo's layer1..layer4 and embedding
        rel = ((ours[name] - zoo[name]).abs().max() / zoo[name].abs().max()).item()
        assert rel < 1e-4, (name, rel)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    own = session.run(None, {"input.1": x.numpy()})[0]
    assert np_max_rel(ours["embedding"].numpy(), own) < 1e-6  # extra outputs do not change the result


def np_max_rel(a, b) -> float:
    import numpy as np

    return float(np.abs(a - b).max() / np.abs(b).max())


def _tiny_graph(opset: int = 11, external: bool = False) -> bytes:
    """A small image graph (conv, relu, pool, flatten) made with onnx.helper."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.random.default_rng(0).normal(size=(4, 3, 3, 3)).astype(np.float32), "w")
    if external:
        weight.ClearField("raw_data")
        weight.data_location = TensorProto.EXTERNAL
        weight.external_data.add(key="location", value="../../../etc/passwd")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["y"])]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()


def test_onnx_files_that_must_not_load_are_refused():
    from mint_tui.models.audited.onnx_model import OnnxError, check_onnx

    check_onnx(_tiny_graph())
    with pytest.raises(OnnxError, match="refers to external data"):
        check_onnx(_tiny_graph(external=True))
    with pytest.raises(OnnxError, match="opset 5 is outside the supported range"):
        check_onnx(_tiny_graph(opset=5))
    with pytest.raises(OnnxError, match="not an ONNX model"):
        check_onnx(b"\x08\x07garbage" * 10)


def test_onnxruntime_telemetry_is_off(tmp_path):
    """onnxruntime run through mint-tui (fresh process, HOME and TMPDIR) leaves no telemetry device id,
    event database or session file: its telemetry (which uploads over HTTPS) is turned off."""
    import os
    import subprocess
    import sys

    model = tmp_path / "tiny.onnx"
    model.write_bytes(_tiny_graph())
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    code = ("import sys, numpy as np\n"
            "from mint_tui.models.audited.onnx_model import _session, check_onnx\n"
            "s = _session(check_onnx(open(sys.argv[1], 'rb').read()), ['y'])\n"
            "print(s.run(['y'], {'x': np.ones((1, 3, 32, 32), np.float32)})[0].shape)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORT_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp))
    p = subprocess.run([sys.executable, "-c", code, str(model)], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "(1, 4)"
    written = sorted(str(f.relative_to(tmp_path)) for f in tmp_path.rglob("*")
                     if f.is_file() and f != model and "torchinductor" not in str(f))
    assert written == [], f"onnxruntime wrote {written}"


def _onnx_pair(tmp_path, data: bytes, name="onnx-pair", mutate=None):
    return make_onnx_pair(tmp_path / f"{name}.mintpair", data, name, mutate=mutate)


def test_onnx_pair_is_verified_before_load(tmp_path):
    import dataclasses
    import zipfile

    from mint_tui.pairs.bundle import inspect_bundle
    from mint_tui.pairs.verify import BundleError
    from mint_tui.pairs.loaded import load_pair

    path = _onnx_pair(tmp_path, _tiny_graph())
    manifest = inspect_bundle(path)
    assert manifest.audited.arch == "onnx" and manifest.audited.weights == "audited.onnx"
    assert manifest.audited.config["shapes"] == {"layer1": [4, 16, 16], "embedding": [4]}
    pair = load_pair(path)
    assert pair.score(torch.randn(2, 3, 32, 32)).shape == (2,)

    # A swapped graph (external data) under the right name: the hash catches it first ...
    tampered = tmp_path / "tampered.mintpair"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            body = _tiny_graph(external=True) if info.filename == "audited.onnx" else src.read(info)
            dst.writestr(info, body)
    with pytest.raises(BundleError, match="SHA-256 mismatch for 'audited.onnx'"):
        inspect_bundle(tampered)
    # ... and with a matching hash the graph checks refuse it.
    external = _onnx_pair(tmp_path, _tiny_graph(), "external",
                          mutate=lambda m: m)  # written unverified, then the graph is replaced below
    evil = _tiny_graph(external=True)
    _replace_entry_with_hash(external, "audited.onnx", evil)
    with pytest.raises(BundleError, match="refers to external data"):
        load_pair(external)
    # Shapes declared in the manifest that the graph does not produce are refused on load.
    wrong = _onnx_pair(tmp_path, _tiny_graph(), "wrong-shapes", mutate=lambda m: dataclasses.replace(
        m, audited=dataclasses.replace(m.audited, config={**m.audited.config,
                                                          "shapes": {"layer1": [4, 8, 8], "embedding": [4]}})))
    with pytest.raises(BundleError, match="declares"):
        load_pair(wrong)
    # A tensor the graph does not have.
    missing = _onnx_pair(tmp_path, _tiny_graph(), "missing-tensor", mutate=lambda m: dataclasses.replace(
        m, audited=dataclasses.replace(m.audited, config={**m.audited.config, "taps": {"layer1": "nothere"}})))
    with pytest.raises(BundleError, match="no tensor 'nothere'"):
        inspect_bundle(missing)


def _replace_entry_with_hash(path, name: str, body: bytes) -> None:
    """Rewrite one entry and the manifest's sha256 for it (a bundle made that way on purpose)."""
    import hashlib
    import re
    import zipfile

    with zipfile.ZipFile(path) as src:
        entries = {i.filename: src.read(i) for i in src.infolist()}
    text = entries["pair.toml"].decode()
    old = hashlib.sha256(entries[name]).hexdigest()
    entries["pair.toml"] = re.sub(old, hashlib.sha256(body).hexdigest(), text).encode()
    entries[name] = body
    with zipfile.ZipFile(path, "w") as dst:
        for entry, data in entries.items():
            dst.writestr(entry, data)


@pytest.mark.slow
def test_onnx_pair_scores_like_the_zoo_pair(tmp_path, r50_onnx):
    import numpy as np

    from mint_tui.pairs.loaded import load_pair

    model, data = r50_onnx
    pair = load_pair(_onnx_pair(tmp_path, data, "r50"))
    x = torch.randn(3, 3, 112, 112)
    _, emb = pair.score_with_embeddings(x)
    with torch.inference_mode():
        assert np_max_rel(emb, model(x).numpy()) < 1e-4
    assert np.isfinite(pair.score(x)).all()


# ------------------------------------------------------------------ command line: models list / inspect, train


def test_models_list_json(capsys):
    from mint_tui.cli import main

    assert main(["models", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == {*ARCHITECTURES, "onnx"}
    assert rows["adaface_ir50"]["preprocess"]["color"] == "BGR"
    assert rows["inception_resnet_v1"]["preprocess"]["template"] == "facenet160"
    assert rows["mbf"]["taps"]["layer1"] == "layers.1"
    assert [lay["name"] for lay in rows["iresnet50"]["layouts"]] == ["arcface_torch backbone.pth",
                                                                       "arcface_torch resume checkpoint"]


def test_models_inspect_reports_keys_taps_and_embeddings(tmp_path, lfw, capsys):
    from mint_tui.cli import main

    sd = _state("mbf")
    ckpt = tmp_path / "checkpoint_gpu_0.pt"
    torch.save({"epoch": 1, "state_dict_backbone": sd}, ckpt)
    image = lfw / "images" / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"
    out = tmp_path / "inspect.json"
    assert main(["models", "inspect", "--arch", "mbf", "--weights", str(ckpt), str(image),
                 str(tmp_path / "missing.jpg"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "layout 'arcface_torch resume checkpoint': 333 of 333 tensors matched" in text
    doc = json.loads(out.read_text())
    assert doc["arch"] == "mbf" and doc["preprocess"]["size"] == [112, 112]
    assert doc["taps"][0] == {"name": "layer1", "shape": [128, 56, 56]}
    good, bad = doc["images"]
    assert "error" in bad and len(good["embedding"]) == 512
    # The same embedding as the model's own forward on the crop an audit makes.
    from mint_tui.faces import PrepareSettings, prepare_images, to_tensor_batch

    crop = next(prepare_images([image], PrepareSettings())).faces[0].crop
    model = build_audited("mbf").eval()
    model.load_state_dict(sd)
    with torch.inference_mode():
        expected = model(to_tensor_batch([crop], "RGB", (0.5,) * 3, (0.5,) * 3))[0]
    assert torch.allclose(torch.tensor(good["embedding"]), expected, atol=1e-5)


def test_train_onnx_with_overrides_records_them(tmp_path, lfw):
    """train --weights F.onnx (no --arch) with preprocessing overrides: the pair records them and audits."""
    from mint_tui.cli import main
    from mint_tui.pairs.bundle import inspect_bundle

    torch.manual_seed(0)
    onnx_file = tmp_path / "tiny.onnx"
    onnx_file.write_bytes(_export(build_audited("mobilefacenet", {"width": 0.25, "embedding_size": 32})))
    lines = lambda name: [ln for ln in (lfw / "splits" / name).read_text().splitlines() if ln.strip()][:12]
    members, external = tmp_path / "m.txt", tmp_path / "e.txt"
    members.write_text("\n".join(str(lfw / "images" / p) for p in lines("mint_train_members.txt")))
    external.write_text("\n".join(str(lfw / "images" / p) for p in lines("mint_train_external.txt")))
    out = tmp_path / "onnx-tiny.mintpair"
    assert main(["train", "--weights", str(onnx_file), "--members", str(members), "--external", str(external),
                 "--kind", "mlp", "--epochs", "1", "--name", "onnx-tiny", "--out", str(out),
                 "--color", "bgr", "--mean", "0.4", "--std", "0.25", "0.25", "0.25", "--taps", "layer4,embedding"]) == 0
    manifest = inspect_bundle(out)
    pre = manifest.audited.preprocess
    assert manifest.audited.arch == "onnx" and manifest.mint.taps == ("layer4", "embedding")
    assert (pre.color, pre.mean, pre.std, pre.template) == ("BGR", (0.4,) * 3, (0.25,) * 3, "arcface112")
    result = tmp_path / "audit.json"
    assert main(["audit", "--pair", str(out), "--device", "cpu", "--json", str(result),
                 str(lfw / "images" / "Aaron_Peirsol")]) == 0
    rows = json.loads(result.read_text())["results"]
    assert rows and all(r.get("score") is not None for r in rows if not r.get("error"))
