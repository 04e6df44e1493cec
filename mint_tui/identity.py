"""Identity-level membership test: were *this person's* photos in the training data?

One photo's verdict is noisy; several photos of one person, combined, can give a confident answer
with a stated error rate.

Statistic
    T = the combined score of the person's k faces: the probability whose log-odds are the mean
    log-odds of the k MINT scores, sigmoid(mean(logit(s_i))) (scores clipped to [1e-6, 1 - 1e-6]).
    If the MINT score is a calibrated probability, its log-odds are the log-likelihood ratio of
    "member" vs "non-member" plus a constant, so for independent photos the mean log-odds is the
    Neyman-Pearson statistic. The plain mean of the probabilities is not used: non-member scores
    are very skewed (most near 0, a few near 1), so the mean of k probabilities is dominated by
    its one highest photo and grows more often past a high threshold as k grows; on the LFW demo
    protocol that made the false-positive rate exceed alpha at k = 2 and 4 (measured; see
    docs/RESULTS.md). On the log-odds scale it did not.

Null hypothesis H0
    "This person's photos were not in the training data": the person is like the non-member
    people of the pair's calibration data (an identity drawn from the same population, photos
    of the same kind).

Null distribution, calibrated per identity
    Photos of one person are not independent draws: a non-member who resembles a member scores
    high on all of their photos. A null built by pooling single photos would ignore that and be
    too optimistic. So the reference values are *identity-level*: for each non-member identity g
    of the calibration data (n_g photos), T_g is the combined score of min(k, n_g) of its photos
    (a seeded random subset). For identities with n_g >= k this is exactly the statistic's null
    distribution for k photos; identities with fewer photos give combinations of fewer photos,
    whose spread on the log-odds scale is at least as wide (an assumption, checked on the demo
    protocol), which makes the test conservative rather than optimistic.

p-value and verdict
    A rank (Monte Carlo permutation) test: p = (1 + #{g : T_g >= T}) / (1 + G), with G the
    number of calibration non-member identities. If H0 holds and the person is exchangeable with
    the calibration identities, P(p <= alpha) <= alpha on average over calibration samples. But a
    pair has *one* calibration sample, and with G in the hundreds its upper quantile is itself
    noisy: for that fixed sample the false-positive rate of "p <= alpha" can land above alpha
    (on the demo protocol: 0.057 at alpha 0.05, measured). So the verdict uses a stricter level,
    ``level`` = j / (1 + G), with j the largest rank cut-off for which the false-positive rate
    *given this calibration sample* is at most alpha with probability CONFIDENCE (95 %) over
    calibration samples: that rate is Beta(j, G + 1 - j) distributed, and
    P(Beta(j, G + 1 - j) > alpha) = P(Binomial(G, alpha) <= j - 1) (training-conditional
    validity, as in conformal prediction; Vovk 2012). "member" means p <= level. With G = 226
    and alpha = 0.05 the level is 0.026. With too few calibration identities no cut-off qualifies
    (level 0): the test cannot reject at that alpha, and says so.

Assumptions (what the guarantee rests on)
    - the person, if not a member, is exchangeable with the calibration non-member identities
      (same population and photo conditions; LFW-like news photos for the demo pairs);
    - combining fewer photos does not narrow the null (see above);
    - the audited model and MINT model are the ones the calibration scores came from (the scores
      are stored in the bundle, hash-checked);
    - each face is a different photo: byte-identical files (same sha256, same face) of one person
      count once (:class:`DuplicateFaces`); near-duplicates (a resized or re-encoded copy) are
      not detected and would count twice.
It says nothing about *which* photo was used: a member verdict means that the person's photos,
taken together, score higher than non-member people's photos at the stated error rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from mint_tui.options import DEFAULT_ALPHA

#: Probability, over calibration samples, that the false-positive rate given the pair's own
#: calibration sample is at most alpha.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class IdentityResult:
    name: str
    faces: int  # k, the number of faces combined
    statistic: float  # combined score of those faces (see combine_scores)
    p_value: float
    alpha: float
    verdict: str  # "member" (p <= level) | "not-shown" | "no-faces"
    null_identities: int  # G
    level: float  # the rejection level that keeps the false-positive rate <= alpha (see module docs); 0: none
    duplicates: int = 0  # faces left out: byte-identical repeats of a face already counted

    def to_dict(self) -> dict:
        """As JSON can hold it: a statistic that is not a number (no faces) is None."""
        d = asdict(self)
        d["statistic"] = d["statistic"] if math.isfinite(d["statistic"]) else None
        return d

    @property
    def _faces_text(self) -> str:
        text = f"{self.faces} face" + ("" if self.faces == 1 else "s")
        if self.duplicates:
            text += f"; {self.duplicates} duplicate{'' if self.duplicates == 1 else 's'} counted once"
        return text

    @property
    def explanation(self) -> str:
        if self.verdict == "no-faces":
            return f"{self.name}: no scored faces, nothing to test"
        at = f"cut-off {self.level:.4f} for alpha {self.alpha:g}"
        if self.verdict == "member":
            return (f"{self.name}: evidence that this person's photos were in the training data "
                    f"(p = {self.p_value:.4f} <= {at}, {self._faces_text}, combined score {self.statistic:.3f})")
        if self.level <= 0:
            return (f"{self.name}: not shown to be in the training data (p = {self.p_value:.4f}, {self._faces_text}); with "
                    f"{self.null_identities} calibration identities the test cannot reject at alpha {self.alpha:g}")
        return (f"{self.name}: not shown to be in the training data (p = {self.p_value:.4f} > {at}, "
                f"{self._faces_text}, combined score {self.statistic:.3f})")


EPS = 1e-6


def rejection_level(g: int, alpha: float, confidence: float = CONFIDENCE) -> float:
    """j / (1 + g) for the largest rank cut-off j with P(Binomial(g, alpha) <= j - 1) <= 1 - confidence
    (0.0 when no j qualifies); see the module docstring."""
    cdf, best = 0.0, 0
    for j in range(1, g + 1):
        i = j - 1  # P(Binomial(g, alpha) = i)
        cdf += math.exp(math.lgamma(g + 1) - math.lgamma(i + 1) - math.lgamma(g - i + 1)
                        + i * math.log(alpha) + (g - i) * math.log1p(-alpha))
        if cdf > 1 - confidence:
            break
        best = j
    return best / (1 + g)


def combine_scores(scores) -> float:
    """sigmoid(mean(logit(scores))): the probability whose log-odds are the faces' mean log-odds."""
    p = np.clip(np.asarray(scores, dtype=np.float64), EPS, 1 - EPS)
    mean_logit = float(np.mean(np.log(p) - np.log1p(-p)))
    return float(1 / (1 + np.exp(-mean_logit)))


def null_statistics(external: np.ndarray, external_identity: np.ndarray, k: int, seed: int = 0,
                    combine=combine_scores) -> np.ndarray:
    """Identity-level null values T_g: ``combine`` (the combined score) of min(k, n_g) photos of each
    non-member identity g."""
    external = np.asarray(external, dtype=np.float64)
    groups = np.asarray(external_identity)
    order = np.argsort(groups, kind="stable")
    _, starts = np.unique(groups[order], return_index=True)
    rng = np.random.default_rng(seed)
    values = []
    for s in np.split(external[order], starts[1:]):
        if len(s) > k:
            s = rng.choice(s, size=k, replace=False)
        values.append(combine(s))
    return np.asarray(values)


def rank_p_value(sorted_null: np.ndarray, t: float) -> float:
    """(1 + #{null values >= t}) / (1 + number of null values); ``sorted_null`` in increasing order."""
    g = len(sorted_null)
    return (1 + g - int(np.searchsorted(sorted_null, t, side="left"))) / (1 + g)


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
        self.null_identities = len(np.unique(self.external_identity))  # G: one null value per identity
        self.level = rejection_level(self.null_identities, alpha)

    def null(self, k: int) -> np.ndarray:
        if k not in self._null:
            self._null[k] = np.sort(null_statistics(self.external, self.external_identity, k, self.seed))
        return self._null[k]

    def __call__(self, name: str, scores: Sequence[float | None], duplicates: int = 0) -> IdentityResult:
        """The test on one person's face scores (``duplicates``: repeats already left out, recorded)."""
        scores = np.asarray([s for s in scores if s is not None and np.isfinite(s)], dtype=np.float64)
        g, level = self.null_identities, self.level
        if len(scores) == 0:
            return IdentityResult(name, 0, float("nan"), 1.0, self.alpha, "no-faces", g, level, duplicates)
        t = combine_scores(scores)
        p = rank_p_value(self.null(len(scores)), t)
        verdict = "member" if level > 0 and p <= level + 1e-12 else "not-shown"
        return IdentityResult(name, len(scores), t, p, self.alpha, verdict, g, level, duplicates)


def identity_test(name: str, scores: Sequence[float | None], calibration_scores: dict | None,
                  alpha: float = DEFAULT_ALPHA, seed: int = 0) -> IdentityResult:
    """Combine one person's face scores into a p-value against the pair's non-member identities."""
    return IdentityTest(calibration_scores, alpha, seed)(name, scores)


def people_summary(identities) -> str:
    """"1 of 4 people shown in the training data; 1 with no scored face, not tested": people with no
    scored face (verdict "no-faces") are left out of the count, and said to be. Takes IdentityResults
    or their dicts (as result files hold them)."""
    verdicts = [d.get("verdict") if isinstance(d, dict) else d.verdict for d in identities]
    tested = [v for v in verdicts if v != "no-faces"]
    text = (f"{tested.count('member')} of {len(tested)} {'person' if len(tested) == 1 else 'people'} "
            "shown in the training data")
    untested = len(verdicts) - len(tested)
    if untested:
        text += f"; {untested} with no scored face, not tested"
    return text


class DuplicateFaces:
    """Byte-identical photos of one person: the first face with a given (sha256, face index) counts
    in the identity test, a repeat (the same file given twice, or a copy) is left out and marked."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, str, int | None], str] = {}
        self.counts: dict[str, int] = {}

    def first_of(self, group: str, row) -> str | None:
        """The path of the row that ``row`` repeats within ``group`` (counted in ``counts[group]``),
        or None: it counts."""
        if row.score is None or not row.sha256:
            return None
        key = (group, row.sha256, row.face)
        if key in self._first:
            self.counts[group] = self.counts.get(group, 0) + 1
            return self._first[key]
        self._first[key] = row.path
        return None


def duplicate_note(first: str) -> str:
    """The message of a row left out of the identity test as a repeat of ``first``."""
    return f"the same file as {first} (same sha256): counted once in the identity test"
