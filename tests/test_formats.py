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
