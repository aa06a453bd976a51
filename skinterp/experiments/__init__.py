"""Reproducible experiments of the paper, one module per phenomenon.

Every experiment is a function of the same name as its module,
``skinterp.experiments.<name>.<name>(...)``, that takes its data explicitly (optional: by default
it loads it with :mod:`skinterp.datasets` or makes it), a ``random_state``, ``quick`` (a small
preset that runs in under a minute on two cores), ``verbose`` (progress on stderr) and its size
knobs, and returns an :class:`ExperimentResult`. ``python -m skinterp list`` names them all and
``python -m skinterp reproduce NAME`` runs one; the gallery calls the same functions.
"""

from importlib import import_module

from skinterp.experiments._figures import show_figures
from skinterp.experiments._result import ExperimentResult, format_table

#: name -> one line saying what the experiment shows (and where in the paper).
EXPERIMENTS = {
    "label_noise": "interpolating kernels, wiNN, simplicial and 1-NN fitted to noisy labels "
    "vs the Bayes error (3.4, Fig. 2)",
    "double_descent": "random Fourier/ReLU features: test risk and norm peak at N = n, then "
    "fall towards the kernel limit (3.7, Fig. 5, 7)",
    "random_relu_1d": "3, 30 and 3000 random ReLU features interpolating the same 1-D points "
    "(Fig. 6)",
    "singular_kernel_1d": "the weighted interpolating nearest neighbour on y = x + noise in 1-D "
    "(3.5.3, Fig. 4)",
    "simplex_localisation": "a corrupted vertex of a simplex spoils a volume 2^-d of it "
    "(3.5.2, Fig. 3)",
    "blessing_of_dimensionality": "simplicial interpolation's excess risk on noisy labels falls "
    "with d; 1-NN's does not (3.5.2)",
    "inverse_vs_direct": "kernel machine alpha = K^-1 y vs Nadaraya-Watson alpha = y, wiNN and "
    "1-NN (6.2)",
    "min_norm_linear": "benign overfitting of the minimum-norm linear interpolant vs ridge as "
    "d/n varies (3.8)",
    "critical_batch_size": "mini-batch SGD: linear scaling of the step in the batch size up to "
    "m* = tr(H)/lambda_max(H) (4.4, Fig. 10)",
    "sgd_interpolation": "fixed-step SGD converges exponentially when the model interpolates "
    "and stalls when it cannot (4.4)",
    "transition_to_linearity": "the tangent kernel of a wide two-layer network stays constant, "
    "change ~ 1/sqrt(width) (3.10)",
    "pl_condition": "the smallest eigenvalue of the tangent kernel along gradient descent, over- "
    "vs under-parameterised (4.1-4.3)",
    "square_loss_classification": "square loss vs cross-entropy training of the same models "
    "on MNIST (5.1)",
    "adversarial_raisins": "interpolants of noisy labels: the disagreeing set shrinks with n, "
    "and so does the distance to it (5.2, Fig. 11)",
    "early_stopping": "EigenPro stopped at each epoch vs run to interpolation (6.2)",
}


def get_experiment(name):
    """The experiment function called ``name`` (one of :data:`EXPERIMENTS`).

    Parameters
    ----------
    name : str
        The experiment's name, as ``python -m skinterp list`` prints it.

    Returns
    -------
    function : callable
        Its keyword arguments are the experiment's parameters; it returns an
        :class:`ExperimentResult`.

    Examples
    --------
    >>> from skinterp.experiments import get_experiment
    >>> get_experiment("double_descent").__name__
    'double_descent'
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"Unknown experiment {name!r}; choose one of {sorted(EXPERIMENTS)}.")
    return getattr(import_module(f"skinterp.experiments.{name}"), name)


__all__ = ["EXPERIMENTS", "ExperimentResult", "format_table", "get_experiment", "show_figures"]
