"""Live results: participation, completion, choices, place ratings, demographics (viewer and up).

``GET /staff/campaigns/{cid}/results`` counts the campaign's respondents in the database
(``aggregates``), hides small counts (``small_cells``) and draws each table as an SVG
chart with the table itself beside it. The filters are the query string, so a view can
be shared as a link; a value that is not allowed gives the form back with a message
(400), not an error page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dialog_flows import texts
from dialog_flows.model import Campaign, StepKind
from trygg.staff import charts
from trygg.staff.aggregates import COMPLETED, Counts, count_results
from trygg.staff.auth import Viewer, runtime_of
from trygg.staff.pages import campaign_or_404, render
from trygg.staff.result_choices import (
    NO_OPINION,
    SAFE,
    UNSAFE,
    ChoiceResult,
    PlaceResult,
    choice_results,
    demographics,
    place_results,
)
from trygg.staff.result_filters import (
    BREAKDOWNS,
    CHANNEL_NAMES,
    NO_SOURCE,
    FilterProblems,
    Filters,
    parse_filters,
)
from trygg.staff.result_participation import (
    CountTable,
    StepRow,
    Timeline,
    answered_cells,
    participation,
    status_table,
    step_table,
)
from trygg.staff.result_questions import (
    CHOICE_KINDS,
    NO_SOURCE_LABEL,
    Questionnaire,
    channel_categories,
    language_categories,
    language_name,
    questionnaire,
    source_categories,
)
from trygg.staff.small_cells import MIN_CELL, SMALL_TEXT, Cell, shown_total

router = APIRouter()

# The legend's names: the same Swedish words the chat shows for the ratings.
RATING_NAMES = (
    (UNSAFE, texts.RATING_RED.source),
    (NO_OPINION, texts.RATING_YELLOW.source),
    (SAFE, texts.RATING_GREEN.source),
)


@dataclass(frozen=True)
class Dimension:
    key: str  # source, channel, language
    title: str
    table: CountTable


@dataclass(frozen=True)
class ResultsView:
    """Everything the page shows, every count already hidden where it must be."""

    total: Cell
    status: CountTable
    completed: Cell
    dimensions: list[Dimension]
    timeline: Timeline
    steps: list[StepRow]
    places: list[PlaceResult]
    choices: list[ChoiceResult]
    demographics: list[ChoiceResult]

    def answered_bars(self) -> list[tuple[str, Cell]]:
        return [(row.label, row.answered) for row in self.steps if row.answered is not None]


def build_view(
    counts: Counts, campaign: Campaign, questions: Questionnaire, filters: Filters
) -> ResultsView:
    status = status_table(counts)
    categories: dict[str, list[tuple[str | None, str]]] = {
        "source": source_categories(campaign, counts.by_source),
        "channel": list(channel_categories(counts.by_channel)),
        "language": list(language_categories(questions.languages, counts.by_language)),
    }
    who = participation(counts, filters, categories)
    dimensions = [
        Dimension(name, f"Deltagare per {BREAKDOWNS[name]}", who.dimensions[name])
        for name in categories
    ]
    answered = answered_cells(counts, questions)
    return ResultsView(
        total=shown_total(counts.total),
        status=status,
        completed=next(row.cell for row in status.rows if row.key == COMPLETED),
        dimensions=dimensions,
        timeline=who.timeline,
        steps=step_table(counts, questions, answered, status),
        places=place_results(counts, questions, answered),
        choices=choice_results(counts, questions, answered),
        demographics=demographics(counts, questions, answered),
    )


def form_options(campaign: Campaign, questions: Questionnaire) -> dict[str, list[tuple[str, str]]]:
    """The filter form's choices: (value, label)."""
    return {
        "source": [(source.id, source.name) for source in campaign.sources]
        + [(NO_SOURCE, NO_SOURCE_LABEL)],
        "channel": list(CHANNEL_NAMES.items()),
        "language": [(code, language_name(code)) for code in questions.languages],
        "by": list(BREAKDOWNS.items()),
    }


@router.get("/staff/campaigns/{campaign_id}/results", response_class=HTMLResponse)
async def results_page(request: Request, campaign_id: str, staff: Viewer) -> HTMLResponse:
    campaign = campaign_or_404(request, campaign_id)
    runtime = runtime_of(request)
    questions = questionnaire(runtime.library, campaign)
    page: dict[str, Any] = {
        "campaign": campaign,
        "options": form_options(campaign, questions),
        "charts": charts,
        "breakdowns": BREAKDOWNS,
        "rating_names": RATING_NAMES,
        "small_text": SMALL_TEXT,
        "min_cell": MIN_CELL,
    }
    title = f"Resultat: {campaign.title}"
    try:
        filters = parse_filters(request.query_params, campaign, questions.languages)
    except FilterProblems as refused:
        return render(
            request, "results.html", staff, title=title, status_code=400,
            problems=refused.messages, raw=refused.raw, filters=None, view=None, **page,
        )  # fmt: skip
    counted = [question.id for question in questions.of_kind(*CHOICE_KINDS)]
    counted += [question.id for question in questions.of_kind(StepKind.PLACE_RATING)]
    counts = await count_results(runtime.database, campaign.id, filters, counted)
    view = build_view(counts, campaign, questions, filters) if counts.total >= MIN_CELL else None
    return render(
        request, "results.html", staff, title=title, problems=[], raw=filters.raw,
        filters=filters, view=view, empty=counts.total == 0 and not filters.narrowed, **page,
    )  # fmt: skip
