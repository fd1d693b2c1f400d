"""Problem 1 as one story: 1.1's range (the grid's) drives 1.2 and 1.3; the range test's is shown beside it.

The homework reads lr_min and lr_max off the grid of part 1 (10 learning rates, 5 epochs each) and
trains 1.2 between them and 1.3 at lr_max. ``range_story`` says, for a training folder, which range
it trained from (1.1's grid, the range test, or flags), the range test's range as the alternative,
and, when the two differ, how the two curves they are read from differ. ``quick_shape`` says, at
quick settings, what the shortened run cannot show that the question invites a comparison with.
"""

from __future__ import annotations

import math
from pathlib import Path

from pyimagesearch.records.base import RecordError
from pyimagesearch.records.lr_finder import LRRangeSuggestion
from pyimagesearch.report.document import Inline, Paragraph, code, strong, text
from pyimagesearch.report.files import fmt, load_dict, number

GRID, RANGE_TEST = "lr_grid", "find_lr"  # the folders under the output root
TASK_GRID_EPOCHS, TASK_CLR_EPOCHS = 5, 20


def read_suggestion(root: Path, folder: str, caveats: list[Inline]) -> LRRangeSuggestion | None:
    """A folder's suggestion.json when it holds a range; a bad one adds its record's sentence to ``caveats``."""
    path = Path(root) / folder / LRRangeSuggestion.FILE
    if not path.is_file():
        return None
    try:
        suggestion = LRRangeSuggestion.read(path)
    except RecordError as error:
        caveats.append(text(str(error)))
        return None
    return suggestion if suggestion else None


def _close(a, b) -> bool:
    return number(a) is not None and number(b) is not None and math.isclose(float(a), float(b), rel_tol=1e-6)


def _range(suggestion: LRRangeSuggestion) -> str:
    return f"lr_min = {fmt(suggestion.lr_min, '.3g')} and lr_max = {fmt(suggestion.lr_max, '.3g')}"


def why_they_differ(root: Path, grid_suggestion: LRRangeSuggestion, range_test: LRRangeSuggestion) -> str:
    """How the grid's curve and the range test's differ, from their config.json (what each range is read from)."""
    grid = load_dict(Path(root) / GRID / "config.json")
    count, epochs = grid.get("grid"), grid.get("epochs")
    start, end = number(grid.get("start_lr")), number(grid.get("end_lr"))
    spacing = (f", {(end / start) ** (1 / (count - 1)):.3g}x apart" if isinstance(count, int) and count > 1 and start
               and end else "")
    rule = f"rule {grid_suggestion.lr_max_rule}" if grid_suggestion.lr_max_rule else "its rule"
    batches = f" of {range_test.batches:,} batches" if range_test.batches else ""
    return (f"They differ because they are read from two curves: the grid's is the final training loss after "
            f"{epochs if epochs is not None else '?'} epoch(s) at each of {count if count is not None else '?'} learning "
            f"rates{spacing}, so its range is read at those rates (lr_max by {rule}); the range "
            f"test's is the loss over one sweep{batches} in which the learning rate grows every batch.")


def range_story(root: Path, key: str, config: dict) -> tuple[list, list[Inline]]:
    """Blocks saying which range the ``key`` run ("clr" or "batch_growth") trained from, and caveats.

    ``config``: the run's config.json (lr_min and lr_max, or lr, and lr_source). Nothing is said
    about a run whose config does not record its learning rates.
    """
    caveats: list[Inline] = []
    grid, range_test = read_suggestion(root, GRID, caveats), read_suggestion(root, RANGE_TEST, caveats)
    clr = key == "clr"
    used = (config.get("lr_min"), config.get("lr_max")) if clr else (config.get("lr"),)
    if any(number(value) is None for value in used):
        return [], caveats
    shown = (f"lr_min = {fmt(used[0], '.3g')} and lr_max = {fmt(used[1], '.3g')}" if clr
             else f"a fixed lr = {fmt(used[0], '.3g')}")
    expected = lambda s: (s.lr_min, s.lr_max) if clr else (s.lr_max,)  # noqa: E731
    task = ("1.2 trains between part 1's lr_min and lr_max" if clr else "1.3 fixes the learning rate to part 1's lr_max")
    blocks = []
    if grid and all(map(_close, used, expected(grid))):
        blocks.append(Paragraph(text("This run trains with ", strong(shown), f", 1.1's {'range' if clr else 'lr_max'} from the grid (",
                                     code(f"{GRID}/suggestion.json"), f"), as the task asks: {task}.")))
    else:
        origin = ("the range test's suggestion" if range_test and all(map(_close, used, expected(range_test)))
                  else str(config.get("lr_source") or "flags"))
        grid_range = f" (1.1's grid: {_range(grid)})" if grid else " (1.1's grid has no range yet)"
        caveats.append(text(f"Not 1.1's range: this run trains with {shown}, from {origin}; {task}{grid_range}. Train "
                            "again with ", code(f"--from-finder {Path(root) / GRID / 'suggestion.json'}"), "."))
    if range_test:
        alternative = [text("The alternative, the LR range test's range (", code(f"{RANGE_TEST}/suggestion.json"), "): ",
                            _range(range_test), ".")]
        if grid and not (_close(grid.lr_min, range_test.lr_min) and _close(grid.lr_max, range_test.lr_max)):
            alternative.append(text(" " + why_they_differ(root, grid, range_test)))
        blocks.append(Paragraph(tuple(span for inline in alternative for span in inline)))
    return blocks, caveats


def quick_shape(key: str, config: dict) -> Inline | None:
    """At quick settings, what the shortened run cannot show that its question invites a comparison with."""
    if not config.get("limit"):
        return None
    if key == "lr_grid" and number(config.get("epochs")) is not None and config["epochs"] < TASK_GRID_EPOCHS:
        return text(f"{config['epochs']} epoch(s) per learning rate, not the task's {TASK_GRID_EPOCHS}: the curve need "
                    "not have the shape of Smith's Figure 3, and the range read from it is the one the quick 1.2 and "
                    "1.3 train from.")
    if key == "clr" and number(config.get("epochs")) is not None and config["epochs"] < TASK_CLR_EPOCHS:
        return text(f"{config['epochs']} epochs, not {TASK_CLR_EPOCHS}: these curves show that the policy runs, and "
                    "cannot be set beside Smith's Figure 4; the full command's are.")
    if key == "comparison":
        return text("Made from runs at quick settings: whether growing the batch generalizes like the cyclical policy "
                    "is answered by the full runs; the verdicts here are about these short runs only.")
    return None
