"""Every public parameter is documented: the numpydoc ``Parameters`` section of each public
class and function lists exactly the arguments of its signature."""

import inspect
import re

import pytest

import skinterp
import skinterp.datasets
import skinterp.experiments

PUBLIC_CLASSES = [getattr(skinterp, name) for name in skinterp.__all__]
PUBLIC_FUNCTIONS = [
    getattr(skinterp.datasets, name)
    for name in (
        "load_mnist",
        "load_california",
        "corrupt_labels",
        "load_mnist_sample",
        "load_california_sample",
        "write_sample_files",
        "data_folder",
    )
] + [skinterp.experiments.get_experiment, skinterp.experiments.show_figures]


def documented_parameters(docstring):
    """Names listed in the numpydoc ``Parameters`` section (``a, b : type`` lists both)."""
    match = re.search(
        r"\n\s*Parameters\n\s*-+\n(.*?)(\n\s*[A-Z][a-z ]+\n\s*-{3,}\n|\Z)", docstring or "", re.S
    )
    if match is None:
        return set()
    section = match.group(1)
    indent = min(
        (len(line) - len(line.lstrip()) for line in section.splitlines() if line.strip()),
        default=0,
    )
    names = set()
    for line in section.splitlines():
        if line.strip() and len(line) - len(line.lstrip()) == indent:
            head = line.strip().split(" :")[0]
            names.update(name.strip().lstrip("*") for name in head.split(","))
    return names


def signature_parameters(obj):
    function = obj.__init__ if inspect.isclass(obj) else obj
    return {
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if name != "self"
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    }


@pytest.mark.parametrize("obj", PUBLIC_CLASSES + PUBLIC_FUNCTIONS, ids=lambda obj: obj.__name__)
def test_every_parameter_is_documented(obj):
    documented = documented_parameters(inspect.getdoc(obj) and obj.__doc__)
    expected = signature_parameters(obj)
    assert expected - documented == set(), f"undocumented parameters of {obj.__name__}"
    assert documented - expected == set(), "documented but not in the signature"


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize(
    "method",
    ["fit", "predict", "predict_proba", "decision_function", "transform", "partial_fit", "score"],
)
def test_public_methods_have_a_docstring(cls, method):
    if hasattr(cls, method):
        assert inspect.getdoc(getattr(cls, method)), f"{cls.__name__}.{method} has no docstring"


SUBPACKAGES = [
    "kernels",
    "kernel_machine",
    "neighbors",
    "random_features",
    "simplicial",
    "experiments",
    "exceptions",
]


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_what_each_subpackage_promises_is_in_the_api_reference(subpackage):
    """A subpackage's ``__all__`` is its public promise: each name is on the API page (the
    distributed engine's are on its own page, doc/distributed.rst)."""
    import importlib
    from pathlib import Path

    api = (Path(__file__).parents[1] / "doc" / "api.rst").read_text()
    module = importlib.import_module(f"skinterp.{subpackage}")
    for name in module.__all__:
        in_api = f"{subpackage}.{name}" in api or (
            f"   {name}\n" in api and getattr(skinterp, name, None) is getattr(module, name)
        )
        assert in_api or name in ("EXPERIMENTS", "InterpolationThresholdWarning"), (
            f"skinterp.{subpackage}.{name} is in __all__ but not in doc/api.rst"
        )


def test_the_distributed_engine_documents_its_public_names():
    from pathlib import Path

    pytest.importorskip("distributed")
    import skinterp.distributed as distributed

    page = (Path(__file__).parents[1] / "doc" / "distributed.rst").read_text()
    missing = [name for name in distributed.__all__ if name not in page]
    assert missing == []
