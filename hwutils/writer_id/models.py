"""Writer-identification CNNs, chosen by name.

* ``seed_cnn``: the seed notebook's network (conv 32/64/128 with pooling,
  dense 512/256, softmax).
* ``half_deepwriter``: one DeepWriter stream on a ``height`` x ``height`` patch
  (Xing and Qiao 2016: conv 96 5x5/2, pool, conv 256, pool, conv 384, 384, 256,
  pool, fc 1024, fc 1024, softmax), with batch normalisation.
* ``deepwriter``: two adjacent patches (``height`` x 2*``height``) read by two
  streams that share every weight; their fc6 features are averaged, then
  fc7 and softmax.

``width`` scales every layer's size (1.0 = the paper's sizes); small values
train in minutes on a CPU. The layer named ``embedding`` (the last hidden
layer) gives the features used for new-writer detection and enrolment.
No Lambda layers: models save as ``.keras`` and load with ``safe_mode``.

Training goes through :func:`training_model`: the same network (shared
weights) behind a :class:`PatchInput` layer that takes the uint8 patch columns
of :func:`hwutils.writer_id.data.raw_patches` and does the cast, rescale,
transpose, ink jitter and augmentation on the training device. The saved
model is the network itself (float ink patches in), as
:mod:`hwutils.writer_id.identify` expects.
"""

from __future__ import annotations

import keras
from keras import layers

from hwutils.errors import ParamsError, check_choice
from hwutils.writer_id.data import columns_to_patches

MODELS = ("seed_cnn", "half_deepwriter", "deepwriter")
POOLINGS = ("flatten", "average")


def input_width(name: str, height: int) -> int:
    """Width of the model's input window: ``2 * height`` for DeepWriter, else ``height``."""
    return 2 * height if name == "deepwriter" else height


def _n(base: int, width: float) -> int:
    return max(4, int(round(base * width)))


def _conv(x, filters, kernel, strides=1):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    return layers.ReLU()(x)


def _deepwriter_stream(
    height: int, width: float, dropout: float, name: str, pooling: str = "flatten"
) -> keras.Model:
    """conv1..conv5 and fc6 of DeepWriter for a ``height`` x ``height`` patch
    (``pooling``: ``flatten`` as in the paper, or ``average`` = global average
    pooling of conv5, fewer weights and less overfitting on small data)."""
    inp = keras.Input((height, height, 1))
    x = _conv(inp, _n(96, width), 5, strides=2)
    x = layers.MaxPooling2D(3, 2, padding="same")(x)
    x = _conv(x, _n(256, width), 3)
    x = layers.MaxPooling2D(3, 2, padding="same")(x)
    x = _conv(x, _n(384, width), 3)
    x = _conv(x, _n(384, width), 3)
    x = _conv(x, _n(256, width), 3)
    if pooling == "average":
        x = layers.GlobalAveragePooling2D()(x)
    else:
        x = layers.MaxPooling2D(3, 2, padding="same")(x)
        x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(_n(1024, width), activation="relu", name="fc6")(x)
    return keras.Model(inp, x, name=name)


def build_model(
    name: str,
    n_writers: int,
    height: int = 113,
    width: float = 1.0,
    dropout: float = 0.5,
    pooling: str = "flatten",
) -> keras.Model:
    """A Keras model from a ``height`` x ``input_width`` x 1 ink patch (ink = 1)
    to ``n_writers`` softmax scores."""
    check_choice("model", name, MODELS)
    check_choice("pooling", pooling, POOLINGS)
    if n_writers < 2:
        raise ParamsError(f"need at least 2 writers to train, got {n_writers}")
    inp = keras.Input((height, input_width(name, height), 1), name="patch")
    if name == "seed_cnn":
        x = inp
        for f in (32, 64, 128):
            x = layers.Conv2D(_n(f, width), 3, padding="same", activation="relu")(x)
            x = layers.MaxPooling2D(2)(x)
        x = layers.Flatten()(x)
        x = layers.Dropout(dropout)(x)
        x = layers.Dense(_n(512, width), activation="relu")(x)
        x = layers.Dense(_n(256, width), activation="relu", name="embedding")(x)
    else:
        stream = _deepwriter_stream(height, width, dropout, name="stream", pooling=pooling)
        if name == "half_deepwriter":
            x = stream(inp)
        else:
            left = layers.Cropping2D(((0, 0), (0, height)), name="left_patch")(inp)
            right = layers.Cropping2D(((0, 0), (height, 0)), name="right_patch")(inp)
            x = layers.Average(name="combine_streams")([stream(left), stream(right)])
        x = layers.Dropout(dropout)(x)
        x = layers.Dense(_n(1024, width), activation="relu", name="embedding")(x)
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_writers, activation="softmax", name="writer")(x)
    return keras.Model(inp, out, name=name)


def with_embedding(model: keras.Model) -> keras.Model:
    """The same network with two outputs: softmax scores and the ``embedding`` layer."""
    return keras.Model(model.inputs, [model.output, model.get_layer("embedding").output])


def compile_model(model: keras.Model, learning_rate: float = 1e-3, decay_steps: int = 0) -> keras.Model:
    """Adam, sparse categorical cross-entropy, accuracy and top-5 accuracy.

    ``decay_steps`` > 0: the learning rate follows a cosine from
    ``learning_rate`` down to 1% of it over that many training steps."""
    k = min(5, model.output.shape[-1])
    lr = (
        keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.01)
        if decay_steps > 0
        else learning_rate
    )
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k, name="top5")],
    )
    return model


@keras.saving.register_keras_serializable(package="hwutils")
class PatchInput(layers.Layer):
    """``(B, crop_width, height)`` uint8 ink columns -> ``(B, height, crop_width, 1)``
    float ink patches (ink = 1). In training each patch gets a random ink
    strength (``ink_jitter``) and, with ``augment``, a random zoom, slant and
    shift (see :func:`hwutils.writer_id.data.columns_to_patches`); the random
    numbers are stateless ops fed from a seeded :class:`keras.random.SeedGenerator`,
    so a run is repeatable. At inference the pixels are only rescaled."""

    def __init__(self, ink_jitter: float = 0.15, augment: bool = False, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.ink_jitter = float(ink_jitter)
        self.augment = bool(augment)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=None):
        seed = self.seed_generator.next() if training and (self.ink_jitter or self.augment) else None
        return columns_to_patches(inputs, seed, self.ink_jitter, self.augment)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2], input_shape[1], 1)

    def get_config(self):
        return {
            **super().get_config(),
            "ink_jitter": self.ink_jitter,
            "augment": self.augment,
            "seed": self.seed,
        }


def training_model(
    net: keras.Model, ink_jitter: float = 0.15, augment: bool = False, seed: int = 0
) -> keras.Model:
    """``net`` (float ink patches in) behind a :class:`PatchInput` layer: a model
    that trains on the uint8 columns of :func:`hwutils.writer_id.data.raw_patches`
    and shares every weight with ``net`` (train this one, save ``net``)."""
    height, width = net.input_shape[1:3]
    inp = keras.Input((width, height), dtype="uint8", name="columns")
    x = PatchInput(ink_jitter, augment, seed, name="patch_input")(inp)
    return keras.Model(inp, net(x), name=f"{net.name}_training")
