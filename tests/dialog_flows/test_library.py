"""Tests for dialog_flows.library and campaigns: the shipped files, and checks across files.

Cross-file tests copy the shipped flows and locales into ``tmp_path``, change one thing
and load the copy, so each test shows which change breaks which rule.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialog_flows.campaigns import Entry, load_campaign_text, parse_keyword_entry, resolve_source
from dialog_flows.library import (
    DEFAULT_FLOWS_DIR,
    DEFAULT_LOCALES_DIR,
    Library,
    load_library,
)
from dialog_flows.loader import load_flow_text
from dialog_flows.model import Campaign, StepKind
from dialog_flows.problems import FlowError, Problem

SHIPPED_SOURCES = (
    "ungdomshuset", "pilangskolan", "trygghetsdagen", "lss", "hvb", "forsamlingen",
    "emaljgatan", "foretagare", "badet", "tellus", "facebook", "webb", "affisch", "medborgarpanel",
)  # fmt: skip


# --- the shipped library --------------------------------------------------------------------


def test_the_shipped_library_has_two_flows_and_one_campaign(library: Library) -> None:
    assert sorted(library.flows) == [("karlslund", 1), ("karlslund-lattlast", 1)]
    assert [flow.id for flow in library.current_flows()] == ["karlslund", "karlslund-lattlast"]
    assert len(library.campaigns) == 1


def test_the_shipped_campaign(library: Library) -> None:
    campaign = library.campaign()
    assert library.campaign("karlslund") is campaign
    assert (campaign.id, campaign.keyword, campaign.flow, campaign.default_language) == (
        "karlslund",
        "TRYGG",
        "karlslund",
        "sv",
    )
    assert campaign.ends == "2027-06-30"
    assert tuple(source.id for source in campaign.sources) == SHIPPED_SOURCES
    assert len(campaign.sources) == 14


def test_the_easy_read_source_starts_the_easy_read_flow(library: Library) -> None:
    campaign = library.campaign()
    lss = campaign.source("lss")
    assert lss is not None
    assert lss.flow == "karlslund-lattlast"
    assert campaign.flow_for("lss") == "karlslund-lattlast"
    assert campaign.flow_for("LSS") == "karlslund-lattlast"
    assert [s.id for s in campaign.sources if s.flow is not None] == ["lss"]
    assert campaign.flow_for("badet") == "karlslund"
    assert campaign.flow_for(None) == "karlslund"
    assert campaign.flow_for("unknown") == "karlslund"


def test_an_unknown_campaign_is_a_key_error(library: Library) -> None:
    with pytest.raises(KeyError):
        library.campaign("nope")


def test_the_shipped_easy_read_flow_shares_question_ids_compatibly(library: Library) -> None:
    main, easy = library.flow("karlslund"), library.flow("karlslund-lattlast")
    assert main is not None
    assert easy is not None
    shared = [step.id for step in easy.steps if step.answers and main.has_step(step.id)]
    assert shared == ["problems", "when", "place_1", "place_2", "age_group", "gender", "feedback"]
    for step_id in shared:
        assert easy.step(step_id).kind is main.step(step_id).kind
        easy_choices = {c.id for c in easy.step(step_id).choices}
        assert easy_choices <= {c.id for c in main.step(step_id).choices}


def flow_file_paths() -> list[Path]:
    return sorted(p for p in DEFAULT_FLOWS_DIR.glob("*.yaml") if "campaign" not in p.name)


@pytest.mark.parametrize("path", flow_file_paths(), ids=lambda path: path.name)
def test_every_shipped_flow_validates_on_its_own(path: Path) -> None:
    flow = load_flow_text(path.read_bytes(), str(path))
    assert flow.id == path.stem
    assert flow.languages[0] == "sv"
    assert any(step.kind is StepKind.FEEDBACK for step in flow.steps)


def test_the_shipped_flow_files_are_the_two_flows() -> None:
    assert [path.stem for path in flow_file_paths()] == ["karlslund-lattlast", "karlslund"]


def test_the_shipped_campaign_validates_on_its_own() -> None:
    path = DEFAULT_FLOWS_DIR / "karlslund.campaign.yaml"
    assert load_campaign_text(path.read_bytes(), str(path)).id == "karlslund"


# --- a copy to change -----------------------------------------------------------------------


@dataclass
class Tree:
    flows: Path
    locales: Path

    def load(self) -> Library:
        return load_library((self.flows,), self.locales)

    def problems(self) -> list[Problem]:
        with pytest.raises(FlowError) as info:
            self.load()
        return info.value.problems

    def problem(self) -> Problem:
        problems = self.problems()
        assert len(problems) == 1, "\n".join(map(str, problems))
        return problems[0]

    def path(self, name: str) -> Path:
        return self.flows / name

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.path(name)
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} must occur once in {name}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def write(self, name: str, text: str) -> Path:
        path = self.path(name)
        path.write_text(text, encoding="utf-8")
        return path

    def line(self, name: str, text: str) -> int:
        lines = self.path(name).read_text(encoding="utf-8").splitlines()
        return lines.index(text) + 1


MAIN = "karlslund.yaml"
EASY = "karlslund-lattlast.yaml"
CAMPAIGN = "karlslund.campaign.yaml"


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    flows, locales = tmp_path / "flows", tmp_path / "locales"
    shutil.copytree(DEFAULT_FLOWS_DIR, flows)
    shutil.copytree(DEFAULT_LOCALES_DIR, locales)
    return Tree(flows, locales)


def second_campaign(keyword: str = "KOLL", source: str = "torget", campaign: str = "other") -> str:
    return (
        f"campaign: {campaign}\ntitle: Annan dialog\nkeyword: {keyword}\nflow: karlslund\n"
        f"sources:\n  - id: {source}\n    name: Torget\n"
    )


def test_an_unchanged_copy_loads(tree: Tree) -> None:
    library = tree.load()
    assert sorted(library.flows) == [("karlslund", 1), ("karlslund-lattlast", 1)]
    assert library.flow("karlslund-lattlast") is not None
    assert library.campaign().source_file == str(tree.path(CAMPAIGN))


def test_a_second_campaign_with_its_own_keyword_and_sources_loads(tree: Tree) -> None:
    tree.write("other.campaign.yaml", second_campaign())
    library = tree.load()
    assert [c.id for c in library.campaigns] == ["karlslund", "other"]
    assert library.campaign("other").keyword == "KOLL"


def test_a_campaign_naming_a_missing_flow(tree: Tree) -> None:
    tree.edit(CAMPAIGN, "flow: karlslund\n", "flow: karlstad\n")
    problem = tree.problem()
    assert (problem.file, problem.line, problem.campaign, problem.field) == (
        str(tree.path(CAMPAIGN)),
        1,
        "karlslund",
        "flow",
    )
    assert (problem.flow, problem.step, problem.choice) == (None, None, None)
    assert problem.message == "flow 'karlstad' does not exist"


def test_a_source_naming_a_missing_flow(tree: Tree) -> None:
    tree.edit(CAMPAIGN, "flow: karlslund-lattlast", "flow: lattlast")
    problem = tree.problem()
    assert (problem.file, problem.campaign, problem.field) == (
        str(tree.path(CAMPAIGN)),
        "karlslund",
        "sources",
    )
    assert problem.message == "source 'lss': flow 'lattlast' does not exist"


def test_a_default_language_the_flow_does_not_offer(tree: Tree) -> None:
    tree.edit(CAMPAIGN, "default_language: sv", "default_language: de")
    problem = tree.problem()
    assert (problem.file, problem.campaign, problem.field) == (
        str(tree.path(CAMPAIGN)),
        "karlslund",
        "default_language",
    )
    assert problem.message == "default language 'de' is not offered by flow karlslund"


def test_the_same_source_id_in_two_campaigns(tree: Tree) -> None:
    path = tree.write("other.campaign.yaml", second_campaign(source="BADET"))
    problem = tree.problem()
    assert (problem.file, problem.campaign, problem.field) == (str(path), "other", "sources")
    assert problem.message == "source 'BADET' is also used by campaign karlslund"


def test_the_same_keyword_in_two_campaigns(tree: Tree) -> None:
    path = tree.write("other.campaign.yaml", second_campaign(keyword="trygg"))
    problem = tree.problem()
    assert (problem.file, problem.campaign, problem.field) == (str(path), "other", "keyword")
    assert problem.message == "keyword TRYGG is also used by karlslund"


def test_the_same_campaign_id_in_two_files(tree: Tree) -> None:
    path = tree.write("other.campaign.yaml", second_campaign(campaign="karlslund"))
    problem = tree.problem()
    assert (problem.file, problem.campaign, problem.field) == (str(path), "karlslund", "campaign")
    assert problem.message == f"campaign karlslund is also defined in {tree.path(CAMPAIGN)}"


def test_a_variant_sharing_a_step_id_with_another_kind(tree: Tree) -> None:
    tree.edit(
        EASY, "  - id: when\n    type: multiple_choice", "  - id: when\n    type: single_choice"
    )
    problem = tree.problem()
    assert (problem.file, problem.line, problem.flow, problem.step, problem.field) == (
        str(tree.path(EASY)),
        tree.line(EASY, "  - id: when"),
        "karlslund-lattlast",
        "when",
        None,
    )
    assert problem.message == (
        "shares its id with flow karlslund, where it is a multiple_choice step, not single_choice"
    )


def test_a_variant_sharing_a_step_id_with_a_choice_the_main_flow_lacks(tree: Tree) -> None:
    tree.edit(EASY, "      - id: varies\n", "      - id: sometimes\n")
    problem = tree.problem()
    assert (problem.file, problem.line, problem.flow, problem.step, problem.field) == (
        str(tree.path(EASY)),
        tree.line(EASY, "  - id: when"),
        "karlslund-lattlast",
        "when",
        "choices",
    )
    assert problem.message == "shares its id with flow karlslund, which has no choices sometimes"


def test_a_variant_may_use_fewer_choices_and_steps_of_its_own(tree: Tree) -> None:
    tree.edit(EASY, "      - id: varies\n        label: Olika\n", "")
    tree.edit(
        EASY,
        "  - id: places_intro\n",
        "  - id: own\n    type: text\n    text: Egen?\n\n  - id: places_intro\n",
    )
    easy = tree.load().flow("karlslund-lattlast")
    assert easy is not None
    assert [c.id for c in easy.step("when").choices] == ["day", "evening", "night"]
    assert easy.has_step("own")


def test_a_missing_image_file(tree: Tree) -> None:
    tree.edit(
        MAIN,
        "      name: Karlslundsbadet\n",
        "      name: Karlslundsbadet\n      image: badet.jpg\n",
    )
    problem = tree.problem()
    assert (problem.file, problem.line, problem.flow, problem.step, problem.field) == (
        str(tree.path(MAIN)),
        tree.line(MAIN, "  - id: place_2"),
        "karlslund",
        "place_2",
        "image",
    )
    assert problem.message == f"image 'badet.jpg' is not in {tree.flows}"


def test_an_image_file_that_exists_and_an_image_url_are_fine(tree: Tree) -> None:
    tree.edit(
        MAIN,
        "      name: Karlslundsbadet\n",
        "      name: Karlslundsbadet\n      image: badet.jpg\n",
    )
    tree.edit(
        EASY,
        "  - id: intro\n    type: message\n",
        "  - id: intro\n    type: message\n    image: https://example.org/hej.png\n",
    )
    (tree.flows / "badet.jpg").write_bytes(b"\xff\xd8\xff")
    library = tree.load()
    main = library.flow("karlslund")
    assert main is not None
    place = main.step("place_2").place
    assert place is not None
    assert place.image == "badet.jpg"


def test_a_missing_step_image_file(tree: Tree) -> None:
    tree.edit(
        EASY,
        "  - id: intro\n    type: message\n",
        "  - id: intro\n    type: message\n    image: hej.png\n",
    )
    problem = tree.problem()
    assert (problem.file, problem.step, problem.field) == (str(tree.path(EASY)), "intro", "image")
    assert "image 'hej.png' is not in" in problem.message


def test_a_language_offered_without_a_catalog(tree: Tree) -> None:
    shutil.rmtree(tree.locales / "pl")
    problem = tree.problem()
    assert (problem.file, problem.flow, problem.field) == (
        str(tree.path(MAIN)),
        "karlslund",
        "languages",
    )
    assert problem.message == (
        f"language 'pl' is offered but {tree.locales}/pl/LC_MESSAGES/trygg.po does not exist"
    )


def test_two_files_defining_the_same_flow_id_and_version(tree: Tree) -> None:
    shutil.copy(tree.path(MAIN), tree.path("karlslund-copy.yaml"))
    problem = tree.problem()
    files = {str(tree.path(MAIN)), str(tree.path("karlslund-copy.yaml"))}
    assert problem.file in files
    (other,) = files - {problem.file}
    assert (problem.line, problem.flow) == (1, "karlslund")
    assert problem.message == f"version 1 is also defined in {other}"


def test_two_versions_of_a_flow_side_by_side(tree: Tree) -> None:
    text = tree.path(MAIN).read_text(encoding="utf-8")
    assert "version: 1\n" in text
    tree.path(MAIN).write_text(
        text.replace("version: 1\n", "version: 2\n").replace(
            "title: Trygghet i Karlslund\n", "title: Trygghet i Karlslund 2\n"
        ),
        encoding="utf-8",
    )
    tree.write("karlslund.v1.yaml", text)
    library = tree.load()
    assert sorted(library.flows) == [("karlslund", 1), ("karlslund", 2), ("karlslund-lattlast", 1)]
    newest = library.flow("karlslund")
    assert newest is not None
    assert (newest.version, newest.title) == (2, "Trygghet i Karlslund 2")
    first = library.flow("karlslund", 1)
    assert first is not None
    assert (first.version, first.title) == (1, "Trygghet i Karlslund")
    assert first.source_file == str(tree.path("karlslund.v1.yaml"))
    assert library.flow("karlslund", 3) is None
    assert library.flow("nope") is None
    assert [(f.id, f.version) for f in library.current_flows()] == [
        ("karlslund", 2),
        ("karlslund-lattlast", 1),
    ]


def test_problems_in_several_files_are_all_reported(tree: Tree) -> None:
    tree.write("broken.yaml", "flow: broken\n\x00\n")
    tree.edit(EASY, "title: Trygghet i Karlslund, lättläst\n", "")
    tree.edit(CAMPAIGN, "default_language: sv", "default_language: de")
    problems = tree.problems()
    assert [(Path(p.file).name, p.line, p.field) for p in problems] == [
        ("broken.yaml", 2, None),
        # A missing key is reported where the mapping starts, after the opening comments.
        (EASY, tree.line(EASY, "flow: karlslund-lattlast"), "title"),
        (CAMPAIGN, 1, "default_language"),
        # The broken easy-read flow is left out, so the source naming it is reported too.
        (CAMPAIGN, 1, "sources"),
    ]
    assert "not allowed" in problems[0].message
    assert problems[1].message == "'title' is missing"


def test_a_problem_inside_a_campaign_file_names_the_campaign_and_source(tree: Tree) -> None:
    tree.edit(CAMPAIGN, "  - id: badet\n", "  - id: badet\n    flwo: karlslund\n")
    problem = tree.problem()
    assert (problem.file, problem.line, problem.campaign, problem.field) == (
        str(tree.path(CAMPAIGN)),
        tree.line(CAMPAIGN, "    flwo: karlslund"),
        "karlslund",
        "flwo",
    )
    assert problem.message.startswith("source 'badet': unknown key 'flwo' in a source")
    assert "(did you mean 'flow'?)" in problem.message


# --- entry keywords and links -----------------------------------------------------------------


@pytest.fixture(scope="module")
def campaigns() -> tuple[Campaign, ...]:
    return load_library().campaigns


@pytest.mark.parametrize("text", ["TRYGG", "trygg", " Trygg ", "trygg!"])
def test_the_keyword_alone_enters_the_campaign_without_a_source(
    text: str, campaigns: tuple[Campaign, ...]
) -> None:
    assert parse_keyword_entry(text, campaigns) == Entry(campaigns[0], None, None)


@pytest.mark.parametrize(
    ("text", "source_id"),
    [
        ("trygg badet", "badet"),
        ("Trygg Badet!", "badet"),
        ("TRYGG  BADET", "badet"),
        ("TRYGG lss", "lss"),
        ("trygg Pilängskolan", "pilangskolan"),
    ],
)
def test_the_keyword_and_a_source_enter_through_that_source(
    text: str, source_id: str, campaigns: tuple[Campaign, ...]
) -> None:
    entry = parse_keyword_entry(text, campaigns)
    assert entry is not None
    assert entry.campaign is campaigns[0]
    assert entry.source is not None
    assert entry.source.id == source_id
    assert entry.unknown_source is None


def test_the_keyword_and_an_unknown_source(campaigns: tuple[Campaign, ...]) -> None:
    entry = parse_keyword_entry("TRYGG okänd", campaigns)
    assert entry == Entry(campaigns[0], None, "okänd")


@pytest.mark.parametrize("text", ["hej", "", "   ", "trygg badet nu", "TRYGGA", "badet"])
def test_other_texts_are_no_entry(text: str, campaigns: tuple[Campaign, ...]) -> None:
    assert parse_keyword_entry(text, campaigns) is None


def test_an_overlong_entry_is_no_entry(campaigns: tuple[Campaign, ...]) -> None:
    assert parse_keyword_entry("trygg " + "x" * 100, campaigns) is None


def test_a_keyword_entry_finds_the_right_one_of_several_campaigns() -> None:
    shipped = load_campaign_text((DEFAULT_FLOWS_DIR / CAMPAIGN).read_bytes(), CAMPAIGN)
    other = load_campaign_text(second_campaign(), "other.campaign.yaml")
    entry = parse_keyword_entry("koll torget", (shipped, other))
    assert entry is not None
    assert entry.campaign is other
    assert entry.source is not None
    assert entry.source.id == "torget"


@pytest.mark.parametrize(
    ("payload", "source_id"), [("badet", "badet"), ("BADET", "badet"), (" lss ", "lss")]
)
def test_a_deep_link_resolves_its_source(
    payload: str, source_id: str, campaigns: tuple[Campaign, ...]
) -> None:
    entry = resolve_source(payload, campaigns)
    assert entry is not None
    assert entry.campaign is campaigns[0]
    assert entry.source is not None
    assert entry.source.id == source_id


@pytest.mark.parametrize("payload", [None, "", "okänd", "trygg"])
def test_an_unknown_deep_link_resolves_to_nothing(
    payload: str | None, campaigns: tuple[Campaign, ...]
) -> None:
    assert resolve_source(payload, campaigns) is None
