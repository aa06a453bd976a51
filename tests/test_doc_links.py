"""The HTML repr of every public estimator links to its page of the API reference."""

import inspect
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

import skinterp

API = (Path(__file__).resolve().parents[1] / "doc" / "api.rst").read_text()
ESTIMATORS = [
    name
    for name in skinterp.__all__
    if inspect.isclass(getattr(skinterp, name))
    and issubclass(getattr(skinterp, name), BaseEstimator)
]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_html_repr_links_to_the_api_page(name, monkeypatch):
    monkeypatch.delenv("SKINTERP_DOC_URL", raising=False)
    estimator = getattr(skinterp, name)()
    link = estimator._get_doc_link()
    assert link == f"{skinterp._base.DOC_URL}gen_modules/skinterp.{name}.html"
    assert link in estimator._repr_html_()
    # The page exists in the docs: the class is listed in an autosummary of api.rst.
    assert f"\n   {name}\n" in API


def test_doc_url_can_point_at_a_local_build(monkeypatch):
    monkeypatch.setenv("SKINTERP_DOC_URL", "file:///tmp/skinterp-docs/html")
    link = skinterp.KernelInterpolator()._get_doc_link()
    assert link == "file:///tmp/skinterp-docs/html/gen_modules/skinterp.KernelInterpolator.html"
