import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_for_installation():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "sheetsync").rglob("*")
             if p.is_dir() and any(p.glob("*.py")) and "__pycache__" not in p.parts}
    assert found <= listed and "sheetsync.checkpoints" in listed


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = 'pip install -e ".[dev]" && pytest'
    assert f"```sh\n{command}\n```" in readme
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
