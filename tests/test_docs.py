"""README and docs/ say only what is true of the code: the front door's shape, links, commands and flags.

- README is at most 300 lines, starts with the two commands (set-up then the report; set-up then the
  tests, the very command CI runs), and holds the homework map in its first 80 lines: every question,
  with the command and the folder that ``pyimagesearch/report/questions.py`` gives it;
- every relative link of README and docs/ resolves, to a file and, after ``#``, to a heading's
  GitHub-style anchor;
- every command named in a code span or block (``python find_lr.py ...``, ``python -m
  pyimagesearch.<command> [sub] ...``) exists, and every ``--flag`` given to it is an option of that
  command's parser; a ``--flag`` named on its own is an option of a command the same page names;
- every flag of every command's parser is explained on the page of its problem.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import shlex
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from pyimagesearch.report.questions import EXPERIMENTS, QUESTIONS, READING_QUESTIONS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAP_LINES = 80
MAX_README_LINES = 300

# Flags of other programs that the docs name in prose (chromium's, for printing the report to PDF).
FOREIGN_FLAGS = {"--no-sandbox"}

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")
SCRIPT = re.compile(r"(?:^|\s)(?:python3?\s+)?((?:benchmarks/)?[\w]+\.py)(?=\s|$)")
MODULE = re.compile(r"(?:^|\s)python3?\s+-m\s+(pyimagesearch(?:\.\w+)*)(?=\s|$)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


# -- reading the Markdown -------------------------------------------------------------------------------
def text_of(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def code_of(text: str) -> tuple[list[str], list[str]]:
    """The logical lines of the fenced blocks (continuations joined) and the inline code spans outside them."""
    lines = []
    for block in FENCE.findall(text):
        lines += [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    prose = FENCE.sub("", text)
    return lines, SPAN.findall(prose)


def tokens(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote in prose: plain words are enough to find flags
        return text.split()


def invocations(code: str) -> list[tuple[str, list[str]]]:
    """(command, arguments) for every project command in one line or span: "find_lr.py", "pyimagesearch.report" ..."""
    found = []
    for segment in re.split(r"&&|;|\|\|", code):
        match = MODULE.search(segment) or SCRIPT.search(segment)
        # A script run with python must exist; a bare "name.py" is a command only when it is one of the root's.
        if match and (match.re is MODULE or "python" in match.group(0) or (ROOT / match.group(1)).is_file()):
            found.append((match.group(1), tokens(segment[match.end():])))
    return found


def headings_anchors(text: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation but - and _ dropped, spaces as -, -1 -2 for repeats."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", text), re.M):
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "")
        slug = re.sub(r"[^\w\- ]", "", plain.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


# -- the commands' parsers ------------------------------------------------------------------------------
class _Parsed(Exception):
    def __init__(self, parser):
        self.parser = parser


def _captured_parser(main) -> argparse.ArgumentParser:
    """The parser ``main`` builds, taken at its ``parse_args`` call (for a script without ``build_parser``)."""
    original = argparse.ArgumentParser.parse_args

    def capture(self, *args, **kwargs):
        raise _Parsed(self)

    argparse.ArgumentParser.parse_args = capture
    try:
        main([])
    except _Parsed as parsed:
        return parsed.parser
    finally:
        argparse.ArgumentParser.parse_args = original
    raise AssertionError(f"{main} built no parser")


@lru_cache(maxsize=None)
def parser_of(command: str) -> argparse.ArgumentParser:
    """The argparse parser of ``find_lr.py``, ``benchmarks/run.py``, ``pyimagesearch.detection`` ..."""
    if command.endswith(".py"):
        path = ROOT / command
        name = "docs_" + command[:-3].replace("/", "_")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(command)
        if not hasattr(module, "build_parser"):
            module = importlib.import_module(f"{command}.command")
    if hasattr(module, "build_parser"):
        return module.build_parser()
    return _captured_parser(module.main)


def exists(command: str) -> bool:
    if command.endswith(".py"):
        return (ROOT / command).is_file()
    try:
        return importlib.util.find_spec(command) is not None
    except ModuleNotFoundError:  # a parent package that does not exist
        return False


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next((dict(action.choices) for action in parser._actions
                 if isinstance(action, argparse._SubParsersAction)), {})


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def all_options(parser: argparse.ArgumentParser) -> set[str]:
    """The parser's options and those of its subcommands."""
    return options(parser).union(*(options(sub) for sub in subcommands(parser).values()))


FLAG = re.compile(r"--[a-z0-9][a-z0-9-]*")


def flags_in(arguments: list[str]) -> list[str]:
    """The flags among ``arguments``: ``--grid=10`` gives ``--grid``, ``--output/worker-N/`` gives ``--output``."""
    return [FLAG.match(argument).group(0) for argument in arguments if FLAG.match(argument)]


def check_invocation(page: str, command: str, arguments: list[str]) -> list[str]:
    """What is wrong with ``command arguments`` as a page names it: unknown subcommands and flags."""
    if not exists(command):
        return [f"{page}: {command} is not a command of the project"]
    parser = parser_of(command)
    subs = subcommands(parser)
    problems = []
    known = all_options(parser)  # without a named subcommand: the options of any of them
    if subs and arguments and not arguments[0].startswith("-"):
        name = arguments[0]
        choices = name.split("|")  # "alexnet|vgg19" names two
        if not (name.isupper() or name == "..."):  # EXPERIMENT, ... stand for any
            problems += [f"{page}: {command} has no subcommand {choice!r}" for choice in choices if choice not in subs]
            if len(choices) == 1 and name in subs:
                known = options(subs[name])
    problems += [f"{page}: {command} has no flag {flag}" for flag in flags_in(arguments) if flag not in known]
    return problems


def page_names(page: Path) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """The command invocations and the lone flags (code spans that start with --) of a page."""
    lines, spans = code_of(text_of(page))
    calls = [call for code in lines + spans for call in invocations(code)]
    lone = [FLAG.match(span).group(0) for span in spans if FLAG.match(span) and not invocations(span)]
    return calls, lone


# -- README, the front door -----------------------------------------------------------------------------
def readme_commands() -> list[str]:
    first_block = FENCE.search(text_of(README)).group(1)
    return [line for line in first_block.splitlines() if line and not line.startswith("#")]


def test_readme_is_short():
    assert len(text_of(README).splitlines()) <= MAX_README_LINES


def test_readme_starts_with_two_commands_set_up_and_report_then_tests():
    main_job, tests = readme_commands()
    for command in (main_job, tests):
        assert command.startswith("apt-get update && apt-get install -y dataset-fashion-mnist python3-venv")
        assert " && python3 -m venv .venv && . .venv/bin/activate && pip install -e " in command
    assert main_job.endswith(" && python -m pyimagesearch.report --run quick")
    assert tests.endswith(" && python -m pytest -q")


def _apt_packages(command: str) -> set[str]:
    install = re.search(r"apt-get install -y ([^&]+)", command).group(1)
    return set(install.split())


def _requirement_lines(lines) -> set[str]:
    return {re.sub(r"\s+", "", line.split("#", 1)[0]) for line in lines if line.split("#", 1)[0].strip()}


def test_ci_runs_the_readme_test_command_on_the_same_set_up():
    _, tests = readme_commands()
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert any(line.startswith("apt-get update") for line in ci_lines)
    assert ci_lines[-1].endswith(" && python -m pytest -q"), "CI's last command is not README's test command"
    assert _apt_packages(ci_lines[-1]) == _apt_packages(tests)
    # README installs the package with its test extra; CI installs requirements.txt: the same packages.
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert 'pip install -e ".[test]"' in tests
    declared = _requirement_lines(project["dependencies"] + project["optional-dependencies"]["test"])
    assert declared == _requirement_lines((ROOT / "requirements.txt").read_text().splitlines())


def test_every_extra_the_docs_install_exists():
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("optional-dependencies", {})
    for page in PAGES:
        for named in re.findall(r"pip install -e \"?\.\[([\w,-]+)\]", text_of(page)):
            assert set(named.split(",")) <= set(extras), f"{page.name} installs extras {named}; pyproject has {extras}"


def map_rows() -> dict[str, str]:
    """The homework map: the table rows of README's first 80 lines, by their first cell."""
    rows = {}
    for line in text_of(README).splitlines()[:MAP_LINES]:
        if line.startswith("| "):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0]] = line
    return rows


def test_the_homework_map_is_in_the_first_80_lines():
    head = "\n".join(text_of(README).splitlines()[:MAP_LINES])
    assert "`python -m pyimagesearch.report --run quick`" in head
    rows = map_rows()
    computed = [spec.id for spec in QUESTIONS]
    read_only = sorted({question_id.split(" ")[0] for question_id, _, _ in READING_QUESTIONS})
    assert [question for question in computed if question not in rows] == []
    assert [number for number in read_only if not any(cell.split(" ")[0] == number for cell in rows)] == []
    for number in ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "4.1", "4.2", "4.3"):
        assert any(cell.split(" ")[0] == number for cell in rows), f"question {number} is not in README's map"


def test_the_map_gives_each_question_the_reports_command_and_folder():
    rows = map_rows()
    for spec in QUESTIONS:
        row = rows[spec.id]
        for key in spec.experiments:
            experiment = EXPERIMENTS[key]
            arguments = experiment.arguments("full", Path("output"))
            if "--output" in arguments:
                del arguments[arguments.index("--output"):arguments.index("--output") + 2]
            command = shlex.join(["python", *arguments])
            assert f"`{command}`" in row or f"`{command} " in row, f"{spec.id}: README's map lacks `{command}`"
            assert f"`output/{experiment.folder}" in row, f"{spec.id}: README's map lacks output/{experiment.folder}"
        assert re.search(r"\d+(\.\d+)? (s|min|h)\b", row), f"{spec.id}: README's map gives no time"


# -- links ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    text = SPAN.sub("", FENCE.sub("", text_of(page)))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and anchor not in headings_anchors(text_of(linked)):
            broken.append(f"{target} (no heading with that anchor)")
    assert broken == [], f"{page.name}: {broken}"


def test_anchors_follow_github():
    text = "# Problem 2.5: region proposals\n## 1.1 The LR range test: `find_lr.py`\n## `--run`\n## A\n## A\n"
    assert headings_anchors(text) == {"problem-25-region-proposals", "11-the-lr-range-test-find_lrpy", "--run",
                                      "a", "a-1"}


# -- commands and flags ---------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_command_and_flag_the_page_names_exists(page):
    calls, lone = page_names(page)
    name = page.relative_to(ROOT).as_posix()
    problems = [problem for command, arguments in calls for problem in check_invocation(name, command, arguments)]
    named = {command for command, _ in calls if exists(command)}
    known = set().union(*(all_options(parser_of(command)) for command in named)) if named else set()
    problems += [f"{name}: {flag} is an option of none of the page's commands ({', '.join(sorted(named))})"
                 for flag in lone if flag not in known and flag not in FOREIGN_FLAGS]
    assert problems == []


def test_the_flag_check_finds_what_is_wrong():
    assert check_invocation("p", "find_lr.py", ["--batch", "64", "--grid=10"]) == []
    assert check_invocation("p", "find_lr.py", ["--batch", "64", "--no-such-flag"]) == ["p: find_lr.py has no flag --no-such-flag"]
    assert check_invocation("p", "pyimagesearch.architectures", ["inception", "--n1x1", "3"]) == []
    assert check_invocation("p", "pyimagesearch.architectures", ["alexnet", "--n1x1", "3"]) == [
        "p: pyimagesearch.architectures has no flag --n1x1"]
    assert check_invocation("p", "pyimagesearch.architectures", ["resnet"]) == [
        "p: pyimagesearch.architectures has no subcommand 'resnet'"]
    assert check_invocation("p", "pyimagesearch.nope", []) == ["p: pyimagesearch.nope is not a command of the project"]
    assert check_invocation("p", "find_lrr.py", ["--batch"]) == ["p: find_lrr.py is not a command of the project"]
    assert invocations("python find_lr.py --batch 64 && python -m pytest -q") == [("find_lr.py", ["--batch", "64"])]
    assert invocations("python -m pyimagesearch.report --run quick  # note --x") == [
        ("pyimagesearch.report", ["--run", "quick"])]


PAGE_OF = {
    "find_lr.py": "docs/problem1.md",
    "train_lenet.py": "docs/problem1.md",
    "benchmarks/lr_rule_study.py": "docs/problem1.md",
    "pyimagesearch.architectures": "docs/problem2.md",
    "pyimagesearch.detection": "docs/problem2-5.md",
    "transfer.py": "docs/problem3.md",
    "pyimagesearch.semisupervised": "docs/problem4.md",
    "pyimagesearch.report": "docs/report.md",
    "benchmarks/run.py": "docs/design.md",
}


@pytest.mark.parametrize("command", sorted(PAGE_OF))
def test_every_flag_of_a_command_is_explained_on_its_page(command):
    page = text_of(ROOT / PAGE_OF[command])
    parser = parser_of(command)
    actions = [action for sub in [parser, *subcommands(parser).values()] for action in sub._actions
               if "--help" not in action.option_strings]
    flags = [[flag for flag in action.option_strings if flag.startswith("--")] for action in actions]
    missing = [names for names in flags if names and not any(f"`{flag}" in page for flag in names)]
    assert any(flags) and missing == [], f"flags of {command} missing from {PAGE_OF[command]}: {missing}"
