"""Hand-object relations: declared in the pipeline YAML, followed over time, emitted as records.

The ``relations:`` section of a pipeline::

    relations:
      objects:                        # where object boxes come from (required)
        detector: objects             # a detector of the pipeline (required)
        tracker:                      # the object tracker (default: sort, params label_vote: true, high_score: 0,
                                      #   low_score: 0: the object detector's own thresholds decide)
          type: sort                  #   a registered tracker name (required when tracker is given)
          params: {label_vote: true, min_hits: 1, max_age_frames: 15}    # its parameters
        not_hand:                     # object boxes that are a hand are ignored (default: as below)
          labels: [person]            #   only these labels can be a hand; [] turns the filter off, `any`: every label
          min_hand_overlap: 0.5       #   ... when a hand box covers >= this share of the box, or IoU >= this; (0, 1]
      report:                         # the relations, by name (at least one; names match ^[A-Za-z_][A-Za-z0-9_.-]*$)
        holding:
          objects: [cup, bottle]      # object labels it applies to, or `any` (default any)
          when:                       # the predicate (required): a mapping with exactly one key
            all:
              - overlap: {min_iou: 0.05, min_object_covered: 0.3}
              - near: {max_gap: 0.25}
          enter_frames: 3             # held on this many consecutive frames to start (1..100000; default 3)
        # enter_seconds: 0.1          #   or: held for this much source time (> 0, <= 3600); not both
          exit_frames: 5              # failed on this many consecutive frames to end (default 5)
        # exit_seconds: 0.2           #   or: failed for this much source time; not both
          update_every_frames: 15     # a relation.update record every this many frames while active (default 0: none)
          grace_frames: 10            # a lost hand / object track may be replaced within this many frames by a
                                      #   hand of the same side / an object where it was (default 0: ends at once)

Predicates (``when``; boxes in image pixels, y downwards; distances in hand-box diagonals, so
the result does not depend on the image scale):

* ``overlap: {min_iou: F, min_object_covered: F}``: IoU >= min_iou OR the hand covers at least
  min_object_covered of the object's area; at least one of the two; each in (0, 1].
  Score: max(IoU, covered share).
* ``contains: {min_object_covered: F, margin: M}``: at least min_object_covered (default 1:
  all) of the object's area lies inside the hand box grown by margin × its diagonal on every side
  (margin in [0, 1], default 0). ``contains:`` alone means "wholly inside". Score: that share.
* ``near: {max_gap: K}`` (``measure: gap``, the default): the gap between the boxes (0 when
  they touch or overlap) is at most K × hand diagonal (K in [0, 10]); ``near: {measure:
  centers, max_distance: K}``: the distance between the centres is at most K × hand diagonal
  (K in (0, 10]). Score: 1 - distance / (K × diagonal), clipped to [0, 1].
* ``left_of``, ``right_of``, ``above``, ``below`` (``{min_offset: K}`` optional, K in [0, 10],
  default 0): the object's centre is left of / right of / above (smaller y) / below (larger y)
  the hand's centre, in the image as the camera sees it, by more than 0 and at least K × hand
  diagonal. Score: cosine between the centre offset and the direction (1 = straight that way).
* ``fingertips_in: {min_tips: N, margin: M}``: at least N (1..5, default 2) of the hand's five
  fingertips (keypoints) lie in the object box grown by M × hand diagonal (default 0.05).
  Score: tips inside / 5.
* ``grasp: {margin: M}``: the thumb tip and another fingertip both lie in the grown object box,
  or on opposite sides of its centre along its wider axis, level with it. Score: closeness of
  the thumb and the best other tip to the grown box.
* ``moves_with: {window_frames: N, min_cosine: C, min_length_ratio: A, max_length_ratio: B,
  min_hand_motion: K}``: over the last N frames the object's displacement agrees with the
  hand's (cosine >= C, length ratio in [A, B]); undecided (false) when the hand moved less than
  K × its diagonal. Score: max(cosine, 0) × min(r, 1 / r).
  These three never hold without keypoints / history; see `orchestrator.relations.predicates`.
* ``all: [P, ...]``: every predicate holds (score: min); ``any: [P, ...]``: one holds (score: max);
  nested freely.

A relation may also set ``min_object_score`` ([0, 1]) and ``min_object_size`` (object box
diagonal / hand box diagonal, [0, 10]): objects below either fail its predicate.

Records (``orchestrator.events``; schema ``orchestrator.events/4``): ``relation.start`` (dated
at the onset, with ``confirmed_frame``), ``relation.update`` (optional) and ``relation.end``
(dated at the last frame the predicate held, with ``reason`` released / hand_lost / object_lost
/ end_of_stream, ``duration_frames``, ``duration_s``, ``mean_score``, ``max_score`` and
``ended_frame``). The temporal rules are in `orchestrator.relations.engine`.

Example:
    >>> spec, issues = parse_relations(
    ...     {"objects": {"detector": "objects"},
    ...      "report": {"holding": {"objects": ["cup"], "when": {"contains": {"min_object_covered": 0.5}}}}},
    ...     detector_names=["hands", "objects"])
    >>> engine = RelationEngine(spec, fps=30.0)                    # then, per frame:
    >>> engine.update(0, 0.0, hands=[], objects=[])                # hand and object tracks of frame 0
    []
"""

from __future__ import annotations

from orchestrator.relations.engine import RelationEngine, is_hand_like
from orchestrator.relations.predicates import (
    AllOf,
    AnyOf,
    Contains,
    Direction,
    FingertipsIn,
    Grasp,
    MovesWith,
    Near,
    Overlap,
    PairContext,
    Predicate,
    build_predicate,
)
from orchestrator.relations.schema import RELATIONS_SCHEMA, schema_issues
from orchestrator.relations.spec import (
    NotHandSpec,
    ObjectsSpec,
    ObjectTrackerSpec,
    RelationSpec,
    RelationsSpec,
    parse_relations,
)

__all__ = [
    "RELATIONS_SCHEMA",
    "AllOf",
    "AnyOf",
    "Contains",
    "Direction",
    "FingertipsIn",
    "Grasp",
    "MovesWith",
    "Near",
    "NotHandSpec",
    "ObjectTrackerSpec",
    "ObjectsSpec",
    "Overlap",
    "PairContext",
    "Predicate",
    "RelationEngine",
    "RelationSpec",
    "RelationsSpec",
    "build_predicate",
    "is_hand_like",
    "parse_relations",
    "schema_issues",
]
