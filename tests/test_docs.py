"""docs/adding-a-model.md quotes the shipped example family exactly, and the family touched no file outside
its own folder and its test module."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "adding-a-model.md"


def test_every_file_the_doc_quotes_is_quoted_exactly():
    blocks = re.findall(r'```python title="([^"]+)"\n(.*?)```', DOC.read_text(), flags=re.S)
    assert {path for path, _ in blocks} == {"src/hild/families/online_regression/scenario.py",
                                           "src/hild/families/online_regression/__init__.py",
                                           "tests/families/test_online_regression.py"}
    for path, text in blocks:
        assert text == (ROOT / path).read_text(), f"docs/adding-a-model.md quotes an outdated {path}"


def test_the_example_family_is_named_nowhere_else_in_the_package():
    own = ROOT / "src" / "hild" / "families" / "online_regression"
    others = [p for p in (ROOT / "src").rglob("*.py") if own not in p.parents and "online_regression" in p.read_text()]
    assert others == []
