"""Packaging consistency: pyproject.toml, environment.yml and the Makefile agree.

environment.yml is the conda route to the same environment that `make test`
builds from the `test` extra in pyproject.toml.  These tests parse both files
(tomllib for the TOML; a small line-based reader for the YAML, so no PyYAML is
needed) and fail when one of them lists a package, a version or a Python that
the other does not allow.  The checker itself is tested on broken copies of
the real files, so a check that can never fail would be caught too.

They also check that the Python versions pyproject.toml claims are the ones CI tests
(.ci/run, the GitHub workflow, the README), and that a wheel built from the tree installs and
runs on its own, outside the source tree.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"
MAKEFILE = ROOT / "Makefile"
CI_RUN = ROOT / ".ci" / "run"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
README = ROOT / "README.md"


# --------------------------------------------------------------------------
# Requirement strings and versions (a subset of PEP 508 / PEP 440 that is
# enough for this project; anything else is rejected loudly, not ignored).

_REQ_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[(?P<extras>[^\]]*)\])?\s*(?P<specs>[^;]*?)\s*$"
)
_SPEC_RE = re.compile(r"^\s*(?P<op>===|~=|==|!=|<=|>=|<|>)\s*(?P<version>[^\s,]+)\s*$")
_RELEASE_RE = re.compile(r"^\d+(?:\.\d+)*$")


def normalize_name(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, tuple[str, ...], list[tuple[str, str]]]:
    """'Pkg[extra]>=1.2,<2' -> ('pkg', ('extra',), [('>=', '1.2'), ('<', '2')])."""
    if ";" in text:
        raise ValueError(f"environment markers are not supported here: {text!r}")
    m = _REQ_RE.match(text)
    if not m:
        raise ValueError(f"cannot parse requirement {text!r}")
    extras = tuple(
        sorted(normalize_name(e) for e in (m.group("extras") or "").split(",") if e.strip())
    )
    specs = []
    for part in filter(None, (p.strip() for p in m.group("specs").split(","))):
        sm = _SPEC_RE.match(part)
        if not sm:
            raise ValueError(f"cannot parse version specifier {part!r} in {text!r}")
        specs.append((sm.group("op"), sm.group("version")))
    return normalize_name(m.group("name")), extras, specs


def version_key(version: str) -> tuple[int, ...] | None:
    """'3.7' -> (3, 7, 0, ...); None for anything but a plain release number."""
    if not _RELEASE_RE.match(version):
        return None
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (6 - len(parts)))


def spec_implies(env_specs: list[tuple[str, str]], op: str, version: str) -> bool:
    """True if every version allowed by env_specs is also allowed by `op version`."""
    want = version_key(version)
    if want is None or op in ("~=", "==="):
        return (op, version) in env_specs
    for eop, ever in env_specs:
        have = version_key(ever)
        if have is None:
            continue
        if op == ">=" and (
            (eop in (">=", "==", "~=") and have >= want) or (eop == ">" and have >= want)
        ):
            return True
        if op == ">" and ((eop == ">" and have >= want) or (eop in (">=", "==", "~=") and have > want)):
            return True
        if op == "<=" and ((eop in ("<=", "==") and have <= want) or (eop == "<" and have <= want)):
            return True
        if op == "<" and ((eop == "<" and have <= want) or (eop in ("<=", "==") and have < want)):
            return True
        if op == "==" and eop == "==" and have == want:
            return True
        if op == "!=" and ((eop == "!=" and have == want) or (eop == "==" and have != want)):
            return True
    return False


# --------------------------------------------------------------------------
# environment.yml: a line-based reader for the simple shape this file has:
# top-level `key: value` lines, top-level lists, and one nested `- pip:` list.


def parse_environment_yml(text: str) -> dict:
    """Return {'name', 'channels', 'conda', 'pip'} from an environment.yml text."""
    result: dict = {"name": None, "channels": [], "conda": [], "pip": []}
    section = None  # 'channels' | 'dependencies' | None
    in_pip = False
    pip_indent = -1
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not line.strip():
            continue
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError(f"environment.yml line {lineno}: tabs are not allowed in YAML indentation")
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 0:
            in_pip = False
            key, sep, value = body.partition(":")
            if not sep:
                raise ValueError(f"environment.yml line {lineno}: expected 'key: value', got {body!r}")
            key, value = key.strip(), value.strip()
            if key == "name":
                result["name"] = value.strip("'\"")
                section = None
            elif key in ("channels", "dependencies"):
                if value:
                    raise ValueError(f"environment.yml line {lineno}: inline lists are not supported")
                section = key
            else:
                section = None  # prefix, variables, ...: not needed here
            continue
        if not body.startswith("- "):
            raise ValueError(f"environment.yml line {lineno}: expected a list item, got {body!r}")
        item = body[2:].strip().strip("'\"")
        if in_pip and indent > pip_indent:
            result["pip"].append(item)
            continue
        in_pip = False
        if section == "channels":
            result["channels"].append(item)
        elif section == "dependencies":
            if item == "pip:":
                in_pip, pip_indent = True, indent
            else:
                result["conda"].append(item)
    return result


def conda_python_version(conda_deps: list[str]) -> str | None:
    """'python=3.11' / 'python==3.11.7' / 'python 3.11' -> '3.11' / '3.11.7'."""
    for dep in conda_deps:
        m = re.match(r"^python\s*(?:==?|\s)\s*([0-9][0-9.]*)\*?$", dep)
        if m:
            return m.group(1).rstrip(".")
        if dep == "python":
            return None
    return None


# --------------------------------------------------------------------------
# The consistency checker: returns a list of human-readable problems.


def check_consistency(pyproject: dict, env: dict, makefile_text: str | None = None) -> list[str]:
    problems: list[str] = []
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})

    if project.get("dependencies"):
        problems.append(f"the core must have no dependencies, has {project['dependencies']}")

    def reqs(extra: str) -> dict:
        out = {}
        for text in extras.get(extra, []):
            name, _, specs = parse_requirement(text)
            out[name] = specs
        return out

    for needed in ("plots", "progress", "dask", "lab", "test"):
        if needed not in extras:
            problems.append(f"pyproject.toml has no [{needed}] extra")
    test = reqs("test")
    # The test extra is a superset of lab (and so of plots/progress) and of dask.
    for sub in ("plots", "progress", "dask", "lab"):
        for name, specs in reqs(sub).items():
            if name not in test:
                problems.append(f"'{name}' is in the [{sub}] extra but not in [test]")
            elif any(not spec_implies(test[name], op, v) for op, v in specs):
                problems.append(f"[test] allows a '{name}' that [{sub}] does not: {test[name]} vs {specs}")

    # [test] brings the build backend for the wheel test: no older than [build-system] asks.
    for text in pyproject.get("build-system", {}).get("requires", []):
        name, _, specs = parse_requirement(text)
        if name in test and any(not spec_implies(test[name], op, v) for op, v in specs):
            problems.append(f"[test] allows a '{name}' that [build-system] does not: "
                            f"{test[name]} vs {specs}")

    # environment.yml's pip section lists exactly the test extra, no looser.
    if env["name"] != "raftlab":
        problems.append(f"environment.yml name is {env['name']!r}, expected 'raftlab'")
    if "pip" not in env["conda"]:
        problems.append("environment.yml does not install pip, which its pip: section needs")
    env_pip: dict = {}
    installs_self = False
    for item in env["pip"]:
        if item.startswith("-e"):
            target = item[2:].strip()
            installs_self = installs_self or target.startswith(".")
            continue
        name, _, specs = parse_requirement(item)
        env_pip[name] = specs
    if not installs_self:
        problems.append("environment.yml does not install raftlab itself ('-e .' in its pip: section)")
    for name, specs in test.items():
        if name not in env_pip:
            problems.append(f"'{name}' is in the [test] extra but missing from environment.yml")
            continue
        for op, v in specs:
            if not spec_implies(env_pip[name], op, v):
                problems.append(
                    f"environment.yml allows a '{name}' that pyproject.toml does not: "
                    f"{env_pip[name] or 'any version'} vs {op}{v}"
                )
    for name in env_pip:
        if name not in test:
            problems.append(f"'{name}' is in environment.yml but not in the [test] extra")

    # Python versions.
    requires = project.get("requires-python", "")
    _, _, py_specs = parse_requirement("python" + requires)
    env_py = conda_python_version(env["conda"])
    if env_py is None:
        problems.append("environment.yml does not pin a python version (python=X.Y)")
    else:
        for op, v in py_specs:
            if not spec_implies([("==", env_py)], op, v):
                problems.append(f"environment.yml's python={env_py} is not allowed by requires-python {requires!r}")
    if makefile_text is not None:
        lows = [v for op, v in py_specs if op == ">="]
        m = re.search(r"^MIN_PYTHON\s*[:?]?=\s*(\S+)", makefile_text, re.M)
        if not m:
            problems.append("Makefile has no MIN_PYTHON setting")
        elif lows and version_key(m.group(1)) != version_key(lows[0]):
            problems.append(f"Makefile MIN_PYTHON={m.group(1)} but requires-python is {requires!r}")
    return problems


# --------------------------------------------------------------------------
# The Python versions claimed (requires-python, classifiers) against the ones CI tests.


def claimed_pythons(pyproject: dict) -> list[str]:
    """'Programming Language :: Python :: 3.10' classifiers -> ['3.10', ...], in order."""
    found = []
    for c in pyproject["project"].get("classifiers", []):
        m = re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c.strip())
        if m:
            found.append(m.group(1))
    return sorted(found, key=version_key)


def ci_pythons(ci_text: str) -> list[str]:
    """The versions in .ci/run's `CI_PYTHONS=(3.11 3.10 3.13)` line, in its order."""
    m = re.search(r"^CI_PYTHONS=\(([^)]*)\)\s*$", ci_text, re.M)
    return m.group(1).split() if m else []


def workflow_pythons(workflow_text: str) -> list[str]:
    """The versions of the workflow's `python-version: |` block (one per line)."""
    lines = workflow_text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)python-version:\s*\|\s*$", line)
        if not m:
            continue
        indent, versions = len(m.group(1)), []
        for nxt in lines[i + 1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            if nxt.strip():
                versions.append(nxt.strip().strip("'\""))
        return versions
    return []


def readme_ci_line(readme_text: str) -> str:
    """The README's bullet that says what CI runs."""
    for block in re.split(r"\n(?=- |\n)", readme_text):
        if block.startswith("- CI runs `.ci/run`"):
            return " ".join(block.split())
    return ""


def check_ci_pythons(pyproject: dict, env: dict, ci_text: str, workflow_text: str,
                     readme_text: str) -> list[str]:
    problems: list[str] = []
    claimed = claimed_pythons(pyproject)
    if not claimed:
        return ["pyproject.toml has no 'Programming Language :: Python :: 3.X' classifiers"]
    lowest, newest = claimed[0], claimed[-1]
    requires = pyproject["project"].get("requires-python", "")
    floors = [v for op, v in parse_requirement("python" + requires)[2] if op == ">="]
    if not floors or version_key(floors[0]) != version_key(lowest):
        problems.append(f"requires-python {requires!r} does not start at the lowest "
                        f"classifier, Python {lowest}")
    minors = [int(v.split(".")[1]) for v in claimed]
    if minors != list(range(minors[0], minors[-1] + 1)):
        problems.append(f"the Python classifiers skip a version: {claimed}")

    tested = ci_pythons(ci_text)
    if not tested:
        problems.append(".ci/run has no CI_PYTHONS=(...) line")
    if len(set(tested)) != len(tested):
        problems.append(f".ci/run tests a version twice: {tested}")
    for version, what in [(lowest, "lowest"), (newest, "newest")]:
        if version not in tested:
            problems.append(f"the {what} claimed Python, {version}, is not tested by .ci/run "
                            f"(CI_PYTHONS={tested})")
    for version in tested:
        if version not in claimed:
            problems.append(f".ci/run tests Python {version}, which pyproject.toml does not claim")
    env_py = conda_python_version(env["conda"])
    if env_py is not None and ".".join(env_py.split(".")[:2]) not in tested:
        problems.append(f"environment.yml's python={env_py} is not tested by .ci/run")

    in_workflow = workflow_pythons(workflow_text)
    if sorted(in_workflow, key=version_key) != sorted(tested, key=version_key):
        problems.append(f"the GitHub workflow sets up Python {in_workflow}, "
                        f"but .ci/run tests {tested}")

    line = readme_ci_line(readme_text)
    if not line:
        problems.append("README.md has no '- CI runs `.ci/run`' line")
    for version in tested:
        if line and not re.search(rf"(?<![\d.]){re.escape(version)}(?![\d])", line):
            problems.append(f"README.md's CI line does not say that CI tests Python {version}")
    return problems


# --------------------------------------------------------------------------
# Tests on the real files.


@pytest.fixture(scope="module")
def pyproject() -> dict:
    with PYPROJECT.open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def env_text() -> str:
    return ENVIRONMENT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def makefile_text() -> str:
    return MAKEFILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ci_files() -> dict:
    return {"ci_text": CI_RUN.read_text(encoding="utf-8"),
            "workflow_text": WORKFLOW.read_text(encoding="utf-8"),
            "readme_text": README.read_text(encoding="utf-8")}


def test_pyproject_metadata(pyproject):
    project = pyproject["project"]
    assert project["name"] == "raftlab"
    assert project["version"] == "0.1.0"
    assert project["requires-python"] == ">=3.10"
    assert project["dependencies"] == []
    assert project["scripts"]["raftlab"] == "raftlab.cli:main"
    assert pyproject["tool"]["setuptools"]["packages"]["find"]["include"] == ["raftlab*"]


def test_pytest_runs_notebooks_in_strict_nbval(pyproject):
    ini = pyproject["tool"]["pytest"]["ini_options"]
    assert ini["testpaths"] == ["tests", "notebooks"]
    assert "--nbval" in ini["addopts"]
    assert "--nbval-lax" not in ini["addopts"]
    i = ini["addopts"].index("--nbval-sanitize-with")
    assert (ROOT / ini["addopts"][i + 1]).is_file()
    names = {m.split(":")[0].strip() for m in ini["markers"]}
    assert {"browser", "slow"} <= names


def test_environment_yml_matches_test_extra(pyproject, env_text, makefile_text):
    problems = check_consistency(pyproject, parse_environment_yml(env_text), makefile_text)
    assert problems == []


def test_environment_yml_shape(env_text):
    env = parse_environment_yml(env_text)
    assert env["name"] == "raftlab"
    assert conda_python_version(env["conda"]) == "3.11"
    assert "pip" in env["conda"]
    assert len(env["pip"]) >= 12


# --------------------------------------------------------------------------
# The checker catches breakage (each case edits a copy of the real files).


def _drop_line(text: str, needle: str) -> str:
    lines = text.splitlines(keepends=True)
    kept = [ln for ln in lines if ln.strip() != needle]
    assert len(kept) == len(lines) - 1, f"{needle!r} not found exactly once"
    return "".join(kept)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda t: _drop_line(t, "- nbval>=0.10"), "'nbval' is in the [test] extra but missing"),
        (lambda t: _drop_line(t, "- hypothesis"), "'hypothesis' is in the [test] extra but missing"),
        (lambda t: t.replace("matplotlib>=3.7", "matplotlib>=3.5"), "allows a 'matplotlib'"),
        (lambda t: t.replace("playwright>=1.40", "playwright"), "allows a 'playwright'"),
        (lambda t: t.replace("- python=3.11", "- python=3.9"), "python=3.9 is not allowed"),
        (lambda t: t.replace("- python=3.11", "- python"), "does not pin a python"),
        (lambda t: t.replace("- hypothesis", "- hypothesis\n      - requests"), "'requests' is in environment.yml"),
        (lambda t: _drop_line(t, "- -e ."), "does not install raftlab itself"),
        (lambda t: t.replace("name: raftlab", "name: other"), "name is 'other'"),
    ],
)
def test_checker_catches_broken_environment(pyproject, env_text, makefile_text, edit, expected):
    broken = edit(env_text)
    assert broken != env_text
    problems = check_consistency(pyproject, parse_environment_yml(broken), makefile_text)
    assert any(expected in p for p in problems), problems


def test_checker_catches_broken_pyproject(pyproject, env_text, makefile_text):
    import copy

    env = parse_environment_yml(env_text)

    broken = copy.deepcopy(pyproject)
    broken["project"]["optional-dependencies"]["test"].remove("distributed>=2023.1")
    problems = check_consistency(broken, env, makefile_text)
    assert any("'distributed' is in the [dask] extra but not in [test]" in p for p in problems)
    assert any("'distributed' is in environment.yml but not in the [test] extra" in p for p in problems)

    broken = copy.deepcopy(pyproject)
    broken["project"]["optional-dependencies"]["test"].append("numpy>=1.24")
    problems = check_consistency(broken, env, makefile_text)
    assert any("'numpy' is in the [test] extra but missing" in p for p in problems)

    broken = copy.deepcopy(pyproject)
    broken["project"]["requires-python"] = ">=3.12"
    problems = check_consistency(broken, env, makefile_text)
    assert any("python=3.11 is not allowed" in p for p in problems)
    assert any("MIN_PYTHON" in p for p in problems)

    broken = copy.deepcopy(pyproject)
    broken["build-system"]["requires"] = ["setuptools>=80"]
    problems = check_consistency(broken, env, makefile_text)
    assert any("[test] allows a 'setuptools' that [build-system] does not" in p for p in problems)

    broken = copy.deepcopy(pyproject)
    broken["project"]["dependencies"] = ["tqdm"]
    assert any("no dependencies" in p for p in check_consistency(broken, env, makefile_text))


def test_checker_catches_makefile_drift(pyproject, env_text, makefile_text):
    env = parse_environment_yml(env_text)
    drifted = re.sub(r"^MIN_PYTHON\s*[:?]?=.*$", "MIN_PYTHON := 3.8", makefile_text, flags=re.M)
    assert drifted != makefile_text
    assert any("MIN_PYTHON=3.8" in p for p in check_consistency(pyproject, env, drifted))


@pytest.mark.parametrize(
    "env_specs, op, version, ok",
    [
        ([(">=", "3.7")], ">=", "3.7", True),
        ([(">=", "3.8")], ">=", "3.7", True),
        ([(">=", "3.6")], ">=", "3.7", False),
        ([], ">=", "3.7", False),
        ([("==", "3.9.1")], ">=", "3.7", True),
        ([("==", "3.11")], ">=", "3.10", True),
        ([("==", "3.9")], ">=", "3.10", False),
        ([("<", "2")], "<", "3", True),
        ([("<", "4")], "<", "3", False),
        ([("~=", "1.4")], "~=", "1.4", True),
    ],
)
def test_spec_implies(env_specs, op, version, ok):
    assert spec_implies(env_specs, op, version) is ok


def test_parse_requirement():
    assert parse_requirement("Jupyter_Lab[All] >= 4, <5") == ("jupyter-lab", ("all",), [(">=", "4"), ("<", "5")])
    assert parse_requirement("ipykernel") == ("ipykernel", (), [])
    with pytest.raises(ValueError):
        parse_requirement("foo >> 3")


# --------------------------------------------------------------------------
# The Python versions CI tests are the ones pyproject.toml claims.


def test_ci_tests_the_lowest_and_newest_claimed_python(pyproject, env_text, ci_files):
    env = parse_environment_yml(env_text)
    assert check_ci_pythons(pyproject, env, **ci_files) == []
    assert claimed_pythons(pyproject) == ["3.10", "3.11", "3.12", "3.13"]
    assert ci_pythons(ci_files["ci_text"]) == ["3.11", "3.10", "3.13"]


def test_ci_runs_the_readme_test_command_per_python(ci_files):
    text = ci_files["ci_text"]
    assert re.search(r'^\s*make test PYTHON="\$\{PY\[\$want\]\}" VENV="\$venv"', text, re.M)
    assert "for want in \"${CI_PYTHONS[@]}\"" in text
    # a failed `make test` (pytest's 5 for "no tests" included) fails the whole run
    assert re.search(r'^exit "\$failed"\s*$', text, re.M)


@pytest.mark.parametrize(
    "what, edit, expected",
    [
        ("ci_text", lambda t: t.replace("CI_PYTHONS=(3.11 3.10 3.13)", "CI_PYTHONS=(3.11 3.10)"),
         "the newest claimed Python, 3.13, is not tested"),
        ("ci_text", lambda t: t.replace("CI_PYTHONS=(3.11 3.10 3.13)", "CI_PYTHONS=(3.11 3.13)"),
         "the lowest claimed Python, 3.10, is not tested"),
        ("ci_text", lambda t: t.replace("CI_PYTHONS=(3.11 3.10 3.13)",
                                        "CI_PYTHONS=(3.11 3.10 3.13 3.9)"),
         "tests Python 3.9, which pyproject.toml does not claim"),
        ("ci_text", lambda t: t.replace("CI_PYTHONS=(3.11 3.10 3.13)",
                                        "CI_PYTHONS=(3.10 3.10 3.13)"),
         "tests a version twice"),
        ("ci_text", lambda t: t.replace("CI_PYTHONS=(", "PYTHONS=("), "has no CI_PYTHONS"),
        ("workflow_text", lambda t: re.sub(r"^(\s+)3\.10\s*\n", "", t, flags=re.M),
         "the GitHub workflow sets up Python"),
        ("readme_text", lambda t: t.replace("- CI runs `.ci/run`", "- CI uses `.ci/run`"),
         "README.md has no '- CI runs `.ci/run`' line"),
    ],
)
def test_ci_checker_catches_drift(pyproject, env_text, ci_files, what, edit, expected):
    broken = dict(ci_files)
    broken[what] = edit(ci_files[what])
    assert broken[what] != ci_files[what]
    problems = check_ci_pythons(pyproject, parse_environment_yml(env_text), **broken)
    assert any(expected in p for p in problems), problems


def test_ci_checker_catches_claims_ci_does_not_test(pyproject, env_text, ci_files):
    import copy

    env = parse_environment_yml(env_text)
    broken = copy.deepcopy(pyproject)
    broken["project"]["classifiers"].append("Programming Language :: Python :: 3.14")
    assert any("the newest claimed Python, 3.14, is not tested" in p
               for p in check_ci_pythons(broken, env, **ci_files))

    broken = copy.deepcopy(pyproject)
    broken["project"]["classifiers"].remove("Programming Language :: Python :: 3.12")
    assert any("skip a version" in p for p in check_ci_pythons(broken, env, **ci_files))

    broken = copy.deepcopy(pyproject)
    broken["project"]["requires-python"] = ">=3.9"
    assert any("does not start at the lowest classifier" in p
               for p in check_ci_pythons(broken, env, **ci_files))

    assert "3.13" in readme_ci_line(ci_files["readme_text"])
    readme = ci_files["readme_text"].replace("3.13", "3.x")
    problems = check_ci_pythons(pyproject, env, ci_files["ci_text"], ci_files["workflow_text"],
                                readme)
    assert any("does not say that CI tests Python 3.13" in p for p in problems)


# --------------------------------------------------------------------------
# A wheel built from the tree installs and runs without the tree.

# Run with -I -S: no PYTHONPATH, no user or venv site-packages (so not the editable install),
# no current directory on sys.path; only the wheel's target directory.
_ELECTION = """
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
import raftlab
from raftlab import Cluster
c = Cluster(3, seed=1)
leader = c.check_one_leader()
c.one("x", 3)
print(json.dumps({"file": raftlab.__file__, "version": raftlab.__version__, "leader": leader,
                  "trace": hashlib.sha256(c.trace.to_json().encode()).hexdigest()}))
"""

_LAB_INIT = """
import sys
sys.path.insert(0, sys.argv[1])
from raftlab.cli import main
assert main(["lab", "init", sys.argv[2], "--part", "all"]) == 0
assert main(["notebooks", sys.argv[3]]) == 0
"""


def _has_build_backend() -> bool:
    """True if this environment has a setuptools that [build-system] accepts (the [test] extra
    brings one); otherwise pip builds the wheel in an isolated environment it downloads."""
    from importlib import metadata

    with PYPROJECT.open("rb") as f:
        requires = tomllib.load(f)["build-system"]["requires"]
    try:
        installed = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return False
    release = re.match(r"\d+(?:\.\d+)*", installed)
    have = [("==", release.group(0))] if release else []
    return all(spec_implies(have, op, v)
               for text in requires for name, _, specs in [parse_requirement(text)]
               if name == "setuptools" for op, v in specs)


def _built_wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the tree (a build/ left in the tree could add stale files),
    links kept as links (raftlab/notebooks is one, to notebooks/)."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
        ".pytest_cache", "artifacts", ".ipynb_checkpoints"))
    out = tmp_path / "wheels"
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps",
           "--wheel-dir", str(out), str(src)]
    if _has_build_backend():
        cmd[5:5] = ["--no-build-isolation", "--no-index"]  # offline, with this venv's setuptools
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    wheels = list(out.glob("raftlab-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_installs_outside_the_tree_and_runs_an_election(tmp_path):
    wheel = _built_wheel(tmp_path)
    assert wheel.name == "raftlab-0.1.0-py3-none-any.whl"

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"raftlab", "raftlab-0.1.0.dist-info"}, top  # no tests/, notebooks/, ...
    packaged = {n for n in names if n.startswith("raftlab/") and n.endswith(".py")}
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "raftlab").rglob("*.py")}
    assert packaged == expected
    # the templates `raftlab lab init` writes from are package data
    templates = {n for n in names if n.startswith("raftlab/templates/")}
    assert templates == {p.relative_to(ROOT).as_posix()
                         for p in (ROOT / "raftlab" / "templates").iterdir()} \
        == {"raftlab/templates/raft.py.tmpl", "raftlab/templates/lab.ipynb.tmpl"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # so are the notebooks `raftlab notebooks` copies: notebooks/ (which the tree's
    # raftlab/notebooks links to), byte for byte
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n: zf.read(n) for n in names if n.startswith("raftlab/notebooks/")}
    assert shipped == {f"raftlab/notebooks/{p.name}": p.read_bytes()
                       for p in (ROOT / "notebooks").iterdir()
                       if p.suffix == ".ipynb" or p.name == "README.md"}
    assert len(shipped) >= 10

    target = tmp_path / "site"
    run = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "install",
                          "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    entry_points = next(target.glob("raftlab-*.dist-info")) / "entry_points.txt"
    assert "raftlab = raftlab.cli:main" in entry_points.read_text()

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    run = subprocess.run([sys.executable, "-I", "-S", "-c", _ELECTION, str(target)],
                         cwd=outside, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout)
    assert Path(got["file"]).resolve().is_relative_to(target.resolve()), got["file"]
    assert got["version"] == "0.1.0"

    # `raftlab lab init` works from the installed copy and writes what the tree writes,
    # and so does `raftlab notebooks`
    lab, course = tmp_path / "mylab", tmp_path / "course"
    run = subprocess.run([sys.executable, "-I", "-S", "-c", _LAB_INIT, str(target), str(lab),
                          str(course)],
                         cwd=outside, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    from raftlab.lab_init import init_lab
    from raftlab.student_notebooks import write_student_notebooks

    init_lab(tmp_path / "from_tree", part="all")
    for name in ("raft.py", "lab.ipynb"):
        assert (lab / name).read_text() == (tmp_path / "from_tree" / name).read_text(), name
    tree_course = write_student_notebooks(tmp_path / "course_from_tree")
    assert sorted(p.name for p in course.iterdir()) == sorted(p.name for p in tree_course)
    for path in tree_course:
        assert (course / path.name).read_bytes() == path.read_bytes(), path.name

    # the installed copy runs the same election as the tree, event for event
    from raftlab import Cluster

    c = Cluster(3, seed=1)
    leader = c.check_one_leader()
    c.one("x", 3)
    assert got["leader"] == leader
    assert got["trace"] == hashlib.sha256(c.trace.to_json().encode()).hexdigest()
