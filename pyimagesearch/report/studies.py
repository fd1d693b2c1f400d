"""The results page's studies: the choices of Problem 1's defaults, each as its study wrote it.

``benchmarks/lr_rule_study.py`` writes study.md from its runs' records
(``records.lenet.RunMetrics``, through study.csv): the lr_max rules, or with
``--step-sizes`` the CLR step sizes, ranked and chosen on validation
accuracy with the test column beside. The page shows a finished study
(its completion record) as written, its headings moved under the page's
own, or the command that makes it.
"""

from __future__ import annotations

from pathlib import Path

from pyimagesearch.core.run import completion
from pyimagesearch.report.durations import duration
from pyimagesearch.report.render_markdown import code_span

STUDY = "python benchmarks/lr_rule_study.py --seeds 42,1,2"
# (folder under the output root, title, the command that writes it there)
STUDIES = (
    ("lr_rule_study", "The lr_max rule study", f'{STUDY} --rules "minimum,minimum/3,drop90,steepest*10"'),
    ("lr_step_study", "The CLR step-size study", f"{STUDY} --step-sizes 2.5,5,10 --output output/lr_step_study"),
)


def study_lines(root: Path) -> list[str]:
    """The "Studies" section: each finished study's study.md, or the command for one not run or unfinished."""
    lines = ["", "## Studies", "",
             "How Problem 1's defaults were chosen: on validation accuracy, over seeds, the test column beside "
             "and no part of the choice (`lenet.choices.SPLIT_DISCIPLINE`)."]
    for folder_name, title, command in STUDIES:
        folder = Path(root) / folder_name
        record = completion(folder)
        lines += ["", f"### {title}", ""]
        study = folder / "study.md"
        if record is None or not study.is_file():
            state = "unfinished" if (folder / "config.json").is_file() else "not run"
            lines.append(f"{state.capitalize()} here: {code_span(command)}.")
            continue
        finished = str(record.get("finished", ""))[:16].replace("T", " ")
        lines += [f"{'Quick' if record.get('quick') else 'Full'} settings: finished {finished} UTC in "
                  f"{duration(record.get('wall_seconds') or 0)}; results in {code_span(str(folder))}.", ""]
        for line in study.read_text(encoding="utf-8").splitlines():
            lines.append("####" + line[1:] if line.startswith("# ") else line)
        lines += ["", f"The default now (the code, not the study's text, which names the default of its day): "
                      f"{current_default(folder_name)}."]
    return lines


def current_default(folder_name: str) -> str:
    """What the code's default is today for the choice a study makes."""
    if folder_name == "lr_rule_study":
        from pyimagesearch.lr_range import DEFAULT_LR_MAX_RULE

        return f"`lr_range.DEFAULT_LR_MAX_RULE` = {DEFAULT_LR_MAX_RULE}"
    from pyimagesearch.lenet.settings import OPTIONS

    return f"train_lenet.py --step-size {OPTIONS['step_size'].default:g} epochs"
