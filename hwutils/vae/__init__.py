"""Single-image VAE stage: learn one person's handwritten digit from one image.

Modules, in the order the notebook uses them:

* :mod:`~hwutils.vae.input`    any image file -> the MNIST-like 28x28 digit (bad input -> ImageError)
* :mod:`~hwutils.vae.augment`  the seed's augmentation list (albumentations)
* :mod:`~hwutils.vae.data`     real digits: MNIST-format IDX files or scikit-learn's bundled digits
* :mod:`~hwutils.vae.model`    Sampling layer, VAE (reconstruction + beta x KL), sample/encode/decode, load from a run
* :mod:`~hwutils.vae.latent`   interpolation strips, t-SNE of latent codes
* :mod:`~hwutils.vae.cnn`      the small CNN used by the judge and the 3-class classifier
* :mod:`~hwutils.vae.quality`  recognized share, Fréchet distance, diversity (judge trained on real digits)
* :mod:`~hwutils.vae.threeway` yours vs real vs other digits: training, held-out evaluation, classify from a run
"""
