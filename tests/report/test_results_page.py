"""The measured results page (``--results-page``) regenerates from a fixture tree of records, line for line.

The tree is the report's (``tree.make_tree``), with completion records added
where its training results have none, fixed dates, wall times and
environments, a transfer sweep at quick settings, label-noise points and a
benchmark record, so that every line of the page is known: resampling is
left missing. A bad record shows its sentence; missing and unfinished
experiments say so with their commands.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.core.run import COMPLETE_NAME, CONFIG_NAME, settings_digest, stored_settings
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.lenet import read_metrics
from pyimagesearch.records.semisupervised import LabelNoiseResults, LabelNoiseRow
from pyimagesearch.report.command import main
from pyimagesearch.report.render_markdown import escape
from pyimagesearch.report.results_page import GENERATED, render, working_tree_commit
from tests.report.tree import INJECTED, make_tree, write_json
from tests.test_benchmark_record import RESULTS as BENCHMARK

FINISHED = "2026-11-27T18:40:00+00:00"
ENVIRONMENT = {"python": "3.11.7", "machine": "x86_64", "numpy": "2.4.6", "tensorflow": "2.21.0", "keras": "3.15.1"}
# Wall times of the completion records, by folder relative to the root; every other record gets DEFAULT_WALL.
WALL = {"find_lr": 24.2, "lr_grid": 223.0, "clr": 252.4, "batch_growth": 35.0, "comparison": 20.4,
        "transfer/digits": 30.0, "benchmarks": 95.0, "detection": 2.6}
DEFAULT_WALL = 0.4
HEAD = "0123abc"


def complete(folder: Path, kind: str, quick: bool = False, summary: dict | None = None, config: dict | None = None):
    """The completion record ``RunFolder.complete`` writes, for a folder of results the tree wrote without one."""
    if config is not None:
        write_json(folder / CONFIG_NAME, {**config, "settings_keys": sorted(config)})
    settings = stored_settings(json.loads((folder / CONFIG_NAME).read_text()))
    write_json(folder / COMPLETE_NAME, {"schema": 1, "kind": kind, "settings_sha256": settings_digest(settings),
                                        "quick": quick, "finished": FINISHED, "wall_seconds": 0.0,
                                        "summary": summary or {}})


def noise_row(name: str, noise: float, changed: int, test: float, drop: float | None, p: float | None) -> LabelNoiseRow:
    tested = p is not None
    return LabelNoiseRow(name=name, test_accuracy=test, val_accuracy=test, train_images=9000, steps=420, train_time_s=10.0,
                         mcnemar_b=120 if tested else None, mcnemar_c=1080 if tested else None, mcnemar_p=p,
                         noise_percent=noise, changed=changed, train_accuracy=0.9 - noise / 100,
                         train_accuracy_true=0.9, changed_fit_noisy=0.02 if changed else None,
                         changed_predict_true=0.86 if changed else None, drop_vs_clean=drop)


def results_tree(root: Path) -> Path:
    make_tree(root)
    complete(root / "find_lr", "lr-range-test")
    complete(root / "lr_grid", "lr-grid")
    complete(root / "clr", "lenet-seeds")
    complete(root / "batch_growth", "lenet-run", quick=True)
    complete(root / "comparison", "lenet-comparison", config={"compare": [str(root / "clr"), str(root / "batch_growth")]})
    sweep = root / "transfer" / "digits"
    shutil.copytree(root / "transfer" / INJECTED, sweep)
    complete(sweep, "transfer-sweep", quick=True, config={"dataset": "digits"},
             summary={"quick_because": ["random weights (--weights none)", "2 epochs, not the task's 50"]})
    LabelNoiseResults(points=[noise_row("p0", 0.0, 0, 0.8043, None, None),
                              noise_row("p50", 50.0, 4500, 0.7083, -0.096, 1e-5)]).write(
        root / "semisupervised" / "label-noise" / "quick")
    write_json(root / "benchmarks" / "results.json", BENCHMARK)
    complete(root / "benchmarks", "benchmark", quick=True, config={"quick": True, "rounds": 3})
    for path in root.rglob(CONFIG_NAME):
        write_json(path, {**json.loads(path.read_text()), "environment": ENVIRONMENT})
    for path in root.rglob(COMPLETE_NAME):
        wall = WALL.get(path.parent.relative_to(root).as_posix(), DEFAULT_WALL)
        write_json(path, {**json.loads(path.read_text()), "finished": FINISHED, "wall_seconds": wall})
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return results_tree(tmp_path_factory.mktemp("output"))


@pytest.fixture
def copy(tree, tmp_path) -> Path:
    """A copy of the tree that a test may change."""
    return Path(shutil.copytree(tree, tmp_path / "output"))


def page_lines(root: Path) -> list[str]:
    return render(root, HEAD, "2026-12-03 10:00").splitlines()


def section(lines: list[str], heading: str) -> list[str]:
    """The lines of the part that starts at ``heading``, up to the next heading of its level or above."""
    start = lines.index(heading)
    level = heading.split(" ")[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")
                and len(lines[i].split(" ")[0]) <= len(level)), len(lines))
    return lines[start:end]


def test_the_page_is_the_same_for_the_same_tree_but_for_its_generated_line(tree):
    first, second = render(tree, HEAD, "2026-12-03 10:00"), render(tree, HEAD, "2026-12-04 11:30")
    differ = [(a, b) for a, b in zip(first.splitlines(), second.splitlines()) if a != b]
    assert differ == [("Generated 2026-12-03 10:00.", "Generated 2026-12-04 11:30.")]
    assert len(first.splitlines()) == len(second.splitlines())


def test_the_header_gives_dates_commit_machine_and_cpu_from_the_records(tree):
    lines = page_lines(tree)
    assert lines[lines.index("| the results |  |"):lines.index("## Run times") - 1] == [
        "| the results |  |", "| --- | --- |",
        "| results finished (UTC) | 2026-11-27; 13 of 14 experiments |",
        "| commit | 0123abc (the working tree's when this page was written; the runs do not record their code's) |",
        "| machine (every run) | x86_64, Python 3.11.7; keras 3.15.1, numpy 2.4.6, tensorflow 2.21.0 |",
        "| CPU | 2 CPU cores (the benchmarks' record) |",
    ]


def test_run_times_give_each_experiment_at_the_settings_it_ran(tree):
    rows = section(page_lines(tree), "## Run times")
    assert rows[4:7] == ["| question | experiment | settings | wall time | finished (UTC) |",
                         "| --- | --- | --- | ---: | ---: |",
                         "| 1.1 | LR range test | full | 24 s | 2026-11-27 18:40 |"]
    for row in ("| 1.1 | LR grid: 10 learning rates from 1e-9 to 1e1 | full | 3 min 43 s | 2026-11-27 18:40 |",
                "| 1.2 | Cyclical LR, exp_range | full | 4 min 12 s | 2026-11-27 18:40 |",
                "| 1.3 | Batch size doubled from 32 to 4096 at lr_max | quick | 35 s | 2026-11-27 18:40 |",
                "| 1.3 | Batch growth against the cyclical LR | quick | 20 s | 2026-11-27 18:40 |",
                "| 2.5 (c-d) | Region proposals and NMS on a photo | full | 3 s | 2026-11-27 18:40 |",
                "| 3.1 (a-c), 3.2 (a-b) | ResNet50 transfer learning on the offline stand-in (digits, a Fashion-MNIST base) "
                "| quick | 30 s | 2026-11-27 18:40 |",
                "| 4.2 (a-b) | Resampling a long tail (Mahajan et al.), LeNet-5 on Fashion-MNIST | not computed yet | - "
                "| - |",
                "| - | Benchmarks | quick | 1 min 35 s | 2026-11-27 18:40 |"):
        assert row in rows
    assert len([row for row in rows if row.startswith("| ")]) == 2 + 14 + 1


def test_the_cyclical_lr_shows_the_seeds_numbers_from_their_aggregate(tree):
    lines = section(page_lines(tree), "#### Cyclical LR, exp_range")
    assert lines[2] == f"Full settings (the task's): finished 2026-11-27 18:40 UTC in 4 min 12 s; results in `{tree}/clr`."
    assert lines[4].startswith("Settings: policy clr; momentum 0.9; seed 42;") and lines[4].endswith("; seeds 42, 1.")
    assert lines[6:] == [
        "| measured | value |", "| --- | ---: |",
        "| seeds | 42, 1 |",
        "| test accuracy, mean | **90.98%** (sd 0.08 points) |",
        "| test accuracy per seed | 90.92%, 91.04% |",
        "| generalization gap (train - test accuracy), mean | +2.00 points |",
        "| epochs | 20 |",
        "| optimizer steps, mean | 16,880 |",
        "| training time per seed | 42 s |",
        "",
    ]


def test_quick_results_say_so_and_give_the_command_at_the_task_settings(tree):
    lines = section(page_lines(tree), "#### Label noise (Mahajan et al.), LeNet-5 on Fashion-MNIST")
    assert lines[2] == ("Quick settings (a subset, smaller budgets: not the task's numbers): finished 2026-11-27 18:40 UTC "
                        f"in 0 s; results in `{tree}/semisupervised/label-noise/quick`. At the task's settings: "
                        f"`python -m pyimagesearch.semisupervised label-noise --output {tree}/semisupervised/label-noise`.")
    assert lines[6:] == ["| p % | labels replaced | test accuracy | vs p = 0 | McNemar p |",
                         "| --- | ---: | ---: | ---: | ---: |",
                         "| 0 | 0 | 80.43% | - | - |",
                         "| 50 | 4,500 | 70.83% | -9.60 points | <0.001 |", ""]
    comparison = section(page_lines(tree), "#### Batch growth against the cyclical LR")
    assert comparison[2].endswith(f"results in `{tree}/comparison`. Its runs were made at quick settings.")
    assert f"| A: test accuracy, mean | 90.92% (`{tree}/clr/seed-42`) |" in comparison
    assert "| A - B, test accuracy | +7.53 points (one pair: no interval) |" in comparison


def test_transfer_shows_its_data_set_runs_and_why_it_is_quick(tree):
    lines = section(page_lines(tree), "### 3.1 (a-c) Fine-tuning ResNet50 on a target data set")
    assert "| data set | &lt;script&gt;alert(1): 3 classes |" in lines  # a name from a file is text, never markup
    assert "| training images | 30 (8 to 12 per class, median 10) |" in lines
    assert "| 0.001 | - | 40.0% | 40.0% (2) | 2 | 12 | none |  |" in lines  # no selection split: no selection figure
    assert lines[-2] == "Quick because: random weights (--weights none); 2 epochs, not the task's 50."
    feature = section(page_lines(tree), "### 3.2 (a-b) ResNet50 as a fixed feature extractor")
    assert "| 0.1 | - | 50.0% | 50.0% (2) | 2 | 12 | none |  |" in feature and "| 0.001 |" not in "\n".join(feature)
    # The winner and the comparison in summary.md's words, from the verdicts: 6 validation images decide nothing.
    assert any(line.startswith("**No winner") for line in feature), feature
    assert any(line.startswith("On the validation images, ") for line in feature), feature


def test_the_calculators_and_the_benchmarks_show_their_numbers(tree):
    lines = page_lines(tree)
    assert "| parameters | 60,965,224 |" in section(lines, "### 2.1 AlexNet's parameters, layer by layer")
    assert "| receptive field of the stack | 13x13 |" in section(lines, "#### Receptive field of three 5x5 convolutions")
    inception = section(lines, "#### Inception modules at 32x32x256")
    assert ["| multiply-adds, naive module | 1,115,684,864 |", "| multiply-adds, with 1x1 reductions | 354,418,688 |",
            "| multiply-adds saved by the reductions | 68.2% |"] == [line for line in inception if "multiply-adds" in line]
    assert "| anchors | 18 x 28 positions x 9 = 4,536 |" in section(lines, "#### Region proposals and NMS on a photo")
    bench = section(lines, "## Benchmarks")
    assert ("| LeNet-5 training, images/s, against model.fit with the CyclicLR callback (5,400 images, 3 rounds) | 5,400 "
            "| 3,600 | 1.50x | 1.27 / 1.50 / 1.78 | met |") in bench
    assert ("Peak resident memory: find_lr.py 1,400 MiB, one transfer epoch 2,100 MiB; importing TensorFlow and Keras "
            "600 MiB.") in bench
    assert bench[-1] == "Load average over the last minute: 0.39 before, 1.58 after throughput."


def test_missing_experiments_say_so_with_their_commands(tree):
    lines = section(page_lines(tree), "#### Resampling a long tail (Mahajan et al.), LeNet-5 on Fashion-MNIST")
    assert lines[2:] == [
        f"Not computed yet: `python -m pyimagesearch.semisupervised resampling --output {tree}/semisupervised/resampling` "
        f"(the task's settings), or `python -m pyimagesearch.semisupervised resampling --quick --output "
        f"{tree}/semisupervised/resampling/quick` (quick settings).", ""]


def test_an_unfinished_run_and_missing_benchmarks_say_so(copy):
    (copy / "lr_grid" / COMPLETE_NAME).unlink()
    shutil.rmtree(copy / "benchmarks")
    lines = page_lines(copy)
    assert section(lines, "#### LR grid: 10 learning rates from 1e-9 to 1e1")[2] == (
        f"Unfinished: a run began in `{copy}/lr_grid` but wrote no completion record; `python find_lr.py --grid 10 "
        f"--epochs 5 --batch 64 --output {copy}/lr_grid` continues it (at quick settings: `python find_lr.py --grid 10 "
        f"--epochs 1 --batch 64 --limit 5000 --output {copy}/lr_grid`).")
    assert "| 1.1 | LR grid: 10 learning rates from 1e-9 to 1e1 | unfinished | - | - |" in lines
    assert section(lines, "## Benchmarks")[2:] == [
        "Not computed yet: `python benchmarks/run.py` (quick: `python benchmarks/run.py --quick`)."]
    assert "| CPU | not recorded by the runs |" in lines


def test_a_bad_record_shows_its_sentence_instead_of_its_numbers(copy):
    path = copy / "clr" / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics["test_accuracy"]["values"] = [1.7, 0.9104]
    metrics["test_accuracy"]["mean"] = 1.3052
    path.write_text(json.dumps(metrics))
    with pytest.raises(RecordError) as raised:
        read_metrics(copy / "clr")
    sentence = str(raised.value)
    assert sentence.startswith(f"{path}: test_accuracy of seed 42 = 1.7 is not an accuracy")
    lines = page_lines(copy)
    clr = section(lines, "#### Cyclical LR, exp_range")
    assert clr[6:] == [f"Not shown: {escape(sentence)}. Run the command again with `--overwrite` to make it anew.", ""]
    shown = "\n".join(clr).replace(str(copy), "")  # the fixture's folder name may hold any number
    assert "130" not in shown and "170" not in shown
    assert "| lr_min | 2.78e-05 |" in section(lines, "#### LR grid: 10 learning rates from 1e-9 to 1e1")

    (copy / "benchmarks" / "results.json").write_text('{"quick": true')
    bench = section(page_lines(copy), "## Benchmarks")
    assert bench[2].startswith(f"Not shown: {copy}/benchmarks/results.json") and "truncated" in bench[2]


def test_runs_in_other_environments_are_named_with_their_commit(copy):
    config = copy / "architectures" / "alexnet" / CONFIG_NAME
    other = {"python": "3.12.1", "machine": "aarch64", "cpu_count": 8, "commit": "feedbee", "keras": "3.16.0"}
    write_json(config, {**json.loads(config.read_text()), "environment": other})
    lines = page_lines(copy)
    assert "| commit | feedbee; the other runs do not record theirs |" in lines
    assert "| machine (alexnet) | aarch64, Python 3.12.1, 8 CPUs; keras 3.16.0 |" in lines
    assert any(line.startswith("| machine (find_lr, lr_grid, clr, ") for line in lines)
    assert not any(line.startswith("| CPU |") for line in lines)


def test_the_command_writes_the_page_beside_the_report(copy, tmp_path):
    page = tmp_path / "docs" / "results.md"
    page.parent.mkdir()
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["--output-root", str(copy), "--results-page", str(page)]) == 0
    assert f"written {page.resolve()}" in out.getvalue() and (copy / "report" / "index.html").is_file()
    written = page.read_text(encoding="utf-8").splitlines()
    expected = render(copy, working_tree_commit(), "now").splitlines()
    keep = [i for i, line in enumerate(expected) if not line.startswith(GENERATED)]
    assert [written[i] for i in keep] == [expected[i] for i in keep] and len(written) == len(expected)
    assert working_tree_commit() != "" and f"| commit | {working_tree_commit()} " in "\n".join(written)


@pytest.mark.parametrize("where, says", [("folder", "is a folder; name the Markdown file to write"),
                                         ("nowhere/results.md", "does not exist; create it"),
                                         ("", "is empty; name the Markdown file to write")])
def test_a_page_path_that_cannot_be_written_is_refused_before_anything_runs(copy, tmp_path, capsys, where, says):
    (tmp_path / "folder").mkdir()
    target = str(tmp_path / where) if where else ""
    assert run(main, ["--output-root", str(copy), "--results-page", target]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --results-page ") and says in err and len(err.strip().splitlines()) == 1
    assert not (copy / "report").exists()


def test_a_finished_study_is_shown_as_written_and_a_missing_one_by_its_command(tmp_path):
    study = tmp_path / "lr_rule_study"
    study.mkdir()
    (study / "study.md").write_text("# lr_max rules: CLR exp_range\n\n| rank | lr_max rule |\n|---:|---|\n"
                                    "| 1 | drop90 (chosen) |\n\nChosen: drop90.\n")
    complete(study, "lr-rule-study", config={"seeds": [42, 1, 2], "rules": ["drop90"]})
    lines = section(page_lines(tmp_path), "## Studies")
    rule = section(lines, "### The lr_max rule study")
    assert rule[2] == f"Full settings: finished 2026-11-27 18:40 UTC in 0 s; results in `{study}`."
    assert rule[4:] == ["#### lr_max rules: CLR exp_range", "", "| rank | lr_max rule |", "|---:|---|",
                        "| 1 | drop90 (chosen) |", "", "Chosen: drop90.", "",
                        "The default now (the code, not the study's text, which names the default of its day): "
                        "`lr_range.DEFAULT_LR_MAX_RULE` = minimum/3.", ""]
    step = section(lines, "### The CLR step-size study")
    assert step[2] == ("Not run here: `python benchmarks/lr_rule_study.py --seeds 42,1,2 --step-sizes 2.5,5,10 "
                       "--output output/lr_step_study`.")


def test_the_stand_in_and_ray_benchmarks_are_rows_of_the_benchmark_table(tmp_path):
    from tests.test_benchmark_ray import SWEEP
    from tests.test_benchmark_standin import STANDIN

    write_json(tmp_path / "benchmarks" / "results.json", {**STANDIN, "grid_ray": SWEEP})
    complete(tmp_path / "benchmarks", "benchmark", config={"quick": False, "rounds": 3, "steps": ["precision"]})
    bench = section(page_lines(tmp_path), "## Benchmarks")
    assert ("| python find_lr.py --grid 10 --epochs 5 --batch 64 --quiet (10 runs), s, on Ray (1 CPU per trial) "
            "against serial | 89.5 | 105.0 | 0.85 | 0.80 / 0.85 / 0.90 | - |") in bench
    assert ("| stand-in pretraining, images/s, mixed_bfloat16 against float32 (3,000 images, 2 rounds) | 127.5 | 155.0 "
            "| 0.82 | 0.75 / 0.82 / 0.90 | - |") in bench
    assert ("| stand-in transfer epoch after the first, s, feature mode against finetune (digits, 32 px) | 0.050 | 9.15 "
            "| 183x | - | - |") in bench
