"""Convolutional AE and VAE (Keras 3, TensorFlow backend) as in SPEC §3.

Both share :class:`LatentAutoencoder`, so an AE reports the same ``total_loss`` / ``reco_loss`` /
``kl_loss`` (= 0) as a VAE and their numbers are comparable. The reconstruction term is the per-pixel
loss averaged over the 3 channels and *summed* over H×W per image, then averaged over the batch: the
scale on which the seeds' numbers live (a 96×96 AE ≈ 4,500 per image).
"""

from __future__ import annotations

from .. import _env  # noqa: F401  (quiet TF logs before the import below)

import keras
import tensorflow as tf
from keras import layers, ops

from ..data.tfdata import worker_count
from ..schemas import ModelConfig

PACKAGE = "latentexplorer"


def _activation(name: str, layer_name: str) -> layers.Layer:
    if name == "leaky_relu":
        return layers.LeakyReLU(name=layer_name)
    if name == "relu":
        return layers.ReLU(name=layer_name)
    return layers.Activation("selu", name=layer_name)


def _kernel_init(cfg: ModelConfig) -> str:
    # SELU self-normalises only with LeCun-normal initial weights.
    return "lecun_normal" if cfg.activation == "selu" else "glorot_uniform"


def build_encoder(cfg: ModelConfig) -> keras.Model:
    """Encoder: image (b, s, s, 3) in [0, 1] → z (b, z_dim) (AE) or [mu, logvar] (VAE).

    Parameters
    ----------
    cfg : ModelConfig

    Returns
    -------
    keras.Model named "encoder" (functional: loads with ``safe_mode=True`` and no custom objects).
    """
    inp = keras.Input((cfg.image_size, cfg.image_size, 3), name="image")
    x = inp
    for i, (f, k, s) in enumerate(zip(cfg.encoder_filters, cfg.encoder_kernels, cfg.encoder_strides)):
        x = layers.Conv2D(f, k, strides=s, padding="same", kernel_initializer=_kernel_init(cfg),
                          name=f"enc_conv{i}")(x)
        if cfg.batchnorm:
            x = layers.BatchNormalization(name=f"enc_bn{i}")(x)
        x = _activation(cfg.activation, f"enc_act{i}")(x)
        if cfg.dropout > 0:
            x = layers.Dropout(cfg.dropout, name=f"enc_dropout{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    if cfg.kind == "ae":
        # the output heads compute in float32 under a mixed policy: latents are float32
        z = layers.Dense(cfg.z_dim, name="z", dtype="float32")(x)
        return keras.Model(inp, z, name="encoder")
    mu = layers.Dense(cfg.z_dim, name="mu", dtype="float32")(x)
    logvar = layers.Dense(cfg.z_dim, name="logvar", dtype="float32")(x)
    return keras.Model(inp, [mu, logvar], name="encoder")


def build_decoder(cfg: ModelConfig) -> keras.Model:
    """Decoder: z (b, z_dim) → image (b, s, s, 3) in [0, 1] (sigmoid).

    Dense(h·w·c) → Reshape to the encoder's last feature map → mirrored Conv2DTranspose stack
    (or UpSampling2D + Conv2D with ``cfg.upsampling``), the last layer with 3 channels.
    """
    inp = keras.Input((cfg.z_dim,), name="z")
    h, w, c = cfg.feature_shape
    x = layers.Dense(h * w * c, name="dec_dense")(inp)
    x = layers.Reshape((h, w, c), name="dec_reshape")(x)
    n = len(cfg.decoder_filters)
    for i, (f, k, s) in enumerate(zip(cfg.decoder_filters, cfg.decoder_kernels, cfg.decoder_strides)):
        init = "glorot_uniform" if i == n - 1 else _kernel_init(cfg)
        if cfg.upsampling:
            if s > 1:
                x = layers.UpSampling2D(s, name=f"dec_up{i}")(x)
            x = layers.Conv2D(f, k, padding="same", kernel_initializer=init, name=f"dec_conv{i}")(x)
        else:
            x = layers.Conv2DTranspose(f, k, strides=s, padding="same", kernel_initializer=init,
                                       name=f"dec_conv{i}")(x)
        if i == n - 1:
            # float32 under a mixed policy: the losses compare these values with the images
            x = layers.Activation("sigmoid", name="reconstruction", dtype="float32")(x)
            break
        if cfg.batchnorm:
            x = layers.BatchNormalization(name=f"dec_bn{i}")(x)
        x = _activation(cfg.activation, f"dec_act{i}")(x)
        if cfg.dropout > 0:
            x = layers.Dropout(cfg.dropout, name=f"dec_dropout{i}")(x)
    return keras.Model(inp, x, name="decoder")


def reconstruction_loss(x, y, kind: str = "bce"):
    """Per-image reconstruction loss.

    Parameters
    ----------
    x : tensor (b, h, w, 3)
        Targets in [0, 1].
    y : tensor (b, h, w, 3)
        Reconstructions in [0, 1].
    kind : {"bce", "mse"}

    Returns
    -------
    tensor (b,)
        Channel-mean per-pixel loss summed over h and w.
    """
    if kind == "bce":
        per_pixel = keras.losses.binary_crossentropy(x, y)  # mean over the channel axis
    elif kind == "mse":
        per_pixel = ops.mean(ops.square(x - y), axis=-1)
    else:
        raise ValueError(f"reconstruction loss {kind!r}: expected 'bce' or 'mse'")
    return ops.sum(per_pixel, axis=(1, 2))


def kl_divergence(mu, logvar):
    """KL(N(mu, exp(logvar)) ‖ N(0, 1)) per image: tensors (b, z_dim) → (b,)."""
    return -0.5 * ops.sum(1.0 + logvar - ops.square(mu) - ops.exp(logvar), axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Sampling(layers.Layer):
    """z = mu + exp(logvar / 2) · eps · eps_factor with eps ~ N(0, 1) clipped to |eps| ≤ eps_clip.

    With ``training`` false it returns mu (predict / encode mode). Inputs ``[mu, logvar]``, each
    (b, z_dim); output (b, z_dim).
    """

    def __init__(self, eps_factor: float = 1.0, eps_clip: float = 5.0, seed: int | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.eps_factor = float(eps_factor)
        self.eps_clip = float(eps_clip)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def draw_eps(self, shape, dtype):
        """Unclipped standard-normal noise (a separate method so tests can force extreme values)."""
        return keras.random.normal(shape, dtype=dtype, seed=self.seed_generator)

    def call(self, inputs, training=None):
        mu, logvar = inputs
        if not training:
            return mu
        eps = ops.clip(self.draw_eps(ops.shape(mu), mu.dtype), -self.eps_clip, self.eps_clip)
        return mu + ops.exp(0.5 * logvar) * eps * self.eps_factor

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "eps_factor": self.eps_factor, "eps_clip": self.eps_clip,
                "seed": self.seed}


def _images(data):
    """The image batch of a dataset element (x or (x, ...)) as float32 in [0, 1]."""
    x = data[0] if isinstance(data, (tuple, list)) else data
    if x.dtype == tf.uint8:
        return ops.cast(x, "float32") / 255.0
    return ops.cast(x, "float32")


@keras.saving.register_keras_serializable(package=PACKAGE)
class LatentAutoencoder(keras.Model):
    """Base of :class:`AE` and :class:`VAE`: encoder + decoder + the shared loss bookkeeping.

    Attributes
    ----------
    model_config : ModelConfig
    encoder : keras.Model
        AE: image → z; VAE: image → [mu, logvar].
    decoder : keras.Model
        z → image in [0, 1].
    """

    kind = "ae"

    def __init__(self, model_config: ModelConfig | dict, **kwargs) -> None:
        super().__init__(**kwargs)
        cfg = model_config if isinstance(model_config, ModelConfig) else ModelConfig.from_dict(model_config)
        if cfg.kind != self.kind:
            raise ValueError(f"{type(self).__name__} needs a model config of kind {self.kind!r}, got {cfg.kind!r}")
        self.model_config = cfg
        self.encoder = build_encoder(cfg)
        self.decoder = build_decoder(cfg)
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reco_loss_tracker = keras.metrics.Mean(name="reco_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        if self.kind == "vae":
            # float32 under a mixed policy: mu + sigma * eps of float32 heads
            self.sampling = Sampling(cfg.eps_factor, cfg.eps_clip, name="sampling", dtype="float32")
        # All variables exist now. Marking the model built matters for loading: Keras restores the
        # optimizer state only into a model that is built when its compile config is applied
        # (train_step calls encoder/decoder directly, so fit() alone never builds the outer model).
        self.built = True

    # --- forward -------------------------------------------------------------------------------
    def forward(self, x, *, training: bool = False, sample: bool = False):
        """Run the model; returns (reconstruction (b,s,s,3), mu (b,z_dim), logvar (b,z_dim) | None).

        For the AE ``mu`` is z and ``logvar`` is None.
        """
        z = self.encoder(x, training=training)
        return self.decoder(z, training=training), z, None

    def call(self, x, training=None):
        y, _, _ = self.forward(_images(x), training=bool(training), sample=bool(training))
        return y

    def compute_losses(self, x, *, training: bool, sample: bool):
        """Batch means (total, reco, kl) of the per-image losses; x (b, s, s, 3) in [0, 1]."""
        y, mu, logvar = self.forward(x, training=training, sample=sample)
        reco = ops.mean(reconstruction_loss(x, y, self.model_config.loss))
        if logvar is None:
            kl = ops.zeros_like(reco)
            total = reco
        else:
            kl = ops.mean(kl_divergence(mu, logvar))
            total = reco + self.model_config.fact * kl
        return total, reco, kl

    # --- Keras training hooks --------------------------------------------------------------------
    @property
    def metrics(self):
        # Listed here so Keras resets them at each epoch start and reports them in the logs.
        return [self.total_loss_tracker, self.reco_loss_tracker, self.kl_loss_tracker]

    def _record(self, x, total, reco, kl) -> dict:
        # Weight by batch size so the epoch mean is per image even with a short last batch.
        n = ops.cast(ops.shape(x)[0], "float32")
        self.total_loss_tracker.update_state(total, sample_weight=n)
        self.reco_loss_tracker.update_state(reco, sample_weight=n)
        self.kl_loss_tracker.update_state(kl, sample_weight=n)
        if worker_count(tf.distribute.get_strategy()) > 1:
            # Keras 3 reduces the step's outputs across workers with
            # strategy.reduce("MEAN", v, axis=0), which fails on scalars (tensorflow#72388):
            # shape (1,) makes it the mean over the workers' equal shards
            return {m.name: ops.reshape(m.result(), (1,)) for m in self.metrics}
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x = _images(data)
        with tf.GradientTape() as tape:
            total, reco, kl = self.compute_losses(x, training=True, sample=True)
            # Under tf.distribute the optimizer sums the replicas' gradients: scale so the update
            # equals that of the global batch mean.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = total / replicas if replicas > 1 else total
            scaled = self.optimizer.scale_loss(scaled)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._record(x, total, reco, kl)

    def test_step(self, data):
        # BatchNorm/Dropout in inference mode, but the VAE still samples z so that the validation
        # losses estimate the same objective as the training losses (comparable curves).
        x = _images(data)
        total, reco, kl = self.compute_losses(x, training=False, sample=True)
        return self._record(x, total, reco, kl)

    # --- serialisation ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "model_config": self.model_config.to_dict()}

    @classmethod
    def from_config(cls, config: dict) -> "LatentAutoencoder":
        return cls(ModelConfig.from_dict(config["model_config"]), name=config.get("name"))


@keras.saving.register_keras_serializable(package=PACKAGE)
class AE(LatentAutoencoder):
    """Plain autoencoder: z = encoder(x); kl_loss is 0 and total_loss = reco_loss."""

    kind = "ae"


@keras.saving.register_keras_serializable(package=PACKAGE)
class VAE(LatentAutoencoder):
    """Variational autoencoder: encoder → (mu, logvar) → :class:`Sampling` → decoder.

    loss = reco + fact · KL, both per image and averaged over the batch. In predict mode z = mu.
    """

    kind = "vae"

    def forward(self, x, *, training: bool = False, sample: bool = False):
        mu, logvar = self.encoder(x, training=training)
        z = self.sampling([mu, logvar], training=sample)
        return self.decoder(z, training=training), mu, logvar


def build_model(cfg: ModelConfig, learning_rate: float = 5e-4, *,
                jit_compile: bool = False) -> LatentAutoencoder:
    """An :class:`AE` or :class:`VAE` for ``cfg``, compiled with Adam(``learning_rate``).

    Call it inside ``strategy.scope()`` for multi-device training, and inside
    :func:`latentexplorer.models.precision.dtype_policy` for mixed precision. ``jit_compile``
    compiles the train step with XLA.
    """
    model = (VAE if cfg.kind == "vae" else AE)(cfg, name=cfg.kind)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  jit_compile=bool(jit_compile))
    return model
