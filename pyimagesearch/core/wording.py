"""Counts and differences written as a reader says them: "1 epoch", "2 epochs", "+2.8 points".

Every message, title and log line that prints a count or an accuracy
difference takes its words from here, so that "1 epochs" and a bare
"gap +0.0276" cannot come back one command at a time.
"""

from __future__ import annotations

GAP_NAME = "generalization gap (train - test accuracy)"


def plural(count: int | float, singular: str, plural_form: str | None = None) -> str:
    """The count and the noun that agrees with it::

        plural(1, "epoch")                  # "1 epoch"
        plural(2, "epoch")                  # "2 epochs"
        plural(1_000, "batch", "batches")   # "1,000 batches"

    ``plural_form`` is for nouns that do not just take an "s". Only exactly
    1 is singular ("0 epochs", "1.5 epochs"); a whole number is written
    with thousands separators, whatever its type (NumPy's included).
    """
    number = f"{int(count):,}" if float(count).is_integer() else f"{count:,g}"
    return f"{number} {nouns(count, singular, plural_form)}"


def nouns(count: int | float, singular: str, plural_form: str | None = None) -> str:
    """The noun alone, agreeing with ``count``: ``nouns(1, "seed")`` -> "seed", ``nouns(3, "seed")`` -> "seeds"."""
    return singular if count == 1 else plural_form or f"{singular}s"


def per_class(smallest: int, median: float, largest: int, unit: str = "per class") -> str:
    """Images per class in words: "16 per class" when every class has 16, else "12 to 20 per class, median 16"."""
    if smallest == largest:
        return f"{smallest:,} {unit}"
    return f"{smallest:,} to {largest:,} {unit}, median {median:,g}"


def points(difference: float, digits: int = 1) -> str:
    """A difference of two accuracies (fractions) in percentage points: 0.0276 -> "+2.8 points".

    Singular only when the number printed is exactly 1 ("+1 point" at ``digits=0``; "+1.0 points").
    """
    number = f"{100 * difference:+.{digits}f}"
    return f"{number} {'point' if number.lstrip('+-') == '1' else 'points'}"


def generalization_gap(gap: float, digits: int = 1) -> str:
    """The gap named with what it subtracts: 0.0276 -> "generalization gap (train - test accuracy) +2.8 points"."""
    return f"{GAP_NAME} {points(gap, digits)}"
