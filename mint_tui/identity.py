"""Identity-level membership test: were *this person's* photos in the training data?

One photo's verdict is noisy; several photos of one person, combined, can give a confident answer
with a stated error rate.

Statistic
    T = the mean MINT score of the person's k faces.

Null hypothesis H0
    "This person's photos were not in the training data": the person is like the non-member
    people of the pair's calibration data (an identity drawn from the same population, photos
    of the same kind).

Null distribution, calibrated per identity
    Photos of one person are not independent draws: a non-member who resembles a member scores
    high on all of their photos. A null built by pooling single photos would ignore that and be
    too optimistic. So the reference values are *identity-level*: for each non-member identity g
    of the calibration data (n_g photos), T_g is the mean score of min(k, n_g) of its photos (a
    seeded random subset). For identities with n_g >= k this is exactly the statistic's null
    distribution for k photos; identities with fewer photos give means of fewer photos, whose
    spread is at least as wide, which can only make the test more conservative.

p-value
    A rank (Monte Carlo permutation) test: p = (1 + #{g : T_g >= T}) / (1 + G), with G the
    number of calibration non-member identities. If H0 holds and the person is exchangeable with
    the calibration identities, P(p <= alpha) <= alpha. The smallest attainable p-value is
    1 / (1 + G); with few calibration identities the test cannot reach a small alpha, and says so.

Assumptions (what the guarantee rests on)
    - the person, if not a member, is exchangeable with the calibration non-member identities
      (same population and photo conditions; LFW-like news photos for the demo pairs);
    - the audited model and MINT model are the ones the calibration scores came from (the scores
      are stored in the bundle, hash-checked);
    - each face is a different photo (duplicates of one photo would count twice).
It says nothing about *which* photo was used: a member verdict means that the person's photos,
taken together, score higher than non-member people's photos at the stated error rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_ALPHA = 0.05


@dataclass(frozen=True)
class IdentityResult:
    name: str
    faces: int  # k, the number of faces combined
    statistic: float  # mean MINT score of those faces
    p_value: float
    alpha: float
    verdict: str  # "member" (H0 rejected at alpha) | "not-shown" | "no-faces"
    null_identities: int  # G
    min_p_value: float  # 1 / (1 + G): the smallest p-value the test can give

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def _faces_text(self) -> str:
        return f"{self.faces} face" + ("" if self.faces == 1 else "s")

    @property
    def explanation(self) -> str:
        if self.verdict == "no-faces":
            return f"{self.name}: no scored faces, nothing to test"
        if self.verdict == "member":
            return (f"{self.name}: evidence that this person's photos were in the training data "
                    f"(p = {self.p_value:.4f} <= {self.alpha:g}, {self._faces_text}, mean score {self.statistic:.3f})")
        extra = (f"; with {self.null_identities} calibration identities p cannot go below {self.min_p_value:.4f}"
                 if self.min_p_value > self.alpha else "")
        return (f"{self.name}: not shown to be in the training data (p = {self.p_value:.4f} > {self.alpha:g}, "
                f"{self._faces_text}, mean score {self.statistic:.3f}){extra}")


def null_statistics(external: np.ndarray, external_identity: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Identity-level null values T_g: mean of min(k, n_g) scores of each non-member identity g."""
    external = np.asarray(external, dtype=np.float64)
    groups = np.asarray(external_identity)
    order = np.argsort(groups, kind="stable")
    _, starts = np.unique(groups[order], return_index=True)
    rng = np.random.default_rng(seed)
    values = []
    for s in np.split(external[order], starts[1:]):
        if len(s) > k:
            s = rng.choice(s, size=k, replace=False)
        values.append(s.mean())
    return np.asarray(values)


class IdentityTest:
    """The test for one pair: the identity-level null of each k is computed once and reused."""

    def __init__(self, calibration_scores: dict | None, alpha: float = DEFAULT_ALPHA, seed: int = 0) -> None:
        if not 0 < alpha < 1:
            raise ValueError("alpha must be in (0, 1)")
        if calibration_scores is None:
            raise ValueError("this pair carries no calibration scores; rebuild it with mint-tui train to use the "
                             "identity test")
        self.external = np.asarray(calibration_scores["external"], dtype=np.float64)
        self.external_identity = np.asarray(calibration_scores["external_identity"])
        if len(self.external) == 0:
            raise ValueError("the pair's calibration scores hold no non-member identities")
        self.alpha, self.seed = alpha, seed
        self._null: dict[int, np.ndarray] = {}

    def null(self, k: int) -> np.ndarray:
        if k not in self._null:
            self._null[k] = np.sort(null_statistics(self.external, self.external_identity, k, self.seed))
        return self._null[k]

    def __call__(self, name: str, scores: Sequence[float | None]) -> IdentityResult:
        scores = np.asarray([s for s in scores if s is not None and np.isfinite(s)], dtype=np.float64)
        null = self.null(max(len(scores), 1))
        g = len(null)
        if len(scores) == 0:
            return IdentityResult(name, 0, float("nan"), 1.0, self.alpha, "no-faces", g, 1 / (1 + g))
        t = float(scores.mean())
        p = (1 + g - int(np.searchsorted(null, t, side="left"))) / (1 + g)
        return IdentityResult(name, len(scores), t, p, self.alpha, "member" if p <= self.alpha else "not-shown", g,
                              1 / (1 + g))


def identity_test(name: str, scores: Sequence[float | None], calibration_scores: dict | None,
                  alpha: float = DEFAULT_ALPHA, seed: int = 0) -> IdentityResult:
    """Combine one person's face scores into a p-value against the pair's non-member identities."""
    return IdentityTest(calibration_scores, alpha, seed)(name, scores)


def group_rows(rows, by: str = "folder", name: str | None = None) -> dict[str, list]:
    """Group audit rows into identities: one named identity (all rows) or one per parent folder."""
    from pathlib import Path

    if name is not None:
        return {name: list(rows)}
    if by != "folder":
        raise ValueError(f"unknown grouping {by!r}")
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(Path(row.path).parent.name or ".", []).append(row)
    return groups
