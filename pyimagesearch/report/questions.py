"""The homework's questions and the experiments that answer them: folders, commands and run times.

Each ``Experiment`` is one command of the project and the folder it writes,
relative to the output root, with its command at the task's settings
(``full``) and at quick settings (``quick``: a subset of the data, fewer
epochs). ``{root}`` in a command stands for the output root. The run times
were measured on a shared 2-core CPU, TensorFlow's start-up included; the
report's runner shows them, labelled "estimate", only until it has measured
the command on the machine it runs on (``durations``).

Each ``QuestionSpec`` names the experiments whose results answer it and the
paper sections that the parts the project cannot compute are answered from.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

SMITH = "Smith, Cyclical Learning Rates for Training Neural Networks (arXiv 1506.01186)"
ALEXNET = "Krizhevsky et al., ImageNet Classification with Deep Convolutional Neural Networks (NeurIPS 2012)"
VGG = "Simonyan and Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition (arXiv 1409.1556)"
GOOGLENET = "Szegedy et al., Going Deeper with Convolutions (arXiv 1409.4842)"
FASTER_RCNN = "Ren et al., Faster R-CNN: Towards Real-Time Object Detection with Region Proposal Networks (arXiv 1506.01497)"
CS231N = "CS231n notes, Transfer Learning (cs231n.github.io/transfer-learning)"
MAHAJAN = "Mahajan et al., Exploring the Limits of Weakly Supervised Pretraining (arXiv 1805.00932)"
YALNIZ = "Yalniz et al., Billion-scale semi-supervised learning for image classification (arXiv 1905.00546)"

# The offline stand-in (issue 21): scikit-learn's digits from a ResNet50 pretrained here on Fashion-MNIST. The real
# target needs TFDS and ImageNet's weights: python transfer.py --dataset vgg-flowers --weights imagenet --mode both.
TRANSFER_DATASET = "digits"
STANDIN = ("--dataset", TRANSFER_DATASET, "--weights", "fashion-mnist", "--mode", "both")


@dataclass(frozen=True)
class Experiment:
    key: str
    title: str
    folder: str  # relative to the output root
    full: tuple[str, ...]  # arguments after "python"
    quick: tuple[str, ...]
    full_time: str
    quick_time: str
    needs: tuple[str, ...] = ()  # files (relative to the root) the command reads

    def arguments(self, mode: str, root: Path) -> list[str]:
        """The command's arguments after ``python`` for ``mode`` ("full" or "quick"), with the root filled in."""
        template = self.full if mode == "full" else self.quick
        return [part.replace("{root}", str(root)) for part in template]

    def command(self, mode: str, root: Path) -> str:
        """The command as a user types it."""
        return shlex.join(["python", *self.arguments(mode, root)])


def _architecture(key: str, name: str, title: str, *extra: str) -> Experiment:
    arguments = ("-m", "pyimagesearch.architectures", name, *extra, "--output", "{root}/architectures")
    return Experiment(key, title, "architectures", arguments, arguments, "about 1 s", "about 1 s")


def _semisupervised(key: str, name: str, title: str, full_time: str, quick_time: str) -> Experiment:
    folder = f"semisupervised/{name}"
    return Experiment(key, title, folder,
                      ("-m", "pyimagesearch.semisupervised", name, "--output", f"{{root}}/{folder}"),
                      ("-m", "pyimagesearch.semisupervised", name, "--quick", "--output", f"{{root}}/{folder}/quick"),
                      full_time, quick_time)


# 1.2 and 1.3 train from 1.1's range, as the homework says: the grid's suggestion (the range
# test's, find_lr/suggestion.json, is the alternative the report shows beside it).
FINDER = "{root}/lr_grid/suggestion.json"

# The static time estimates, used until a run has measured one here (report.durations): quick, the wall times of
# `report --run quick` in a fresh clone on the project's 2-core machine (2026-12-02); full, its full runs there.
EXPERIMENTS = {e.key: e for e in (
    Experiment("find_lr", "LR range test", "find_lr",
               ("find_lr.py", "--batch", "64", "--output", "{root}/find_lr"),
               ("find_lr.py", "--batch", "64", "--limit", "10000", "--output", "{root}/find_lr"),
               "about 40 s", "about 20 s"),
    Experiment("lr_grid", "LR grid: 10 learning rates from 1e-9 to 1e1", "lr_grid",
               ("find_lr.py", "--grid", "10", "--epochs", "5", "--batch", "64", "--output", "{root}/lr_grid"),
               ("find_lr.py", "--grid", "10", "--epochs", "1", "--batch", "64", "--limit", "5000",
                "--output", "{root}/lr_grid"),
               "about 4 min", "about 15 s"),
    Experiment("clr", "Cyclical LR, exp_range", "clr",
               ("train_lenet.py", "--policy", "clr", "--mode", "exp_range", "--from-finder", FINDER,
                "--output", "{root}/clr"),
               ("train_lenet.py", "--policy", "clr", "--mode", "exp_range", "--from-finder", FINDER,
                "--epochs", "5", "--step-size", "2.5", "--limit", "10000", "--output", "{root}/clr"),  # one cycle, as the default
               "about 2 min", "about 15 s", needs=("lr_grid/suggestion.json",)),
    Experiment("batch_growth", "Batch size doubled from 32 to 4096 at lr_max", "batch_growth",
               ("train_lenet.py", "--policy", "batch-growth", "--from-finder", FINDER, "--batch-start", "32",
                "--batch-end", "4096", "--epochs-per-stage", "2", "--output", "{root}/batch_growth"),
               ("train_lenet.py", "--policy", "batch-growth", "--from-finder", FINDER, "--batch-start", "32",
                "--batch-end", "4096", "--epochs-per-stage", "1", "--limit", "10000", "--output", "{root}/batch_growth"),
               "about 3 min", "about 15 s", needs=("lr_grid/suggestion.json",)),
    Experiment("comparison", "Batch growth against the cyclical LR", "comparison",
               ("train_lenet.py", "--compare", "{root}/clr", "{root}/batch_growth", "--output", "{root}/comparison"),
               ("train_lenet.py", "--compare", "{root}/clr", "{root}/batch_growth", "--output", "{root}/comparison"),
               "about 20 s", "about 10 s", needs=("clr/metrics.json", "batch_growth/metrics.json")),
    _architecture("alexnet", "alexnet", "AlexNet layer by layer"),
    _architecture("vgg19", "vgg19", "VGG19, the task's Table 1"),
    _architecture("receptive_field", "receptive-field", "Receptive field of three 5x5 convolutions",
                  "--layers", "3", "--kernel", "5"),
    _architecture("inception", "inception", "Inception modules at 32x32x256"),
    Experiment("detection", "Region proposals and NMS on a photo", "detection",
               ("-m", "pyimagesearch.detection", "--output", "{root}/detection"),
               ("-m", "pyimagesearch.detection", "--output", "{root}/detection"),
               "about 5 s", "about 5 s"),
    Experiment("transfer", "ResNet50 transfer learning on the offline stand-in (digits, a Fashion-MNIST base)",
               "transfer", ("transfer.py", *STANDIN, "--output", "{root}/transfer"),
               ("transfer.py", *STANDIN, "--quick", "--output", "{root}/transfer"),
               "about 1.8 h (a 4-epoch pretraining of about 36 min, then the task's 7 runs)", "about 8 min"),
    _semisupervised("label_noise", "label-noise", "Label noise (Mahajan et al.), LeNet-5 on Fashion-MNIST",
                    "about 5 min", "about 35 s"),
    _semisupervised("resampling", "resampling", "Resampling a long tail (Mahajan et al.), LeNet-5 on Fashion-MNIST",
                    "about 1.7 min", "about 25 s"),
    _semisupervised("teacher_student", "teacher-student",
                    "Teacher and student (Yalniz et al.), LeNet-5 on Fashion-MNIST", "about 28 min",
                    "about 1.8 min"),  # full: 24.5 min measured with one fine-tuning factor, +15% of the steps for the second
)}


def run_quick_command(root: Path) -> str:
    """The report's own command that makes every missing result at quick settings."""
    extra = [] if Path(root) == Path("output") else ["--output-root", str(root)]
    return shlex.join(["python", "-m", "pyimagesearch.report", "--run", "quick", *extra])


@dataclass(frozen=True)
class QuestionSpec:
    id: str
    title: str
    task: str
    experiments: tuple[str, ...]
    reading: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        return "q" + self.id.split(" ")[0].replace(".", "-")


QUESTIONS = (
    QuestionSpec("1.1", "Training loss against the learning rate",
                 "Batch 64, 10 learning rates from 1e-9 to 1e1, 5 epochs each: plot the training loss against the "
                 "learning rate (like Smith's Figure 3) and read lr_min and lr_max from it.",
                 ("lr_grid", "find_lr"), (f"{SMITH}, section 3.3 and Figure 3 (the LR range test)",)),
    QuestionSpec("1.2", "Cyclical learning rate with exponential decay",
                 "Train with the cyclical policy (exp_range) between lr_min and lr_max at batch 64; plot training and "
                 "validation loss and accuracy (like Smith's Figure 4).",
                 ("clr",), (f"{SMITH}, section 3.1 (the policies) and Figure 4",)),
    QuestionSpec("1.3", "A growing batch size at a fixed learning rate",
                 "Fix the LR to lr_max, double the batch size from 32 to 4096, plot the training loss against "
                 "log2(batch size); does the final model generalize like the cyclical policy's?",
                 ("batch_growth", "comparison")),
    QuestionSpec("2.1", "AlexNet's parameters, layer by layer",
                 "Count AlexNet's parameters with the calculation of every layer shown, and their sum.",
                 ("alexnet",), (f"{ALEXNET}, section 3.5 and Figure 2",)),
    QuestionSpec("2.2", "VGG19: activations and parameters (Table 1)",
                 "Complete the task's Table 1: activations and parameters (no biases) of every VGG19 layer.",
                 ("vgg19",), (f"{VGG}, Table 1 (configuration E)",)),
    QuestionSpec("2.3", "Receptive field of stacked convolutions",
                 "Show that N stacked FxF convolutions see (NF - N + 1) x (NF - N + 1) pixels; compute it for three 5x5.",
                 ("receptive_field",), (f"{VGG}, section 2.3",)),
    QuestionSpec("2.4 (b-d)", "Naive and dimension-reduction Inception modules",
                 "At a 32x32x256 input: the output size after concatenation (b), the convolution operations of both "
                 "modules (c), and the saving of the dimension reductions (d).",
                 ("inception",), (f"{GOOGLENET}, sections 4-5 and Figure 2",)),
    QuestionSpec("2.5 (c-d)", "Region proposals and non-maximum suppression",
                 "How the RPN generates proposals on an example image (c); how NMS brings them down to about 2,000, "
                 "with an example (d).",
                 ("detection",),
                 (f"{FASTER_RCNN}, section 3.1, 3.1.1 (anchors), 3.1.2 (the loss) and 3.3 (NMS and the 2,000 proposals)",)),
    QuestionSpec("3.1 (a-c)", "Fine-tuning ResNet50 on a target data set",
                 "Describe the target data set (classes, images per class, 4 samples from 2 classes) (a); fine-tune "
                 "every layer at LR 0.001 (b), then 0.01 and 0.1 (c), momentum 0.9, batch 64, 50-60 epochs, "
                 "three drops of the LR by 0.1.",
                 ("transfer",), (CS231N,)),
    QuestionSpec("3.2 (a-b)", "ResNet50 as a fixed feature extractor",
                 "Train only the last layer at LR 1, 0.1, 0.01 and 0.001 (a); the best approach and LR overall (b).",
                 ("transfer",),
                 (f"{CS231N}, \"When and how to fine-tune?\": for the plausible explanation that 3.2 (b) asks for",)),
    QuestionSpec("4.2 (a-b)", "Label noise and resampling (Mahajan et al.)",
                 "Are models trained on hashtags robust to label noise, with the paper's numbers (a)? Why resample "
                 "the hashtag distribution (b)? Below, the same two experiments at small scale.",
                 ("label_noise", "resampling"),
                 (f"{MAHAJAN}, section 3: the label-noise and resampling experiments, whose numbers 4.2 (a) asks for",)),
    QuestionSpec("4.3 (b-d)", "Teacher and student: K, P and Figure 5 (Yalniz et al.)",
                 "What K and P are and why P > 1 (b); how the new labelled set is made and whether an image can be in "
                 "several classes (c); why accuracy first rises then falls with K (d). Below, the same pipeline at "
                 "small scale.",
                 ("teacher_student",), (f"{YALNIZ}, section 3 (the pipeline, K and P) and Figure 5",)),
)

READING_QUESTIONS = (
    ("2.4 (a)", "The general idea behind the Inception module.", f"{GOOGLENET}, sections 4-5 and Figure 2"),
    ("2.5 (a)", "The main difference between Fast R-CNN and Faster R-CNN that makes detection faster.",
     f"{FASTER_RCNN}, section 1 and section 3"),
    ("2.5 (b)", "What the Region Proposal Network is, and its architecture.", f"{FASTER_RCNN}, section 3.1 and Figure 3"),
    ("3.2 (b)", "A plausible explanation of why the winning approach wins.", f"{CS231N}, \"When and how to fine-tune?\""),
    ("4.1", "Weakly supervised against semi-supervised pre-training on the same billion images.",
     f"{MAHAJAN}, section 1; {YALNIZ}, sections 1 and 3"),
    ("4.3 (a)", "Why a teacher and a student, and why this is distillation.", f"{YALNIZ}, section 3"),
)
