"""The README's promises that can be checked mechanically."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S).group(1)
    return [line for line in first_block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_two_commands_main_job_then_tests():
    main_job, tests = readme_commands()
    assert main_job.endswith("python find_lr.py --batch 64")
    assert tests.endswith("python -m pytest -q")


def test_ci_runs_exactly_the_readme_test_command():
    _, tests = readme_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci_lines


def test_every_script_flag_is_documented_in_the_readme():
    import find_lr
    import train_lenet
    import transfer

    readme = (ROOT / "README.md").read_text()
    for script in (find_lr, train_lenet, transfer):
        flags = [[flag for flag in action.option_strings if flag.startswith("--")]
                 for action in script.build_parser()._actions if "--help" not in action.option_strings]
        missing = [names for names in flags if not any(f"`{flag}" in readme for flag in names)]
        assert flags and not missing, f"flags of {script.__name__}.py missing from README.md: {missing}"
