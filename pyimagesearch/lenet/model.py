"""LeNet-5 (LeCun et al. 1998) as usually adapted to 28x28 inputs.

    layer    operation                      output     parameters
    conv1    6 filters 5x5, 'same', ReLU    28x28x6    (5*5*1)*6 + 6 = 156
    pool1    max 2x2, stride 2              14x14x6    0
    conv2    16 filters 5x5, 'valid', ReLU  10x10x16   (5*5*6)*16 + 16 = 2,416
    pool2    max 2x2, stride 2              5x5x16     0
    flatten                                 400        0
    fc1      dense, ReLU                    120        400*120 + 120 = 48,120
    fc2      dense, ReLU                    84         120*84 + 84 = 10,164
    output   dense, softmax                 10         84*10 + 10 = 850

Total 61,706 parameters, about 0.42 M multiply-adds per image. Differences
from the 1998 paper: C1 pads to keep 28x28 (the paper fed 32x32 images),
ReLU instead of scaled tanh, max instead of trainable average pooling, full
C3 connectivity and a softmax output instead of RBF units.
"""

from __future__ import annotations

LENET5_PARAMS = 61_706


def build_lenet5(input_shape=(28, 28, 1), num_classes: int = 10):
    """Build the LeNet-5 variant above as a ``keras.Sequential`` (uncompiled)."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(6, 5, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(16, 5, padding="valid", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation="relu", name="fc1"),
            layers.Dense(84, activation="relu", name="fc2"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="lenet5",
    )
