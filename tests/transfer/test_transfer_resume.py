"""transfer.py: fine-tuning killed mid-run resumes exactly; a sweep's run equals that run alone; bad images stop it.

Random ResNet50 weights (``--weights none``), 32x32 inputs and a dozen
images keep every run short.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.core.outputs import read_csv
from tests.transfer.test_transfer import make_colour_folder

import transfer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KILLER = ROOT / "tests" / "kill_at_rename.py"
WALL_CLOCK = {"seconds", "wall_seconds", "seconds_per_epoch", "feature_seconds"}
COMMON = ["--lr", "1e-5", "--epochs", "3", "--milestones", "1,2", "--batch-size", "4", "--image-size", "32",
          "--weights", "none", "--seed", "7"]
# Each run of the chain dies before the K-th rename onto NAME that it makes itself.
CHAIN = ["epoch-0001#1",    # epoch 1's checkpoint complete but not in place: starts over
         "epoch-0002#1",    # epoch 2's checkpoint complete but not in place: resume after epoch 1
         "history.csv#3",   # resumed (history rewritten, epoch 2's row); dies before epoch 3's row
         "metrics.json#1"]  # every epoch done and saved, the run's last file not yet


def run_results(run_dir: Path) -> tuple[list[dict], dict]:
    history = [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in read_csv(run_dir / "history.csv")]
    metrics = {k: v for k, v in json.loads((run_dir / "metrics.json").read_text()).items() if k not in WALL_CLOCK}
    return history, metrics


def launch(data: Path, out: Path, kill_at: str = "") -> subprocess.CompletedProcess:
    command = [sys.executable, str(KILLER), "transfer.py", "--data-dir", str(data), "--mode", "finetune", *COMMON,
               "--output", str(out)]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, "KILL_AT": kill_at}, capture_output=True, text=True,
                          timeout=1200)


@pytest.mark.slow
def test_fine_tuning_killed_before_each_kind_of_rename_resumes_to_the_uninterrupted_result(tmp_path):
    data = make_colour_folder(tmp_path / "colours", per_class=4)

    def chain():
        return [(kill_at, launch(data, tmp_path / "killed", kill_at)) for kill_at in CHAIN + [""]]

    with ThreadPoolExecutor(2) as pool:
        whole = pool.submit(launch, data, tmp_path / "whole")
        statuses = pool.submit(chain).result()
        whole = whole.result()
    assert whole.returncode == 0, whole.stderr[-2000:]
    for kill_at, process in statuses:
        assert process.returncode == (9 if kill_at else 0), f"{kill_at or 'last run'}: {process.stderr[-1500:]}"
    killed, reference = (tmp_path / name / "colours" / "finetune_lr1e-05" for name in ("killed", "whole"))
    assert run_results(killed) == run_results(reference)
    log = (tmp_path / "killed" / "colours" / "transfer.log").read_text()
    assert "finetune_lr1e-05: resuming after epoch 1" in log and "finetune_lr1e-05: resuming after epoch 3" in log
    assert sorted(p.name for p in killed.iterdir()) == sorted(p.name for p in reference.iterdir())  # no checkpoint


@pytest.mark.slow
def test_one_lr_of_an_augmented_feature_sweep_equals_that_lr_run_alone(tmp_path):
    data = make_colour_folder(tmp_path / "colours", per_class=4)
    common = ["--data-dir", str(data), "--mode", "feature", "--augment", "crop-flip", *COMMON]
    lrs = common.index("--lr") + 1
    sweep, alone = list(common), list(common)
    sweep[lrs], alone[lrs] = "3e-5,1e-5", "1e-5"
    assert transfer.main([*sweep, "--output", str(tmp_path / "sweep")]) == 0
    assert transfer.main([*alone, "--output", str(tmp_path / "alone")]) == 0
    in_sweep, by_itself = (tmp_path / name / "colours" / "feature_lr1e-05" for name in ("sweep", "alone"))
    assert run_results(in_sweep) == run_results(by_itself)
    assert run_results(in_sweep)[1]["feature_cache"] == "per epoch"


def test_an_undecodable_image_stops_before_training_naming_it_and_the_count(tmp_path, capsys):
    data = make_colour_folder(tmp_path / "colours", per_class=4)
    for broken in (data / "green" / "01.png", data / "red" / "03.png"):
        broken.write_bytes(broken.read_bytes()[:60])  # a PNG header, then nothing
    status = run(transfer.main, ["--data-dir", str(data), "--mode", "finetune", *COMMON, "--output", str(tmp_path / "o")])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1
    assert error == (f"error: image {data / 'green' / '01.png'} cannot be decoded, and 2 of the 12 images in all "
                     "cannot; remove or replace them before training\n")
    assert not (tmp_path / "o" / "colours").exists()  # a start that failed leaves no folder behind


# --------------------------------------------------------------------------- the run folder's life

def run_folder_case(tmp_path, lr=1e-5):
    from pyimagesearch.core.distribute import Distribution
    from pyimagesearch.transfer.run import run_settings
    from pyimagesearch.transfer.settings import TransferSettings

    settings = TransferSettings(data="d", epochs=2, milestones=(1,), gamma=0.1, batch_size=4, image_size=32,
                                augment="none", weights="none", dtype_policy="float32", seed=7)
    run_dir = tmp_path / "finetune_lr1e-05"
    return settings, run_dir, run_settings("finetune", lr, settings, Distribution.local())


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def test_a_run_folder_of_other_settings_is_refused_naming_them_and_left_byte_identical(tmp_path):
    from pyimagesearch.core.run import RunFolder, RunFolderError
    from pyimagesearch.transfer.run import RUN_KIND, train_run

    settings, run_dir, _ = run_folder_case(tmp_path)
    with RunFolder(run_dir, RUN_KIND, run_folder_case(tmp_path, lr=3e-5)[2]):
        (run_dir / "history.csv").write_text("epoch\n1\n")
    before = folder_bytes(run_dir)
    with pytest.raises(RunFolderError) as error:
        train_run(None, "finetune", 1e-5, settings, run_dir, print)  # refused before the data is touched
    assert str(error.value) == (f"{run_dir} holds results of other settings (lr 3e-05 then, 1e-05 now); pass "
                                "--overwrite to replace them, or choose another --output")
    assert folder_bytes(run_dir) == before


def test_a_second_writer_into_a_run_folder_stops_naming_the_first(tmp_path):
    from pyimagesearch.core.run import FolderBusy, RunFolder
    from pyimagesearch.transfer.run import RUN_KIND, train_run

    settings, run_dir, same = run_folder_case(tmp_path)
    with RunFolder(run_dir, RUN_KIND, same):
        before = folder_bytes(run_dir)
        with pytest.raises(FolderBusy, match=f"is being written by process {os.getpid()} on "):
            train_run(None, "finetune", 1e-5, settings, run_dir, print)
        assert folder_bytes(run_dir) == before


def test_a_completed_run_folder_is_kept_as_it_is_and_its_record_returned(tmp_path):
    from pyimagesearch.core.run import RunFolder
    from pyimagesearch.records.transfer import TransferRun
    from pyimagesearch.transfer.run import RUN_KIND, train_run

    settings, run_dir, same = run_folder_case(tmp_path)
    record = TransferRun(mode="finetune", lr=1e-5, best_val_accuracy=0.5, best_epoch=1, final_val_accuracy=0.5,
                         final_val_loss=1.0, final_accuracy=0.4, epochs=2, wall_seconds=3.0, seconds_per_epoch=1.5,
                         steps_per_epoch=3, train_images=9, val_images=3, feature_cache=None, feature_seconds=None,
                         diverged=None, settings=settings.as_dict())
    with RunFolder(run_dir, RUN_KIND, same) as run:
        record.write(run_dir)
        run.complete()
    before = folder_bytes(run_dir)
    assert train_run(None, "finetune", 1e-5, settings, run_dir, print) == record.to_json()
    assert folder_bytes(run_dir) == before
