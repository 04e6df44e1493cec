"""torch DDP under torchrun: 2 processes (gloo, CPU) train the same MINT model as 1 process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from mint_tui.models.shards import RowDropout, rand_rows, sample_rows
from mint_tui.train.distributed import EpochBatches, World


def test_row_draws_equal_the_whole_batch_draws():
    x = torch.randn(10, 6)
    rows = torch.tensor([0, 3, 4, 9])
    torch.manual_seed(5)
    whole = torch.nn.Dropout(0.5).train()(x), torch.rand(10, 1, 1, 1)
    torch.manual_seed(5)
    with sample_rows(10, rows):
        part = RowDropout(0.5).train()(x[rows]), rand_rows(4, 1, 1, 1)
    assert torch.equal(part[0], whole[0][rows]) and torch.equal(part[1], whole[1][rows])


def test_epoch_batches_split_each_batch_between_processes():
    train_idx = np.arange(100, 137)  # 37 rows: the last batch is short, the sampler pads
    one = list(EpochBatches(train_idx, 8, World(), seed=3).epoch(2))
    two = [list(EpochBatches(train_idx, 8, World(r, 2), seed=3).epoch(2)) for r in (0, 1)]
    assert sorted(np.concatenate([b for b, _ in one]).tolist()) == train_idx.tolist()
    for k, (batch, rows) in enumerate(one):
        assert rows.tolist() == list(range(len(batch)))
        shares = [two[r][k] for r in (0, 1)]
        assert all(np.array_equal(b, batch) for b, _ in shares)  # the same whole batch
        mine = np.sort(np.concatenate([rows for _, rows in shares]))
        assert mine.tolist() == list(range(len(batch)))  # every row once, in one process


def _train(cmd, home, out, lfw, tmp_path):
    lists = {}
    for split in ("mint_train_members", "mint_train_external"):
        lines = (lfw / "splits" / f"{split}.txt").read_text().splitlines()[:16]
        lists[split] = tmp_path / f"{split}.txt"
        lists[split].write_text("\n".join(lines) + "\n")
    args = ["train", "--audited-from", "demo-lfw-cnn", "--members", str(lists["mint_train_members"]),
            "--external", str(lists["mint_train_external"]), "--root", str(lfw / "images"), "--kind", "cnn",
            "--taps", "layer2,embedding", "--epochs", "3", "--batch-size", "8", "--seed", "1",
            "--name", "ddp", "--out", str(out)]
    env = {**os.environ, "MINT_TUI_HOME": str(home), "OMP_NUM_THREADS": "1"}
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=600)


def test_two_processes_train_the_same_pair_as_one(lfw, tmp_path):
    from mint_tui.pairs.loaded import load_pair

    home = tmp_path / "home"
    one = _train([sys.executable, "-m", "mint_tui"], home, tmp_path / "one.mintpair", lfw, tmp_path)
    assert one.returncode == 0, one.stderr
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m", "mint_tui"]
    two = _train(torchrun, home, tmp_path / "two.mintpair", lfw, tmp_path)
    assert two.returncode == 0, two.stderr
    assert "(2 processes)" in two.stderr and two.stderr.count("wrote ") == 1  # rank 0 logs and writes
    def losses(text):  # train loss, val loss, val acc of each epoch line
        return np.array([[float(line.split()[i]) for i in (4, 7, 10)] for line in text.splitlines()
                         if line.startswith("epoch ")])

    assert losses(one.stderr).shape == (3, 3)
    np.testing.assert_allclose(losses(two.stderr), losses(one.stderr), atol=2e-4)  # printed to 4 decimals
    a, b = load_pair(tmp_path / "one.mintpair"), load_pair(tmp_path / "two.mintpair")
    for key in ("member", "external"):
        np.testing.assert_allclose(b.calibration_scores[key], a.calibration_scores[key], atol=1e-4)
    assert abs(a.manifest.calibration.threshold - b.manifest.calibration.threshold) < 1e-4
    assert sorted(p.name for p in tmp_path.glob("*.mintpair")) == ["one.mintpair", "two.mintpair"]
