"""Each upstream project's own model code against mint-tui's view of the file that project saves.

    .venv/bin/python bench/upstream_agreement.py --arcface DIR --adaface DIR

``--arcface``: a checkout's ``recognition/arcface_torch/backbones`` folder (insightface); ``--adaface``: a
checkout of mk-minchul/AdaFace (its ``net.py``); facenet-pytorch is imported when installed (``make
setup`` installs it without dependencies). For each model: upstream's class with random weights (and
random BatchNorm statistics) is saved the way that project saves it (arcface_torch resume checkpoint,
backbone.pth, AdaFace Lightning .ckpt, facenet-pytorch's released state dict with its classifier),
mint-tui opens the file as ``train`` would (``open_audited``) and the largest absolute difference of
each tap and of the embedding on the same random batch is printed. Missing sources are skipped.
"""
import argparse
import importlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from mint_tui.model_inspect import open_audited  # noqa: E402
from mint_tui.models.taps import TapExtractor  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--arcface", type=Path, help="insightface recognition/arcface_torch/backbones folder")
parser.add_argument("--adaface", type=Path, help="AdaFace checkout (with net.py)")
args = parser.parse_args()
tmp = Path(tempfile.mkdtemp())


def randomise(m, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm1d)) and mod.running_mean is not None:
                mod.running_mean.uniform_(-0.1, 0.1); mod.running_var.uniform_(0.5, 1.5)
            if isinstance(mod, nn.PReLU):
                mod.weight.uniform_(0.1, 0.3)
    return m.eval()


def compare(label, upstream, taps_up, path, arch, size=112, out=lambda y: y):
    am = open_audited(arch=arch, weights=path)
    x = torch.randn(4, 3, size, size)
    names = [t for t in taps_up]
    with torch.inference_mode():
        ref_out = out(upstream(x))
        ups = {}
        hooks = [dict(upstream.named_modules())[m].register_forward_hook(lambda mod, i, o, n=n: ups.__setitem__(n, o)) for n, m in taps_up.items()]
        upstream(x)
        for h in hooks: h.remove()
        with TapExtractor(am.model, [*names, "embedding"]) as e:
            ours = e(x)
    diffs = {n: (ours[n] - ups[n]).abs().max().item() for n in names}
    diffs["embedding"] = (ours["embedding"] - ref_out).abs().max().item()
    print(f"{label}: layout '{am.checkpoint['layout']}', {am.checkpoint.get('matched')} tensors; max |diff| " + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()))

def arcface():
    sys.path.insert(0, str(args.arcface))
    mbfm = importlib.import_module("mobilefacenet")
    for name, fn in (("mbf", mbfm.get_mbf), ("mbf_large", mbfm.get_mbf_large)):
        m = randomise(fn(False, 512), 1)
        p = tmp / f"{name}.pt"
        torch.save({"epoch": 1, "global_step": 2,
                    "state_dict_backbone": {"module." + k: v for k, v in m.state_dict().items()},
                    "state_dict_softmax_fc": {"weight": torch.zeros(3, 512)}}, p)
        compare(f"arcface_torch {name} checkpoint_gpu_0.pt", m,
                {"layer1": "layers.1", "layer2": "layers.3", "layer3": "layers.5", "layer4": "layers.7"}, p, name)
    ir = importlib.import_module("iresnet")
    m = randomise(ir.iresnet50(), 2)
    p = tmp / "backbone.pth"
    torch.save(m.state_dict(), p)
    compare("arcface_torch r50 backbone.pth", m, {f"layer{i}": f"layer{i}" for i in range(1, 5)}, p, "iresnet50")


def adaface():
    sys.path.insert(0, str(args.adaface))
    net = importlib.import_module("net")
    for depth, arch in (("ir_50", "adaface_ir50"), ("ir_101", "adaface_ir101")):
        m = randomise(net.build_model(depth), 3)
        p = tmp / f"adaface_{depth}.ckpt"
        torch.save({"epoch": 1, "state_dict": {**{"model." + k: v for k, v in m.state_dict().items()},
                                               "head.kernel": torch.zeros(512, 4)},
                    "hyper_parameters": {"arch": depth}}, p)
        units = {"ir_50": (3, 4, 14, 3), "ir_101": (3, 13, 30, 3)}[depth]
        ends = [sum(units[:i + 1]) - 1 for i in range(4)]
        compare(f"AdaFace {depth} .ckpt", m, {f"layer{i + 1}": f"body.{c}" for i, c in enumerate(ends)}, p, arch,
                out=lambda y: y[0])


def facenet():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_formats import _facenet_pytorch_class  # imports its InceptionResnetV1 without torchvision

    m = randomise(_facenet_pytorch_class()(), 4)
    p = tmp / "20180402-114759-vggface2.pt"
    torch.save({**m.state_dict(), "logits.weight": torch.zeros(8631, 512), "logits.bias": torch.zeros(8631)}, p)
    compare("facenet-pytorch InceptionResnetV1", m,
            {"layer1": "repeat_1", "layer2": "repeat_2", "layer3": "repeat_3", "layer4": "block8"}, p,
            "inception_resnet_v1", size=160)


for run, given in ((arcface, args.arcface), (adaface, args.adaface), (facenet, True)):
    if not given:
        print(f"{run.__name__}: skipped (no source folder given)")
        continue
    try:
        run()
    except BaseException as exc:  # pytest.skip raises a BaseException
        print(f"{run.__name__}: skipped ({exc})")
