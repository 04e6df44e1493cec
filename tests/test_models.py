"""Tests for mint_tui.models: audited zoo, checkpoints, taps and MINT models."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mint_tui.models import (
    ARCHITECTURES,
    CNNMINT,
    DEFAULT_TAPS,
    MINT_KINDS,
    CheckpointError,
    CheckpointMismatchError,
    TapExtractor,
    UnknownArchitectureError,
    UnsafeCheckpointError,
    VanillaMINT,
    build_audited,
    build_mint,
    import_checkpoint,
    load_state_dict_strict,
    load_weights,
    mint_config_defaults,
    save_weights,
    tap_shapes,
)

IRESNET_SHAPES = {
    "layer1": (64, 56, 56),
    "layer2": (128, 28, 28),
    "layer3": (256, 14, 14),
    "layer4": (512, 7, 7),
    "embedding": (512,),
}
MOBILEFACENET_SHAPES = {
    "layer1": (64, 56, 56),
    "layer2": (64, 28, 28),
    "layer3": (128, 14, 14),
    "layer4": (128, 7, 7),
    "embedding": (512,),
}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One intra-op thread: on a small shared CPU, extra threads mostly wait on each other
    (small tensors here); restored afterwards so other test modules are unaffected."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def mobilefacenet() -> nn.Module:
    return build_audited("mobilefacenet")


@pytest.fixture(scope="module")
def iresnet18_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    model = build_audited("iresnet18")
    # Non-default BN statistics so that a silent re-initialisation would be noticed.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
    return {k: v.clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- zoo


def test_zoo_names_and_specs():
    assert set(ARCHITECTURES) == {"iresnet18", "iresnet34", "iresnet50", "iresnet100", "mobilefacenet",
                                  "mbf", "mbf_large", "adaface_ir50", "adaface_ir101", "inception_resnet_v1"}
    for name, spec in ARCHITECTURES.items():
        assert spec.name == name
        assert spec.tap_names == ("layer1", "layer2", "layer3", "layer4", "embedding")
        assert spec.layouts
        with pytest.raises(Exception):
            spec.name = "other"  # frozen
    assert ARCHITECTURES["iresnet50"].input_size == (112, 112)
    assert ARCHITECTURES["inception_resnet_v1"].input_size == (160, 160)
    assert ARCHITECTURES["adaface_ir50"].preprocess.color == "BGR"


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if a.startswith(("iresnet", "mobilefacenet"))])
def test_tap_shapes_every_architecture(arch):
    model = build_audited(arch)
    expected = MOBILEFACENET_SHAPES if arch == "mobilefacenet" else IRESNET_SHAPES
    shapes = tap_shapes(model, ARCHITECTURES[arch].tap_names, ARCHITECTURES[arch].input_size)
    assert shapes == expected
    assert list(shapes) == list(ARCHITECTURES[arch].tap_names)
    assert model.training  # mode restored


def test_tap_shapes_on_meta_device():
    # Bundles check shapes without allocating weights: build on the meta device.
    with torch.device("meta"):
        model = build_audited("iresnet100")
        assert tap_shapes(model, DEFAULT_TAPS) == IRESNET_SHAPES
        mint = build_mint("cnn", IRESNET_SHAPES)
    assert mint.head.weight.is_meta


def test_iresnet_uses_arcface_torch_names(iresnet18_state):
    sd = iresnet18_state
    for key, shape in {
        "conv1.weight": (64, 3, 3, 3),
        "bn1.running_var": (64,),
        "prelu.weight": (64,),
        "layer1.0.bn1.weight": (64,),
        "layer1.0.conv1.weight": (64, 64, 3, 3),
        "layer1.0.prelu.weight": (64,),
        "layer1.0.bn3.bias": (64,),
        "layer1.0.downsample.0.weight": (64, 64, 1, 1),
        "layer1.0.downsample.1.num_batches_tracked": (),
        "layer2.1.conv2.weight": (128, 128, 3, 3),
        "layer4.0.downsample.0.weight": (512, 256, 1, 1),
        "bn2.weight": (512,),
        "fc.weight": (512, 512 * 7 * 7),
        "fc.bias": (512,),
        "features.weight": (512,),
        "features.running_mean": (512,),
    }.items():
        assert tuple(sd[key].shape) == shape, key
    assert "layer1.1.downsample.0.weight" not in sd
    model = build_audited("iresnet18")
    assert not model.features.weight.requires_grad
    assert torch.all(model.features.weight == 1)
    n_blocks = {k.split(".")[1] for k in build_audited("iresnet50").state_dict()
                if k.startswith("layer3.")}
    assert len(n_blocks) == 14


def test_mobilefacenet_config_and_output():
    model = build_audited("mobilefacenet", {"embedding_size": 128, "width": 0.5}).eval()
    with torch.inference_mode():
        out = model(torch.randn(2, 3, 112, 112))
    assert out.shape == (2, 128)
    shapes = tap_shapes(model, DEFAULT_TAPS)
    assert shapes == {"layer1": (32, 56, 56), "layer2": (32, 28, 28), "layer3": (64, 14, 14),
                      "layer4": (64, 7, 7), "embedding": (128,)}
    small = sum(p.numel() for p in model.parameters())
    full = sum(p.numel() for p in build_audited("mobilefacenet").parameters())
    assert small < full / 2


def test_build_audited_errors():
    with pytest.raises(UnknownArchitectureError) as info:
        build_audited("resnet9000")
    assert isinstance(info.value, ValueError)
    for name in ARCHITECTURES:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="embedding_dim"):
        build_audited("iresnet18", {"embedding_dim": 256})
    with pytest.raises(ValueError, match="width"):
        build_audited("iresnet18", {"width": 0.5})  # mobilefacenet-only key
    with pytest.raises(ValueError, match="dropout"):
        build_audited("mobilefacenet", {"dropout": 1.5})
    with pytest.raises(ValueError, match="embedding_size"):
        build_audited("mobilefacenet", {"embedding_size": 0})


# --------------------------------------------------------------------------- taps


def test_tap_extractor_one_forward_and_hook_removal(mobilefacenet):
    calls = []
    counter = mobilefacenet.register_forward_pre_hook(lambda module, args: calls.append(1))
    try:
        mobilefacenet.eval()
        x = torch.randn(2, 3, 112, 112)
        with TapExtractor(mobilefacenet, DEFAULT_TAPS) as extractor, torch.inference_mode():
            feats = extractor(x)
            assert len(calls) == 1
            assert list(feats) == list(DEFAULT_TAPS)
            assert {k: tuple(v.shape[1:]) for k, v in feats.items()} == MOBILEFACENET_SHAPES
            expected = mobilefacenet(x)
            assert torch.allclose(feats["embedding"], expected)
            hooked = mobilefacenet.layer3._forward_hooks
            assert len(hooked) == 1
        assert len(mobilefacenet.layer3._forward_hooks) == 0
        for module in mobilefacenet.modules():
            assert len(module._forward_hooks) == 0
        with pytest.raises(RuntimeError, match="closed"):
            extractor(x)
        extractor = TapExtractor(mobilefacenet, ["layer2.1", "layer4"])
        extractor.close()
        assert len(mobilefacenet.layer4._forward_hooks) == 0
    finally:
        counter.remove()
        mobilefacenet.train()


def test_unknown_tap_lists_valid_names(mobilefacenet):
    with pytest.raises(ValueError) as info:
        TapExtractor(mobilefacenet, ["layer1", "layer9"])
    message = str(info.value)
    assert "layer9" in message
    for name in ("embedding", "layer1", "layer2", "layer3", "layer4"):
        assert name in message
    assert all(len(m._forward_hooks) == 0 for m in mobilefacenet.modules())


# --------------------------------------------------------------------------- weights


def test_safetensors_round_trip(tmp_path, mobilefacenet):
    model = build_audited("mobilefacenet")
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2.0)
    path = tmp_path / "mfn.safetensors"
    save_weights(model, path, metadata={"arch": "mobilefacenet"})
    fresh = build_audited("mobilefacenet")
    assert load_weights(fresh, path) is fresh
    a, b = model.state_dict(), fresh.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        assert f.metadata() == {"arch": "mobilefacenet"}
    # Weights of one architecture do not load into another.
    with pytest.raises(CheckpointMismatchError):
        load_weights(build_audited("mobilefacenet", {"width": 0.5}), path)


def test_import_checkpoint_with_module_prefix(tmp_path, iresnet18_state):
    path = tmp_path / "backbone.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in iresnet18_state.items()},
                "epoch": 3}, path)
    state = import_checkpoint(path, "iresnet18")
    assert state.keys() == iresnet18_state.keys()
    assert all(torch.equal(state[k], iresnet18_state[k]) for k in state)
    assert all(v.is_contiguous() for v in state.values())
    out = tmp_path / "imported.safetensors"
    save_weights(state, out)
    model = load_weights(build_audited("iresnet18"), out)
    assert torch.equal(model.layer2[0].conv1.weight, iresnet18_state["layer2.0.conv1.weight"])


def test_import_checkpoint_mismatch_names_keys(tmp_path, iresnet18_state):
    broken = dict(iresnet18_state)
    del broken["layer3.1.bn2.running_mean"]
    broken["fc.weight"] = torch.zeros(128, 512 * 7 * 7)
    broken["head.weight"] = torch.zeros(3)
    path = tmp_path / "broken.pth"
    torch.save(broken, path)
    with pytest.raises(CheckpointMismatchError) as info:
        import_checkpoint(path, "iresnet18")
    message = str(info.value)
    assert "layer3.1.bn2.running_mean" in message
    assert "fc.weight" in message and "[128, 25088]" in message and "[512, 25088]" in message
    assert "head.weight" in message
    assert info.value.missing == ["layer3.1.bn2.running_mean"]
    assert info.value.unexpected == ["head.weight"]
    assert [m[0] for m in info.value.mismatched] == ["fc.weight"]


def test_load_state_dict_strict_lists_at_most_ten():
    model = build_audited("mobilefacenet")
    with pytest.raises(CheckpointMismatchError) as info:
        load_state_dict_strict(model, {})
    message = str(info.value)
    n_missing = len([k for k in model.state_dict() if not k.endswith("num_batches_tracked")])
    assert f"missing from checkpoint ({n_missing})" in message
    assert f"and {n_missing - 10} more" in message
    # Missing num_batches_tracked counters (old checkpoints) are tolerated.
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    load_state_dict_strict(build_audited("mobilefacenet"), state)


_PAYLOAD_RAN = []


def _payload_function():
    _PAYLOAD_RAN.append(True)
    return "ran"


class _Payload:
    """An arbitrary object whose unpickling would call a function."""

    def __reduce__(self):
        return (_payload_function, ())


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "extra": _Payload()}, path)
    with pytest.raises(UnsafeCheckpointError, match="refusing to load") as info:
        import_checkpoint(path, "mobilefacenet")
    assert "weights-only" in str(info.value)
    assert "_payload_function" in str(info.value)  # torch's reason is passed on
    assert isinstance(info.value, CheckpointError) and isinstance(info.value, ValueError)
    assert _PAYLOAD_RAN == []


def test_unreadable_checkpoints(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="could not read"):
        import_checkpoint(garbage, "mobilefacenet")
    tensor_only = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), tensor_only)
    with pytest.raises(CheckpointError, match="state dict"):
        import_checkpoint(tensor_only, "mobilefacenet")
    with pytest.raises(FileNotFoundError):
        import_checkpoint(tmp_path / "missing.pth", "mobilefacenet")


# --------------------------------------------------------------------------- MINT


def _toy_batch(shapes, n):
    """Random activations; members (label 1) are shifted up on every feature."""
    labels = torch.arange(n) % 2
    feats = {}
    for name, shape in shapes.items():
        shift = labels.float().view(-1, *([1] * len(shape)))
        feats[name] = torch.randn(n, *shape) + 1.5 * shift
    return feats, labels.float()


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_mint_forward_backward_and_learning(kind, mobilefacenet):
    shapes = tap_shapes(mobilefacenet, DEFAULT_TAPS)
    model = build_mint(kind, shapes)
    assert isinstance(model, MINT_KINDS[kind].builder)
    assert model.tap_names == tuple(DEFAULT_TAPS)
    feats, labels = _toy_batch(shapes, 16)
    feats["unused"] = torch.zeros(16, 3)  # extra keys are ignored
    logits = model(feats)
    assert logits.shape == (16,)
    nn.functional.binary_cross_entropy_with_logits(logits, labels).backward()
    first = model.mlp[0] if kind == "mlp" else model.branches[0].reduce[0]
    assert first.weight.grad is not None and first.weight.grad.abs().sum() > 0

    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        optimiser.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(feats), labels)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.7, losses

    with pytest.raises(KeyError, match="layer2"):
        model({k: v for k, v in feats.items() if k != "layer2"})


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_mint_trains_on_inference_mode_taps(kind):
    audited = build_audited("mobilefacenet", {"width": 0.5, "embedding_size": 64}).eval()
    shapes = tap_shapes(audited, DEFAULT_TAPS)
    with TapExtractor(audited, DEFAULT_TAPS) as extractor, torch.inference_mode():
        feats = extractor(torch.randn(4, 3, 112, 112))
    model = build_mint(kind, shapes)
    model(feats).sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_mint_names_are_stable_and_round_trip(tmp_path):
    shapes = dict(MOBILEFACENET_SHAPES)
    vanilla = build_mint("mlp", shapes, {"prototypes": 1024})
    assert isinstance(vanilla, VanillaMINT)
    keys = set(vanilla.state_dict())
    assert {"input_norm.weight", "input_norm.running_mean", "mlp.0.weight", "mlp.3.weight",
            "head.weight", "head.bias"} <= keys
    # pooled channels of every tap, the embedding, each tap's log-norm and the top-8 prototype similarities
    assert vanilla.input_norm.num_features == 64 + 64 + 128 + 128 + 512 + 5 + 8
    assert "prototype_branches.embedding.prototypes" in keys
    cnn = build_mint("cnn", shapes, {"channels": [16, 32], "hidden": []})
    assert isinstance(cnn, CNNMINT)
    keys = set(cnn.state_dict())
    assert {"branches.0.input_norm.weight", "branches.0.reduce.0.weight",
            "branches.0.convs.0.weight", "branches.3.convs.3.weight",
            "branches.4.fc.weight", "head.weight"} <= keys
    assert cnn.head.in_features == 4 * 32 + 32 + 5  # branch features and each tap's log-norm
    assert cnn.input_norm.num_features == cnn.head.in_features  # merged branch features are normalised
    path = tmp_path / "mint.safetensors"
    save_weights(cnn, path)
    again = load_weights(build_mint("cnn", shapes, {"channels": [16, 32], "hidden": []}), path)
    feats, _ = _toy_batch(shapes, 2)
    cnn.eval(), again.eval()
    with torch.inference_mode():
        assert torch.equal(cnn(feats), again(feats))


@pytest.mark.parametrize("kind", sorted(MINT_KINDS))
def test_mint_models_are_built_from_their_spec(kind):
    """The defaults live in the spec only: the classes take every option as a required keyword, the
    spec names exactly those options, and build_mint's default model is the spec's one."""
    import inspect

    spec = MINT_KINDS[kind]
    params = inspect.signature(spec.builder).parameters
    options = {n: p for n, p in params.items() if n != "tap_shapes"}
    assert set(options) == set(spec.default_config)
    assert all(p.default is inspect.Parameter.empty and p.kind is p.KEYWORD_ONLY for p in options.values())
    assert spec.default_config["prototypes"] == 0  # bank-free by default: no member data in a pair
    shapes = {"layer1": (8, 14, 14), "embedding": (32,)}
    from_spec = spec.builder(shapes, **{k: tuple(v) if isinstance(v, list) else v
                                        for k, v in spec.default_config.items()})
    built = build_mint(kind, shapes)
    assert {k: v.shape for k, v in built.state_dict().items()} == {k: v.shape for k, v in from_spec.state_dict().items()}
    assert not any("prototype" in k for k in built.state_dict())
    defaults = mint_config_defaults(kind)
    assert defaults == dict(spec.default_config)
    defaults["hidden"].append(1)  # a copy: changing it changes nothing
    assert mint_config_defaults(kind)["hidden"] == spec.default_config["hidden"]
    # A config recorded before a key existed means what it meant then.
    for key, value in spec.before.items():
        old = {k: v for k, v in defaults.items() if k != key}
        assert getattr(build_mint(kind, shapes, old, recorded=True), key) == value


def test_build_mint_errors():
    shapes = {"embedding": (512,)}
    with pytest.raises(ValueError, match="transformer"):
        build_mint("transformer", shapes)
    with pytest.raises(ValueError, match="channels"):
        build_mint("mlp", shapes, {"channels": [8]})
    with pytest.raises(ValueError, match="hidden"):
        build_mint("mlp", shapes, {"hidden": [0]})
    with pytest.raises(ValueError, match="dropout"):
        build_mint("cnn", shapes, {"dropout": 1.0})
    with pytest.raises(ValueError, match="flip"):
        build_mint("cnn", shapes, {"flip": "yes"})
    with pytest.raises(ValueError, match="flip"):
        build_mint("mlp", shapes, {"flip": True})  # the MLP reads pooled values: nothing to mirror
    with pytest.raises(ValueError, match="empty"):
        build_mint("mlp", {})
    assert build_mint("mlp", shapes, {"hidden": []})({"embedding": torch.randn(3, 512)}).shape == (3,)


def test_prototype_branch_measures_closeness_to_member_embeddings():
    torch.manual_seed(0)
    members = torch.nn.functional.normalize(torch.randn(50, 16), dim=1)
    model = build_mint("mlp", {"embedding": (16,)}, {"prototypes": 64})
    model.initialise_prototypes({"embedding": members})
    branch = model.prototype_branches["embedding"].eval()
    near = branch(members[:5] * 3.0)  # scale does not matter: cosine similarity
    far = branch(torch.nn.functional.normalize(torch.randn(5, 16), dim=1))
    assert torch.allclose(near[:, 0], torch.ones(5), atol=1e-5)  # each member is its own prototype
    assert (far[:, 0] < near[:, 0]).all()
    assert (near[:, :-1] >= near[:, 1:]).all()  # sorted, so the order of prototypes is irrelevant
    # Training: a member's own prototype is left out (an unseen photo has no exact match), so the
    # features it trains on are those of its nearest *other* members.
    branch.train()
    loo = branch(members[:5])
    assert (loo[:, 0] < 0.999).all()
    sims = members[:5] @ members.T
    sims.fill_diagonal_(-1)
    assert torch.allclose(loo[:, 0], sims.max(dim=1).values, atol=1e-5)
    # The prototypes are data, not learnt weights: saved with the model, never given to the optimiser.
    assert "prototype_branches.embedding.prototypes" in model.state_dict()
    assert not any(n.startswith("prototype_branches") for n, _ in model.named_parameters())
    with pytest.raises(ValueError, match="prototypes"):
        build_mint("cnn", {"embedding": (16,)}, {"prototypes": -1})


def test_cnn_map_flip_is_a_training_only_augmentation():
    torch.manual_seed(0)
    model = build_mint("cnn", {"layer1": (4, 8, 8)}, {"channels": [4], "hidden": [], "prototypes": 0})
    branch = model.branches[0]
    assert branch.flip
    x = torch.randn(64, 4, 8, 8)
    model.eval()
    plain, mirrored = branch(x), branch(x.flip(-1))
    assert not torch.allclose(plain, mirrored)  # the maps are not symmetric
    assert torch.equal(branch(x), plain)  # inference: deterministic, never mirrored
    branch.train()
    for m in branch.modules():  # keep BN statistics fixed so that only the mirroring varies
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
    out = branch(x)
    is_plain = torch.isclose(out, plain, atol=1e-6).all(dim=1)
    is_mirrored = torch.isclose(out, mirrored, atol=1e-6).all(dim=1)
    assert (is_plain | is_mirrored).all()
    assert 10 < int(is_mirrored.sum()) < 54  # about half of the batch, at random
