"""Which pairs know whom: the results of an audit with several pairs as a matrix (people or photos
as rows, pairs as columns), a plain model of the session's results (the matrix screen shows it)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mint_tui.result_header import header_pairs
from mint_tui.session import group_people
from mint_tui.tui.session import common_folder


@dataclass
class MatrixRow:
    """One line of the matrix: a person (``cells``: pair -> their identity result, a dict) or a
    photo's face (``cells``: pair -> the index of its result row in the session)."""

    label: str
    cells: dict[str, Any] = field(default_factory=dict)
    person: str | None = None


def people_rows(session: Any) -> list[MatrixRow]:
    """A line per person tested, each pair's identity result in its cell (as the session holds them:
    dicts with ``pair``, ``verdict``, ``p_adjusted``)."""
    out: dict[str, MatrixRow] = {}
    first = (session.pair_names or [None])[0]
    for d in session.identities or []:
        name = str(d.get("name"))
        out.setdefault(name, MatrixRow(name, person=name)).cells[d.get("pair") or first] = d
    return list(out.values())


def photo_rows(session: Any, person: str | None = None) -> list[MatrixRow]:
    """A line per face (or per image without a scored face), each pair's result row in its cell,
    in the audit's order; with ``person``, only that person's photos (by the run's marks; for a
    result file, the photos in a folder of that name)."""
    rows = session.rows
    first = (session.pair_names or [None])[0]
    keep: set[int] | None = None
    if person is not None:
        indexed = [_Indexed(i, r.path) for i, r in enumerate(rows)]
        if session.marks:
            keep = {x.index for x in group_people(session.marks, indexed).get(person, [])}
        else:
            keep = {x.index for x in indexed if os.path.basename(os.path.dirname(x.path)) == person}
    root = common_folder([r.path for r in rows])
    out: dict[tuple[str, int | None], MatrixRow] = {}
    for i, row in enumerate(rows):
        if keep is not None and i not in keep:
            continue
        key = (row.path, row.face)
        if key not in out:
            label = os.path.relpath(row.path, root) if root else row.path
            if row.face:
                label += f" (face {row.face})"
            out[key] = MatrixRow(label)
        out[key].cells.setdefault(row.pair or first, i)
    return list(out.values())


@dataclass
class _Indexed:
    index: int
    path: str



def stores_member_data(session: Any, pair: str) -> bool:
    """Whether the pair carries member data (its manifest says so; for a result file, the card it
    recorded)."""
    manifest = session.manifests.get(pair)
    if manifest is not None:
        return bool(manifest.member_data.stored)
    entry = next((p for p in header_pairs(session.header) if p.get("name") == pair), {})
    card = entry.get("card") if isinstance(entry.get("card"), dict) else {}
    return bool(card.get("member_data_stored"))
