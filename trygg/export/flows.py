"""Which flows label an export, in which order its question columns come.

Both the response table and the statistics need the same answer to "which flows does
this campaign use?", so that a column or a category reads the same in both. The flows in
the folder come first (the current wording), then versions respondents used that left
the folder, read from their stored source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dialog_flows.library import Library
from dialog_flows.model import Campaign, Flow, StepKind
from dialog_flows.translations import Translations

# No catalogs: every text in the flow's own source language (Swedish).
SOURCE_ONLY = Translations()


def _versions(library: Library, flow_id: str) -> list[Flow]:
    """Every version of a flow in the folder, newest first."""
    flows = [flow for (fid, _), flow in library.flows.items() if fid == flow_id]
    return sorted(flows, key=lambda flow: -flow.version)


def selected_campaigns(library: Library, campaign: str | None) -> list[Campaign]:
    """Every campaign in the folder, or the one named."""
    return [c for c in library.campaigns if campaign is None or c.id == campaign]


def campaign_flows(
    library: Library, campaign: str | None, used: Iterable[tuple[str, int]] = ()
) -> list[Flow]:
    """The campaigns' flows in the folder: each main flow first, then the sources' flows,
    then flows that respondents used but no campaign names any more."""
    ordered: list[Flow] = []
    seen: set[tuple[str, int]] = set()

    def add(flow_id: str) -> None:
        for flow in _versions(library, flow_id):
            if (flow.id, flow.version) not in seen:
                seen.add((flow.id, flow.version))
                ordered.append(flow)

    for item in selected_campaigns(library, campaign):
        add(item.flow)
        for source in item.sources:
            if source.flow:
                add(source.flow)
    for flow_id, _version in sorted(used):
        add(flow_id)
    return ordered


def label_flows(
    library: Library, campaign: str | None, used: set[tuple[str, int]], stored: list[Flow]
) -> list[Flow]:
    """The campaigns' flows, then stored versions the folder no longer has."""
    flows = campaign_flows(library, campaign, used)
    known = {(flow.id, flow.version) for flow in flows}
    return flows + [flow for flow in stored if (flow.id, flow.version) not in known]


def question_order(flows: Sequence[Flow], answers: Iterable[dict[str, Any]] = ()) -> list[str]:
    """Question ids as the flows ask them (union, in the order given), then ids that only
    old versions had, sorted."""
    order: list[str] = []
    seen: set[str] = set()
    for flow in flows:
        for step in flow.steps:
            if step.answers and step.id not in seen:
                seen.add(step.id)
                order.append(step.id)
    extra = {question_id for given in answers for question_id in given} - seen
    return order + sorted(extra)


def text_questions(flows: Sequence[Flow]) -> set[str]:
    """The ids of the free-text questions: the ones analysts tag with themes."""
    return {step.id for flow in flows for step in flow.steps if step.kind is StepKind.TEXT}
