"""An output/ tree in the formats the project's commands write, for the report's tests.

The calculators (architectures, detection) and the comparison paragraph are
made by the project's own code; the training results, which take minutes to
make, are written here in the formats of find_lr.py, train_lenet.py,
transfer.py and the semi-supervised experiments. ``INJECTED`` names the
transfer data set folder and ``INJECTED_RUN`` a run folder: text that must never become markup.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
from pathlib import Path

INJECTED = "<script>alert(1)"  # a folder name cannot hold "/", so no closing tag: a browser would still run it
INJECTED_RUN = "<img src=x onerror=alert(2)>"
CLR_SEEDS = (42, 1)
ENVIRONMENT = {"python": "3.11.7", "tensorflow": "2.21.0"}


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_png(path: Path, title: str) -> None:
    """A small, distinct figure (its title drawn in), so every embedded image can be traced to its file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure, ax = plt.subplots(figsize=(2.4, 1.6), dpi=50)
    ax.plot([0, 1, 2], [len(title) % 3, 1, 2])
    ax.set_title(title, fontsize=7)
    figure.savefig(path, format="png")
    plt.close(figure)


def lenet_metrics(test_accuracy: float, epochs: int, steps: int) -> dict:
    """metrics.json of train_lenet.py (lenet.training.evaluate plus the policy)."""
    train_accuracy = test_accuracy + 0.02
    return {"test_accuracy": test_accuracy, "test_loss": 0.31, "final_train_loss": 0.25, "final_train_accuracy": 0.91,
            "val_accuracy": test_accuracy + 0.005, "val_loss": 0.3, "train_accuracy": train_accuracy, "train_loss": 0.24,
            "generalization_gap": train_accuracy - test_accuracy, "best_val_accuracy": test_accuracy + 0.006,
            "best_val_epoch": epochs, "epochs": epochs, "optimizer_steps": steps, "train_time_s": 42.5,
            "train_images": 54000, "val_images": 6000, "test_images": 10000}


def lenet_config(policy: str, limit=None, **extra) -> dict:
    return {"policy": policy, "compare": None, "momentum": 0.9, "limit": limit, "seed": 42, "output": f"output/{policy}",
            "distribution": {"strategy": "DefaultStrategy", "replicas": 1}, "train_images": 54000 if limit is None else 9000,
            "val_images": 6000 if limit is None else 1000, "test_images": 10000, **extra, "environment": ENVIRONMENT}


def history(rows: int, batch_sizes=None) -> str:
    lines = ["epoch,batch_size,steps,iterations,lr,loss,accuracy,val_loss,val_accuracy,time_s"]
    for epoch in range(1, rows + 1):
        batch = batch_sizes[epoch - 1] if batch_sizes else 64
        lines.append(f"{epoch},{batch},10,{10 * epoch},0.01,{1 / epoch:.4f},0.8,0.5,0.8{epoch},1.5")
    return "\n".join(lines) + "\n"


def make_lenet(root: Path) -> None:
    folder = root / "find_lr"
    write_json(folder / "config.json", {"batch": 64, "grid": 0, "limit": None, "seed": 42, "environment": ENVIRONMENT})
    write_json(folder / "suggestion.json", {"lr_min": 0.00073, "lr_max": 0.022, "lr_at_minimum": 0.1, "lr_steepest": 0.003,
                                            "still_decreasing": False, "reason": "", "batches": 2511, "stop_reason": "",
                                            "seconds": 16.2, "rule": "lr_range.suggest_lr_range: 10% and 90% of the loss drop"})
    write_text(folder / "lr_finder.csv", "lr,raw_loss,smoothed_loss\n1e-09,2.3,2.3\n")
    write_png(folder / "lr_finder.png", "range test")

    folder = root / "lr_grid"
    write_json(folder / "config.json", {"batch": 64, "grid": 10, "epochs": 5, "start_lr": 1e-9, "end_lr": 10.0,
                                        "limit": None, "environment": ENVIRONMENT})
    rows = ["lr,final_train_loss,train_accuracy,diverged,epochs_run,seconds"]
    for index in range(10):
        lr = 10.0 ** (-9 + 10 * index / 9)
        diverged = "yes" if index == 9 else "no"
        rows.append(f"{lr!r},{2.3 - 0.2 * index if index < 9 else 1e7},{0.1 + 0.08 * index},{diverged},"
                    f"{1 if index == 9 else 5},{19.5}")
    write_text(folder / "lr_grid.csv", "\n".join(rows) + "\n")
    write_json(folder / "suggestion.json", {"lr_min": 2.78e-05, "lr_max": 0.00464, "still_decreasing": False, "reason": "",
                                            "seconds": 199.0, "rule": "final training losses, diverged LRs excluded"})
    write_png(folder / "lr_grid.png", "grid")

    # The cyclical LR over two seeds (train_lenet.py --seeds): the seed folders, and beside them the config,
    # the mean curves and metrics.json with every metric's mean, standard deviation and per-seed values.
    folder = root / "clr"
    per_seed = {}
    for seed, accuracy in zip(CLR_SEEDS, (0.9092, 0.9104)):
        run = folder / f"seed-{seed}"
        write_json(run / "config.json", lenet_config("clr", seed=seed, mode="exp_range",
                                                     description="clr exp_range: lr 0.00073 to 0.022, batch 64, 20 epochs"))
        per_seed[seed] = {"policy": "clr", **lenet_metrics(accuracy, 20, 16880)}
        write_json(run / "metrics.json", per_seed[seed])
        write_text(run / "history.csv", history(20))
        if seed == CLR_SEEDS[0]:
            write_png(run / "curves.png", "clr curves")
            write_png(run / "lr_trace.png", "clr lr trace")
    aggregate = {"seeds": list(CLR_SEEDS), "policy": "clr"}
    for key in per_seed[CLR_SEEDS[0]]:
        values = [per_seed[seed][key] for seed in CLR_SEEDS]
        if not isinstance(values[0], str):
            aggregate[key] = {"mean": statistics.mean(values), "sd": statistics.stdev(values), "values": values}
    write_json(folder / "metrics.json", aggregate)
    write_json(folder / "config.json", {**lenet_config("clr", mode="exp_range"), "seeds": list(CLR_SEEDS)})
    write_png(folder / "curves.png", "clr mean curves")

    # Batch growth at quick settings, one run.
    folder = root / "batch_growth"
    sizes = [32, 32, 64, 64, 128, 128, 256, 256]
    write_json(folder / "config.json", lenet_config("batch-growth", limit=10000, batch_start=32, batch_end=4096,
                                                    description="batch-growth: lr 0.022, batch 32 to 4096"))
    write_json(folder / "metrics.json", {"policy": "batch-growth", **lenet_metrics(0.8339, 8, 565)})
    write_text(folder / "history.csv", history(8, sizes))
    write_text(folder / "log.txt", "batch-growth: lr 0.022\nnote: something the run wanted said\n")
    write_png(folder / "loss_vs_log2_batch.png", "loss vs log2 batch")
    write_png(folder / "curves.png", "batch growth curves")

    from pyimagesearch.lenet.compare import write_comparison

    with contextlib.redirect_stdout(io.StringIO()):
        (root / "comparison").mkdir(parents=True, exist_ok=True)
        write_comparison(root / "clr" / "seed-42", root / "batch_growth", root / "comparison")


def make_calculators(root: Path) -> None:
    from pyimagesearch.architectures.command import main as architectures
    from pyimagesearch.detection.command import main as detection

    with contextlib.redirect_stdout(io.StringIO()):
        for command in (["alexnet"], ["vgg19"], ["inception"], ["receptive-field", "--layers", "3", "--kernel", "5"]):
            architectures([*command, "--output", str(root / "architectures")])
        detection(["--output", str(root / "detection"), "--short-side", "300", "--plot-top", "5"])


def make_transfer(root: Path) -> None:
    folder = root / "transfer" / INJECTED
    write_json(folder / "dataset.json", {"name": INJECTED, "origin": "folder /data/flowers", "evaluation_split": "validation",
                                         "num_classes": 3, "class_names": ["a", "b", "c"],
                                         "splits": {"train": {"images": 30, "images_per_class": {"min": 8, "median": 10.0, "max": 12},
                                                              "classes_without_images": 0, "counts": [8, 10, 12]},
                                                    "validation": {"images": 6, "images_per_class": {"min": 2, "median": 2.0, "max": 2},
                                                                   "classes_without_images": 0, "counts": [2, 2, 2]}},
                                         "samples": ["c", "c", "b", "b"]})
    write_png(folder / "class_distribution.png", "class distribution")
    write_png(folder / "samples.png", "samples")
    settings = {"data": "folder", "epochs": 2, "milestones": [1], "gamma": 0.1, "batch_size": 64, "image_size": 64,
                "augment": "none", "weights": "none", "dtype_policy": "float32", "seed": 42}
    for name, mode, lr, accuracy in (("finetune_lr0.001", "finetune", 0.001, 0.4), (INJECTED_RUN, "feature", 0.1, 0.5)):
        run = folder / name
        write_json(run / "config.json", {"mode": mode, "lr": lr, "weights": "none", "resolved": settings})
        write_json(run / "metrics.json", {"mode": mode, "lr": lr, "best_val_accuracy": accuracy, "best_epoch": 2,
                                          "final_val_accuracy": accuracy, "final_val_loss": 1.0, "final_accuracy": 0.6,
                                          "epochs": 2, "wall_seconds": 12.0, "seconds_per_epoch": 6.0, "diverged": None,
                                          "steps_per_epoch": 1, "train_images": 30, "val_images": 6,
                                          "feature_cache": "once" if mode == "feature" else None, "feature_seconds": None,
                                          "settings": settings})
        write_png(run / "curves.png", f"{mode} curves")
    write_text(folder / "summary.md", f"# Transfer learning on {INJECTED}\n\n**Winner: feature at lr 0.1** with 50.0% final "
                                      "validation accuracy.\n\n## Fine-tuning or feature extraction\n\nA paragraph.\n")


SEMISUPERVISED_TABLE = """| p % | labels replaced | test % | vs p = 0 | McNemar p |
| ---: | ---: | ---: | ---: | ---: |
| 0 | 0 | 80.43 | - | - |
| 50 | 4,500 | 70.83 | -9.60 | <0.001 |
"""


def make_semisupervised(root: Path) -> None:
    """label-noise at quick settings and teacher-student at full ones; resampling left missing."""
    for name, quick, figure in (("label-noise", True, "accuracy_vs_noise.png"), ("teacher-student", False, "accuracy_vs_k.png")):
        from pyimagesearch.core.run import RunFolder
        from pyimagesearch.records.semisupervised import RESULTS

        folder = root / "semisupervised" / name / ("quick" if quick else "")
        settings = {"experiment": name, "quick": quick, "limit": 10000 if quick else None, "epochs": 3}
        with RunFolder(folder, f"semisupervised-{name}", settings) as run:
            RESULTS[name].empty().write(folder)
            write_text(folder / "results.md", f"# {name}: LeNet-5 on Fashion-MNIST\n\n{SEMISUPERVISED_TABLE}\nA note.\n")
            write_text(folder / "log.txt", f"[1/2] first point\ntest accuracy: 80.43%; results in {folder}\n")
            write_png(folder / figure, f"{name} figure")
            run.complete(quick=quick)


def make_tree(root: Path) -> Path:
    """Every kind of result the report reads, under ``root``; returns ``root``."""
    make_lenet(root)
    make_calculators(root)
    make_transfer(root)
    make_semisupervised(root)
    return root


def pngs_under(root: Path) -> list[Path]:
    """Every figure the tree holds, the report's own folder left out."""
    return sorted(path for path in root.rglob("*.png") if "report" not in path.relative_to(root).parts)
