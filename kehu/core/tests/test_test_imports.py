"""No test imports another app's tests package: shared builders live in each app's `testing.py`
(kehu/customers/testing.py, kehu/sales/testing.py, ...) and kehu/core/testing/."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _own_app(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    return parts[1] if parts[0] == "kehu" and len(parts) > 2 else None


def _imported(tree) -> list[tuple[int, str]]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.lineno, node.module))
            names += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return names


def foreign_test_imports(path: Path) -> list[str]:
    own = _own_app(path)
    found = []
    for lineno, name in _imported(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        parts = name.split(".")
        if len(parts) >= 3 and parts[0] == "kehu" and parts[2] == "tests" and parts[1] != own:
            found.append(f"{path.relative_to(ROOT)}:{lineno} imports {'.'.join(parts[:3])}")
    return sorted(set(found))


def test_no_test_imports_another_apps_tests():
    files = [*ROOT.glob("kehu/*/tests/**/*.py"), *ROOT.glob("tests/**/*.py"), ROOT / "conftest.py"]
    assert len(files) > 20
    found = [line for path in files for line in foreign_test_imports(path)]
    assert not found, "move the shared helpers into the app's testing.py:\n" + "\n".join(found)


def test_the_scan_finds_a_foreign_import(tmp_path, monkeypatch):
    sample = ROOT / "kehu" / "customers" / "tests" / "test_x.py"
    source = "from kehu.sales.tests.test_records import make_opportunity\nimport kehu.core.tests.x\n" \
             "from kehu.customers.tests import y\n"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert foreign_test_imports(sample) == [
        "kehu/customers/tests/test_x.py:1 imports kehu.sales.tests",
        "kehu/customers/tests/test_x.py:2 imports kehu.core.tests",
    ]
