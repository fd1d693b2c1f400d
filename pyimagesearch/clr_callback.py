"""Cyclical learning rates for Keras 3: a per-batch callback and an optimizer schedule.

Both are thin glue over the pure formula ``pyimagesearch.lr_policies.clr``
(Smith 2017, "Cyclical Learning Rates for Training Neural Networks",
arXiv 1506.01186, section 3.1), with ``t`` the iteration and ``s`` the step
size (half a cycle, in iterations)::

    cycle = floor(1 + t / (2 * s))
    x = abs(t / s - 2 * cycle + 1)
    lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale

``scale`` is 1 (triangular), 1 / 2**(cycle - 1) (triangular2) or gamma**t
(exp_range).

- ``CyclicLR`` is the callback of bckenstler/CLR (and of pyimagesearch's
  ``clr_callback.py``) ported to Keras 3: it sets the optimizer's LR after
  every batch, so it needs ``steps_per_execution=1``.
- ``CyclicalLearningRate`` is a ``LearningRateSchedule``: the optimizer
  evaluates it on ``optimizer.iterations`` inside the compiled train step,
  so it gives the same LR at every step also with ``steps_per_execution > 1``,
  and it saves with the model (``get_config`` holds only plain values).
"""

from __future__ import annotations

import keras
from keras import ops

from pyimagesearch.lr_policies import CLR_MODES, check_clr_args, clr


class CyclicLR(keras.callbacks.Callback):
    """Cycle the learning rate between ``base_lr`` and ``max_lr`` batch by batch.

    Same constructor as bckenstler/CLR's ``CyclicLR``::

        clr = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000., mode="exp_range", gamma=0.99994)
        model.fit(x, y, callbacks=[clr])

    Batch ``k`` (counted over all ``fit`` calls since construction or
    ``_reset``) trains with ``lr_policies.clr(k, ...)``.

    Args:
        base_lr: lower boundary of the cycle (the LR at iteration 0).
        max_lr: upper boundary; reached at ``step_size`` unless scaled down.
        step_size: iterations per half cycle (Smith: 2-10 x iterations per epoch);
            need not be an integer.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``; ignored when
            ``scale_fn`` is given.
        gamma: the exp_range decay per iteration, in (0, 1].
        scale_fn: optional custom amplitude scale, a one-argument function with
            ``0 <= scale_fn(v) <= 1``.
        scale_mode: ``"cycle"`` or ``"iterations"``: what ``scale_fn`` is a
            function of.

    Attributes:
        history: ``{"iterations": [...], "lr": [...]}``, one entry per batch:
            the iteration number and the LR that batch trained with.
            (bckenstler's version stores, after batch ``k``, the LR set for
            batch ``k + 1``, and also ``logs``; the loss in ``logs`` is the
            epoch's running mean in Keras 3, not the batch's loss, so it is
            not recorded here.)
    """

    def __init__(self, base_lr=0.001, max_lr=0.006, step_size=2000.0, mode="triangular", gamma=1.0,
                 scale_fn=None, scale_mode="cycle"):
        super().__init__()
        # With a custom scale_fn the mode is ignored, as in bckenstler/CLR.
        check_clr_args(base_lr, max_lr, step_size, mode if scale_fn is None else CLR_MODES[0], gamma)
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"Argument `scale_mode` must be 'cycle' or 'iterations'. Received: scale_mode={scale_mode!r}")
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size = step_size
        self.mode = mode
        self.gamma = gamma
        self.scale_fn = scale_fn
        self.scale_mode = scale_mode
        self.clr_iterations = 0
        self.trn_iterations = 0
        self.history = {"iterations": [], "lr": []}

    def _reset(self, new_base_lr=None, new_max_lr=None, new_step_size=None):
        """Restart the cycle at iteration 0, optionally with new boundaries or step size."""
        base_lr = self.base_lr if new_base_lr is None else new_base_lr
        max_lr = self.max_lr if new_max_lr is None else new_max_lr
        step_size = self.step_size if new_step_size is None else new_step_size
        check_clr_args(base_lr, max_lr, step_size, CLR_MODES[0], self.gamma)  # the mode was checked at construction
        self.base_lr, self.max_lr, self.step_size = base_lr, max_lr, step_size
        self.clr_iterations = 0

    def clr(self) -> float:
        """The LR for the current cycle iteration."""
        return float(clr(self.clr_iterations, self.base_lr, self.max_lr, self.step_size, self.mode,
                         self.gamma, self.scale_fn, self.scale_mode))

    def on_train_begin(self, logs=None):
        steps_per_execution = getattr(self.model, "steps_per_execution", 1)
        if steps_per_execution != 1:
            raise ValueError(
                "CyclicLR sets the learning rate once per batch, which needs the model compiled with "
                f"steps_per_execution=1 (it has {steps_per_execution}); use the CyclicalLearningRate schedule instead"
            )
        self.model.optimizer.learning_rate = self.clr()

    def on_train_batch_end(self, batch, logs=None):
        self.history["iterations"].append(self.trn_iterations)
        self.history["lr"].append(self.clr())
        self.trn_iterations += 1
        self.clr_iterations += 1
        self.model.optimizer.learning_rate = self.clr()


@keras.saving.register_keras_serializable(package="pyimagesearch")
class CyclicalLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """A cyclical LR schedule, evaluated on the optimizer's step inside the train step.

    Gives the same LR as ``CyclicLR`` at every optimizer step::

        def lr(step):
            return lr_policies.clr(step, base_lr, max_lr, step_size, mode, gamma)

        optimizer = keras.optimizers.SGD(CyclicalLearningRate(0.001, 0.006, 2000., "exp_range", 0.99994))
        model.compile(optimizer, ..., steps_per_execution=32)

    The formula is evaluated in float64 and rounded once to float32, exactly
    as a Python float assigned to the optimizer's float32 LR variable, so the
    two agree to the last bit rather than to float32 round-off of
    ``gamma**step`` over tens of thousands of steps.

    Args:
        base_lr: lower boundary of the cycle (the LR at step 0).
        max_lr: upper boundary of the cycle.
        step_size: steps per half cycle; need not be an integer.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: the exp_range decay per step, in (0, 1].
        name: name scope of the computation.

    Returns:
        (when called with a step) the LR as a float32 scalar tensor.
    """

    def __init__(self, base_lr, max_lr, step_size, mode="triangular", gamma=1.0, name="CyclicalLearningRate"):
        super().__init__()
        check_clr_args(base_lr, max_lr, step_size, mode, gamma)
        self.base_lr = float(base_lr)
        self.max_lr = float(max_lr)
        self.step_size = float(step_size)
        self.mode = mode
        self.gamma = float(gamma)
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name):
            iteration = ops.cast(step, "float64")
            lr = clr(iteration, self.base_lr, self.max_lr, self.step_size, self.mode, self.gamma, xp=ops)
            return ops.cast(lr, "float32")

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
            "name": self.name,
        }
