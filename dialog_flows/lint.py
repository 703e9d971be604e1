"""``trygg flows lint``: translation coverage and the SMS cost of every prompt.

Validation says whether a flow can run; lint says how well it runs in each language:
how much of it is translated, and what each prompt costs as an SMS once rendered with
its numbered choices (GSM-7 or UCS-2, and how many segments). Lint also holds
translations to the channel limits that ``loader`` checks for the Swedish source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialog_flows import texts
from dialog_flows.flow_texts import flow_texts
from dialog_flows.library import Library
from dialog_flows.limits import SMS_MAX_CHARACTERS
from dialog_flows.model import Flow
from dialog_flows.questions import ask
from dialog_flows.render_text import render_plain
from dialog_flows.session import SessionState
from dialog_flows.sms_encoding import SmsCost, sms_cost
from dialog_flows.translations import Translations


@dataclass(frozen=True)
class PromptCost:
    step_id: str
    cost: SmsCost
    text: str


@dataclass
class LanguageReport:
    flow_id: str
    flow_version: int
    language: str
    draft: bool
    translated: int
    total: int
    missing: list[str] = field(default_factory=list)  # message contexts
    prompts: list[PromptCost] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.translated / self.total if self.total else 1.0

    @property
    def segments(self) -> int:
        """Segments of one complete run through every prompt (an upper bound)."""
        return sum(prompt.cost.segments for prompt in self.prompts)


def lint_flow(flow: Flow, tr: Translations) -> list[LanguageReport]:
    reports = []
    for language in flow.languages:
        report = LanguageReport(
            flow.id, flow.version, language, tr.is_draft(language), translated=0, total=0
        )
        entries = [(text.context, text.source, False) for text in flow_texts(flow)]
        entries += [
            (text.context, text.source, text.plural is not None) for text in texts.ALL_TEXTS
        ]
        for context, source, plural in entries:
            report.total += 1
            translated = tr.is_translated_plural if plural else tr.is_translated
            if language == flow.source_language or translated(language, context, source):
                report.translated += 1
            else:
                report.missing.append(context)
        state = SessionState(
            flow_id=flow.id, flow_version=flow.version, channel="sms", language=language,
            started_at=0.0, last_activity_at=0.0,
        )  # fmt: skip
        for step in flow.steps:
            rendered = render_plain(ask(flow, step, state, tr), for_sms=True)
            report.prompts.append(PromptCost(step.id, sms_cost(rendered), rendered))
            if len(rendered) > SMS_MAX_CHARACTERS:
                report.errors.append(
                    f"flow {flow.id}, step '{step.id}', language {language}: the SMS has "
                    f"{len(rendered)} characters; Twilio accepts at most {SMS_MAX_CHARACTERS}"
                )
        reports.append(report)
    return reports


def lint_library(library: Library) -> list[LanguageReport]:
    reports: list[LanguageReport] = []
    for flow in library.current_flows():
        reports.extend(lint_flow(flow, library.translations))
    return reports
