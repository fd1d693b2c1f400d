"""Which lr_max rule makes the best cyclical run? The LR range test once per seed, then CLR for each rule.

For each seed S: ``find_lr.py --batch 64 --seed S`` once (into <output>/finder-seed-S/),
each rule of ``lr_range.LR_MAX_RULES`` applied to that run's lag-free curve
(<output>/finder-seed-S/suggestion-<rule>.json), and for each rule
``train_lenet.py --policy clr --mode exp_range --from-finder <that file> --seed S``
with train_lenet.py's defaults otherwise (20 epochs and its step size), into
<output>/<rule>/seed-S/. Rules run one after the other, each over every seed, so a
study cut short has whole rules. Finished finder runs and training runs are
kept (their completion records say which): started again with the same
settings, the study resumes; other settings are refused unless --overwrite. After every run (on Ray:
after them all) it rewrites
study.csv (one row per rule and seed) and study.md (per rule: the range per seed; validation
and test accuracy per seed, their mean, standard deviation and paired difference from the best
rule; the rules ranked, and one chosen, by validation accuracy alone: ``lenet.choices``).

Each run is a trial of ``core.sweep``, the command in a process of its own
(``lenet.executor.run_command``): one after another (--executor serial), or
side by side on Ray Tune (--executor ray), the range tests first, then the CLR
runs. A CLR run that ends in its one sentence (a diverged run) is logged and
the study goes on without it.

With ``--step-sizes 2.5,5,10`` the study compares CLR step sizes instead, at the
one rule of ``--rules`` (default: ``lr_range.DEFAULT_LR_MAX_RULE``): the same range
tests, then one run per step size and seed, into <output>/step-<S>/seed-S/, ranked
and chosen on validation accuracy the same way.

usage: python benchmarks/lr_rule_study.py [--seeds 42,1,2] [--rules minimum,drop90] [--limit N] [--epochs E]
                                          [--step-sizes 2,2.5,4] [--executor serial|ray] [--trial-cpus C]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyimagesearch.core.cli import ArgumentParser, HelpFormatter, UserError, run  # noqa: E402
from pyimagesearch.core.outputs import read_json, write_csv, write_text  # noqa: E402
from pyimagesearch.core.run import RunFolder, completion  # noqa: E402
from pyimagesearch.core.sweep import add_executor_arguments, check_executor_arguments, run_trials  # noqa: E402
from pyimagesearch.lenet.executor import command_trial, run_command  # noqa: E402
from pyimagesearch.lenet.arguments import MAX_EPOCHS, count_up_to, output_argument  # noqa: E402
from pyimagesearch.lenet.choices import SPLIT_DISCIPLINE, Choice, choose_by_validation  # noqa: E402
from pyimagesearch.lenet.settings import OPTIONS  # noqa: E402
from pyimagesearch.lenet.seeds import MAX_SEED, MAX_SEEDS  # noqa: E402
from pyimagesearch.lr_range import DEFAULT_LR_MAX_RULE, LR_MAX_RULES, lag_free_losses, suggest_lr_range  # noqa: E402
from pyimagesearch.records.lenet import RunMetrics  # noqa: E402
from pyimagesearch.records.lr_finder import LRRangeSuggestion, read_finder_curve  # noqa: E402
from pyimagesearch.stats import t_interval  # noqa: E402

COLUMNS = ["variant", "rule", "step_size", "seed", "lr_min", "lr_max", "lr_at_minimum", "test_accuracy", "val_accuracy", "train_accuracy",
           "final_train_loss", "train_time_s"]


def folder_name(rule: str) -> str:
    """A rule's folder: ``steepest*10`` -> ``steepest-x10``, ``minimum/3`` -> ``minimum-div3``."""
    return rule.replace("*", "-x").replace("/", "-div")


def int_list(text: str) -> list[int]:
    """argparse type: a comma-separated list of at most ``MAX_SEEDS`` seeds, each in [0, ``MAX_SEED``]."""
    parts = [part for part in text.split(",", MAX_SEEDS + 1) if part.strip()]
    if not all(part.strip().isdigit() and len(part.strip()) <= 18 for part in parts):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a comma-separated list of integers from 0 to {MAX_SEED:,}")
    values = [int(part) for part in parts]
    if not values or len(values) > MAX_SEEDS or max(values) > MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: give 1 to {MAX_SEEDS:,} seeds, each from 0 to {MAX_SEED:,}")
    return values


DEFAULT_STEP_SIZE = OPTIONS["step_size"].default  # train_lenet.py's --step-size


def step_list(text: str) -> list[float]:
    """argparse type: comma-separated CLR step sizes in epochs, each positive and at most 1,000, at most 20 of them."""
    parts = [part.strip() for part in text.split(",", 21) if part.strip()]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if not values or len(values) > 20 or not all(0 < value <= 1000 for value in values):
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: give 1 to 20 step sizes in epochs, each above 0 and at most 1,000")
    return list(dict.fromkeys(values))


def step_label(step: float) -> str:
    return f"step {step:g}"


def rule_list(text: str) -> list[str]:
    rules = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [rule for rule in rules if rule not in LR_MAX_RULES]
    if unknown or not rules:
        raise argparse.ArgumentTypeError(f"{text!r}: rules are {', '.join(LR_MAX_RULES)}")
    return rules


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--seeds", type=int_list, default=[42, 1, 2], help="seeds of the finder and training runs")
    parser.add_argument("--rules", type=rule_list, default=None,
                        help=f"lr_max rules to compare, in order (default: all; with --step-sizes {DEFAULT_LR_MAX_RULE})")
    parser.add_argument("--epochs", type=count_up_to(MAX_EPOCHS, "the number of epochs"), default=None,
                        help="epochs per CLR run (default: train_lenet.py's)")
    parser.add_argument("--step-sizes", type=step_list, default=None,
                        help="compare these CLR step sizes (epochs per half cycle) at the one rule of --rules "
                             f"(default {DEFAULT_LR_MAX_RULE}) instead of comparing rules")
    parser.add_argument("--limit", type=count_up_to(10**9, "the number of images"), default=None,
                        help="only the first N images (quick check)")
    parser.add_argument("--output", type=output_argument, default=Path("output/lr_rule_study"), help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace a study of other settings in --output")
    add_executor_arguments(parser)
    return parser


def run_study_trials(trials, args, log, name: str, go_on: bool = False, after=None) -> None:
    """The study's runs as trials; with ``go_on`` a run's one-sentence failure is logged and the others still run.

    Serially that means one sweep per run (a failure ends only its own), and
    ``after()`` is called after each; on Ray every run goes at once, each
    failure is logged as it comes, and ``after()`` is called at the end.
    """
    for part in ([[trial] for trial in trials] if go_on and args.executor == "serial" else [trials]):
        for trial in part:
            if not completion(trial.folder):
                log(" ".join(["python", trial.settings["script"], *trial.settings["argv"]]))
        try:
            run_trials(part, run_command, args, name=name, log=log)
        except UserError as error:
            if not go_on:
                raise
            log(f"{error}")
        if after:
            after()


def finder_curve(folder: Path):
    """(lrs, lag-free losses, skip_begin, skip_end) of a finished range test (``records.lr_finder.FinderBatch`` rows)."""
    config = read_json(folder / "config.json", "finder config")
    rows = read_finder_curve(folder)
    raw = [float("nan") if row.raw_loss is None else row.raw_loss for row in rows]
    return [row.lr for row in rows], lag_free_losses(raw, config["beta"]), config["skip_begin"], config["skip_end"]


def variants(rules, step_sizes) -> list[tuple[str, str, float | None]]:
    """The study's (label, rule, step size or None): one per rule, or one per step size at the one rule."""
    if step_sizes is None:
        return [(rule, rule, None) for rule in rules]
    return [(step_label(step), rules[0], step) for step in step_sizes]


def run_folder(output: Path, rule: str, step: float | None, seed: int) -> Path:
    return output / (folder_name(rule) if step is None else f"step-{step:g}") / f"seed-{seed}"


def study_rows(output: Path, rules, seeds, step_sizes=None) -> list[dict]:
    rows = []
    for variant, rule, step in variants(rules, step_sizes):
        for seed in seeds:
            suggestion_file = output / f"finder-seed-{seed}" / f"suggestion-{folder_name(rule)}.json"
            if not suggestion_file.exists():
                continue
            suggestion = LRRangeSuggestion.read(suggestion_file)
            row = {"variant": variant, "rule": rule, "step_size": step if step is not None else DEFAULT_STEP_SIZE,
                   "seed": seed, **{key: getattr(suggestion, key) for key in ("lr_min", "lr_max", "lr_at_minimum")}}
            folder = run_folder(output, rule, step, seed)
            if completion(folder):
                metrics = RunMetrics.read(folder)
                row.update({key: getattr(metrics, key) for key in COLUMNS[COLUMNS.index("test_accuracy"):]})
            rows.append(row)
    return rows


SPLITS = (("validation", "val_accuracy", "val"), ("test", "test_accuracy", "test"))


def rank_rules(rows: list[dict], rules, seeds) -> tuple[list[str], Choice | None]:
    """The variants (rules or step sizes) best first by mean validation accuracy, and the choice (None before
    any has every seed).

    Only the validation column reaches the choice (``lenet.choices.choose_by_validation``); a variant
    without a finished run at some seed is ranked after the others, in the given order.
    """
    validation = {rule: {row["seed"]: row["val_accuracy"] for row in rows
                         if row["variant"] == rule and row.get("val_accuracy") is not None} for rule in rules}
    try:
        choice = choose_by_validation(validation, seeds)
    except ValueError:  # no rule has a finished run at every seed yet
        return list(rules), None
    return list(choice.means) + [rule for rule in rules if rule not in choice.means], choice


def _paired(rule: str, best: str | None, scores: dict, seeds) -> str:
    """``rule`` minus ``best``, paired by seed: mean and 95% t interval, blank for the best or fewer than 2 pairs."""
    paired = [scores[(rule, s)] - scores[(best, s)] for s in seeds
              if scores.get((rule, s)) is not None and scores.get((best, s)) is not None]
    if rule == best or len(paired) < 2:
        return ""
    interval = t_interval(paired)
    return f"{interval.mean:+.4f} ({interval.low:+.4f} to {interval.high:+.4f})"


def _columns(rule: str, best: str | None, scores: dict, seeds) -> list[str]:
    """One split's cells of a rule: per seed, mean, sd and the paired difference from ``best``."""
    values = [scores.get((rule, s)) for s in seeds]
    done = [value for value in values if value is not None]
    return ([f"{value:.4f}" if value is not None else "" for value in values]
            + [f"{statistics.mean(done):.4f}" if done else "", f"{statistics.stdev(done):.4f}" if len(done) > 1 else "",
               _paired(rule, best, scores, seeds)])


def summary_markdown(rows: list[dict], rules, seeds, command: str, step_rule: str | None = None) -> str:
    """study.md: the ranges, then validation and test accuracy per rule, ranked and chosen on validation.

    ``step_rule``: the study compares step sizes (``rules`` are their labels) at this one rule.
    """
    order, choice = rank_rules(rows, rules, seeds)
    best = choice.chosen if choice else None
    what = "lr_max rule" if step_rule is None else "step size"
    by_rule = {rule: {row["seed"]: row for row in rows if row["variant"] == rule} for rule in rules}
    title = ("# lr_max rules: CLR exp_range from the finder's suggestion, used as is" if step_rule is None else
             f"# CLR step sizes: exp_range on the range of the {step_rule} rule")
    lines = [title, "", f"`{command}`", "",
             f"Split discipline: {SPLIT_DISCIPLINE}. The {what}s are ranked, and one chosen, by validation accuracy; "
             "test accuracy is shown beside it, for the reported figure, and plays no part in the choice.", "",
             f"| {what} | " + " | ".join(f"seed {s}: lr_min - lr_max" for s in seeds) + " |",
             "|---|" + "---|" * len(seeds)]
    for rule in rules if step_rule is None else rules[:1]:
        ranges = [f"{by_rule[rule][s]['lr_min']:.2g} - {by_rule[rule][s]['lr_max']:.2g}"
                  if s in by_rule[rule] and by_rule[rule][s]["lr_max"] else "none" if s in by_rule[rule] else ""
                  for s in seeds]
        lines.append(f"| {rule if step_rule is None else 'every step size'} | " + " | ".join(ranges) + " |")
    header, rule_line = ["rank", what], "|---:|---|"
    for split, _, short in SPLITS:
        header += [f"seed {s} {short}" for s in seeds] + [f"{short} mean", f"{short} sd",
                                                         f"{short} minus {best}, paired by seed (95% t interval)"]
        rule_line += "---:|" * (len(seeds) + 3)
    lines += ["", "Accuracy, best first by mean validation accuracy:", "", "| " + " | ".join(header) + " |", rule_line]
    default_label = DEFAULT_LR_MAX_RULE if step_rule is None else step_label(DEFAULT_STEP_SIZE)
    for rank, rule in enumerate(order, start=1):
        cells = [str(rank) if choice and rule in choice.means else "",
                 rule + (" (default)" if rule == default_label else "") + (" (chosen)" if rule == best else "")]
        for _, key, _ in SPLITS:
            scores = {(row["variant"], row["seed"]): row.get(key) for row in rows}
            cells += _columns(rule, best, scores, seeds)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "lr_min is the first LR where the lag-free loss has fallen by 10% of its drop, for every rule.", ""]
    if choice is None:
        lines += [f"No {what} has a finished run at every seed yet, so none is chosen.", ""]
    else:
        if step_rule is None:
            default = (f"the default, `lr_range.DEFAULT_LR_MAX_RULE`, is {DEFAULT_LR_MAX_RULE}: "
                       + ("the rule chosen here." if best == DEFAULT_LR_MAX_RULE
                          else f"not the rule chosen here; set it to {best}."))
        else:
            default = (f"the default, train_lenet.py's --step-size, is {DEFAULT_STEP_SIZE:g} epochs: "
                       + ("the step size chosen here." if best == default_label
                          else f"not the step size chosen here ({best})."))
        lines += [f"Chosen: {choice.sentence()}.", "", default[0].upper() + default[1:], ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    check_executor_arguments(args)
    if args.rules is None:
        args.rules = [DEFAULT_LR_MAX_RULE] if args.step_sizes is not None else list(LR_MAX_RULES)
    if args.step_sizes is not None:
        if len(args.rules) != 1:
            raise UserError(f"--step-sizes compares step sizes at one lr_max rule, but --rules gives {len(args.rules)}; "
                            "give one rule")
    common = (["--limit", str(args.limit)] if args.limit else [])
    command = "python benchmarks/lr_rule_study.py " + " ".join(
        ["--seeds", ",".join(map(str, args.seeds)), "--rules", ",".join(args.rules)]
        + (["--step-sizes", ",".join(f"{step:g}" for step in args.step_sizes)] if args.step_sizes else [])
        + (["--epochs", str(args.epochs)] if args.epochs else []) + common)
    settings = {"seeds": args.seeds, "rules": args.rules, "epochs": args.epochs, "limit": args.limit}
    if args.step_sizes is not None:
        settings["step_sizes"] = args.step_sizes
    labels = [label for label, _, _ in variants(args.rules, args.step_sizes)]
    step_rule = args.rules[0] if args.step_sizes is not None else None
    with RunFolder(args.output, "lr-rule-study", settings, overwrite=args.overwrite, config={"command": command}) as study:
        output = study.folder
        if study.finished:
            print(f"{output} holds this study, finished: its results are kept (pass --overwrite to run it again)")
            return 0

        def log(line: str) -> None:
            print(line, flush=True)
            with open(output / "log.txt", "a", encoding="utf-8") as stream:
                stream.write(line + "\n")

        finders = {seed: output / f"finder-seed-{seed}" for seed in args.seeds}
        run_study_trials([command_trial(f"finder-seed-{seed}", finder, "find_lr.py",
                                        ["--batch", "64", "--seed", seed, "--quiet", *common])
                          for seed, finder in finders.items()], args, log, "lr_rule_study_finders")
        for seed, finder in finders.items():
            lrs, curve, skip_begin, skip_end = finder_curve(finder)
            for rule in args.rules:
                suggestion = suggest_lr_range(lrs, curve, skip_begin, skip_end, rule)
                LRRangeSuggestion.of(suggestion).write(finder / f"suggestion-{folder_name(rule)}.json")
        runs = []
        for _, rule, step in variants(args.rules, args.step_sizes):
            for seed in args.seeds:
                suggestion = finders[seed] / f"suggestion-{folder_name(rule)}.json"
                if LRRangeSuggestion.read(suggestion):
                    folder = run_folder(output, rule, step, seed)
                    runs.append(command_trial(f"{folder.parent.name}-seed-{seed}", folder, "train_lenet.py",
                                              ["--policy", "clr", "--mode", "exp_range", "--from-finder",
                                               suggestion.resolve(),
                                               *(["--step-size", f"{step:g}"] if step is not None else []),
                                               "--seed", seed, "--quiet", *common,
                                               *(["--epochs", str(args.epochs)] if args.epochs else [])]))

        def write_tables() -> str:
            rows = study_rows(output, args.rules, args.seeds, args.step_sizes)
            write_csv(output / "study.csv", rows, COLUMNS)
            write_text(output / "study.md", text := summary_markdown(rows, labels, args.seeds, command, step_rule))
            return text

        run_study_trials(runs, args, log, "lr_rule_study", go_on=True, after=write_tables)
        text = write_tables()
        rows = study_rows(output, args.rules, args.seeds, args.step_sizes)
        study.complete(quick=args.limit is not None, summary={"rows": len(rows)})
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
