"""Deliberation math: the Pol.is opinion-group pipeline, in pure numpy/scipy.

``analyze(matrix)`` runs the pipeline described in
``tests/data/polis/POLIS_MATH.md`` (the Pol.is ``math`` module):

1. participants "in the conversation": at least ``min(7, n_statements)``
   votes, sticky across updates, topped up to 15 with the top voters;
2. PCA of the imputed matrix (see :mod:`coauthor.analysis.opinion_pca`),
   sparsity-aware projection;
3. base clusters (k-means, Pol.is init or warm start), then groups by
   weighted k-means of base-cluster centres for k = 2..max_k, k chosen by
   silhouette and smoothed over updates;
4. representative statements per group, consensus, group-informed
   consensus, statement projection/extremity and routing priority.

Pass the previous result as ``previous`` to warm-start and carry the k-smoother,
as Pol.is does between updates; ``replay`` does so along a whole vote log.
``math`` selects the version of Pol.is's math to follow
(:mod:`coauthor.analysis.opinion_era`; today's by default). Departures from
Pol.is are listed in ``docs/deliberation.md``.

The pipeline lives in :mod:`.opinion_votes` (the votes one update sees),
:mod:`.opinion_update` (placing and grouping), :mod:`.opinion_result`
(statistics and :func:`analyze`) and :mod:`.opinion_replay`; this module is
its public face.
"""

from __future__ import annotations

from coauthor.analysis.opinion_era import (
    CURRENT,
    POLIS_HISTORY,
    PolisMath,
    polis_math_at,
)
from coauthor.analysis.opinion_matrix import VoteMatrix
from coauthor.analysis.opinion_partners import (
    BridgingStatement,
    FaultLine,
    FaultLineReport,
    PartnerAlignment,
    adjusted_rand_index,
    bridging_and_fault_lines,
    partner_alignment,
)
from coauthor.analysis.opinion_replay import POLL_SECONDS, replay
from coauthor.analysis.opinion_result import (
    GroupSummary,
    OpinionResult,
    analyze,
    analyze_from_state,
)
from coauthor.analysis.opinion_stats import (
    Consensus,
    ConsensusStatement,
    RepresentativeStatement,
)
from coauthor.analysis.opinion_update import OpinionState

__all__ = [
    "CURRENT",
    "POLIS_HISTORY",
    "POLL_SECONDS",
    "BridgingStatement",
    "Consensus",
    "ConsensusStatement",
    "FaultLine",
    "FaultLineReport",
    "GroupSummary",
    "OpinionResult",
    "OpinionState",
    "PartnerAlignment",
    "PolisMath",
    "RepresentativeStatement",
    "VoteMatrix",
    "adjusted_rand_index",
    "analyze",
    "analyze_from_state",
    "bridging_and_fault_lines",
    "partner_alignment",
    "polis_math_at",
    "replay",
]
