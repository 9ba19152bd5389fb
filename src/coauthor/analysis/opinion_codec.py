"""An analysis state as JSON, and back, exactly.

A deliberation's next analysis warm-starts from the last one's
:class:`OpinionState` (as Pol.is does between updates). Storing that state
with the deliberation lets every server process continue from the same point
and so compute the same groups. JSON keeps floats exactly (Python writes the
shortest text that reads back as the same double), and names keep their type
(participant ids are strings).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coauthor.analysis.opinion import OpinionState
from coauthor.analysis.opinion_cluster import ClusterSeed, KSmoother

FORMAT = 1


def _seed_to_json(seed: ClusterSeed) -> dict[str, Any]:
    return {
        "ids": seed.ids.tolist(),
        "centers": seed.centers.tolist(),
        "members": [list(members) for members in seed.members],
    }


def _seed_from_json(data: dict[str, Any]) -> ClusterSeed:
    centers = np.asarray(data["centers"], dtype=np.float64)
    return ClusterSeed(
        ids=np.asarray(data["ids"], dtype=np.int64),
        centers=centers.reshape(-1, 2) if centers.size else np.zeros((0, 2)),
        members=tuple(tuple(members) for members in data["members"]),
    )


def state_to_json(state: OpinionState) -> dict[str, Any]:
    smoother = state.smoother
    return {
        "format": FORMAT,
        "pca_statement_ids": list(state.pca_statement_ids),
        "pca_comps": state.pca_comps.tolist(),
        "in_conv": sorted(state.in_conv),
        "base_seed": _seed_to_json(state.base_seed) if state.base_seed is not None else None,
        "group_seeds": {str(k): _seed_to_json(seed) for k, seed in state.group_seeds.items()},
        "smoother": (
            [smoother.last_k, smoother.last_k_count, smoother.smoothed_k] if smoother else None
        ),
    }


def state_from_json(data: dict[str, Any]) -> OpinionState:
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown analysis state format {data.get('format')!r}")
    comps = np.asarray(data["pca_comps"], dtype=np.float64)
    smoother = data["smoother"]
    return OpinionState(
        pca_statement_ids=tuple(data["pca_statement_ids"]),
        pca_comps=comps.reshape(comps.shape[0], -1) if comps.ndim == 2 else comps,
        in_conv=frozenset(data["in_conv"]),
        base_seed=_seed_from_json(data["base_seed"]) if data["base_seed"] else None,
        group_seeds={int(k): _seed_from_json(v) for k, v in data["group_seeds"].items()},
        smoother=KSmoother(*smoother) if smoother else None,
    )
