"""Installing the package: from source on a machine without Node.js, and the wheel CI builds.

Each install goes into a fresh virtual environment whose PATH holds no ``node``, ``npm`` or ``jlpm``
(every directory that has one is left out). The venv sees this interpreter's site-packages
(``--system-site-packages``) and pip runs with ``--no-deps --no-build-isolation``: the dependencies and
the build backend (hatchling, hatch-jupyter-builder, jupyterlab) come from the test environment, so
an install takes seconds. What is under test is this project's build step and what lands in the venv;
an isolated build with the declared [build-system] requirements is what ``.ci/run``'s
``pip install -e ".[test]"`` does.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

import autotune_nb

pytestmark = pytest.mark.slow

REPO = pathlib.Path(autotune_nb.__file__).parent.parent


def _build_step():
    """labextension/build_if_node.py, the build step pyproject.toml runs (not a package: loaded by path)."""
    spec = importlib.util.spec_from_file_location("build_if_node", REPO / "labextension" / "build_if_node.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SKIPPED = _build_step().SKIPPED

EXTENSION = "share/jupyter/labextensions/autotune-nb-labextension"
#: Left out of the source copy: what a build writes (the built extension above all) and VCS/cache folders.
NOT_SOURCE = {".git", "node_modules", ".yarn", "lib", "dist", "build", "__pycache__", ".pytest_cache",
              ".ipynb_checkpoints", "tsconfig.tsbuildinfo"}


def node_free_path() -> str:
    """PATH without every directory that holds node, npm or jlpm."""
    return os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if d and not any(
        os.path.exists(os.path.join(d, tool)) for tool in ("node", "npm", "jlpm")))


def source_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    """The source tree as a checkout has it: no built extension, no node_modules, no databases."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in NOT_SOURCE or n.endswith((".db", ".db-wal", ".db-shm", ".egg-info"))}
        if pathlib.Path(folder) == REPO / "autotune_nb":
            skipped.add("labextension")  # the build's output
        return skipped
    return pathlib.Path(shutil.copytree(REPO, tmp_path / "src", ignore=ignore))


class Venv:
    """A fresh venv (on this interpreter, seeing its site-packages) and a PATH without Node.js."""

    def __init__(self, root: pathlib.Path):
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)],
                       check=True)
        self.root = root
        self.python = str(root / "bin" / "python")
        self.env = {**os.environ, "PATH": os.pathsep.join([str(root / "bin"), node_free_path()])}
        self.env.pop("PYTHONPATH", None)
        assert shutil.which("node", path=self.env["PATH"]) is None

    def run(self, *args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
        return subprocess.run([self.python, *args], cwd=cwd, env=self.env, capture_output=True, text=True,
                              timeout=300)

    def pip_install(self, *args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
        done = self.run("-m", "pip", "install", "-v", "--no-deps", "--no-build-isolation", *args, cwd=cwd)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    def autotune_nb_file(self, cwd: pathlib.Path) -> str:
        done = self.run("-c", "import autotune_nb; print(autotune_nb.__file__)", cwd=cwd)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


def skipped_lines(output: str) -> list[str]:
    """pip -v indents the backend's output; every line about Node.js, stripped."""
    return [line.strip() for line in output.splitlines() if "Node.js" in line]


#: A study run in the venv: its finished view is the static HTML (and the renderer's JSON).
HTML_VIEW = (
    "import autotune_nb as at\n"
    "study = at.Study({'x': at.uniform(0, 1)}, tuner='TPE', seed=0, storage=None)\n"
    "study.run(lambda p: p['x'], max_trials=3, executor='inline')\n"
    "bundle = study._repr_mimebundle_()\n"
    "assert '<svg' in bundle['text/html'] and 'application/vnd.autotune.study+json' in bundle, sorted(bundle)\n"
    "print('html ok')\n"
)


def test_a_source_install_without_node_succeeds_without_the_extension_and_says_so_in_one_line(tmp_path):
    source, venv = source_copy(tmp_path), Venv(tmp_path / "venv")
    done = venv.pip_install(str(source), cwd=tmp_path)
    assert skipped_lines(done.stdout + done.stderr) == [SKIPPED]
    assert venv.autotune_nb_file(cwd=tmp_path).startswith(str(venv.root))
    assert not (venv.root / EXTENSION / "package.json").exists()  # JupyterLab sees no extension
    view = venv.run("-c", HTML_VIEW, cwd=tmp_path)
    assert view.returncode == 0 and view.stdout.strip() == "html ok", view.stderr


def test_an_editable_install_without_node_succeeds_and_says_so(tmp_path):
    source, venv = source_copy(tmp_path), Venv(tmp_path / "venv")
    done = venv.pip_install("-e", str(source), cwd=tmp_path)
    lines = skipped_lines(done.stdout + done.stderr)
    assert lines and set(lines) == {SKIPPED}  # pip may run the build step twice (metadata, then the wheel)
    assert venv.autotune_nb_file(cwd=tmp_path) == str(source / "autotune_nb" / "__init__.py")
    assert not (source / "autotune_nb" / "labextension").exists()


@pytest.mark.skipif("AUTOTUNE_NB_DIST" not in os.environ,
                    reason="AUTOTUNE_NB_DIST (the folder `python -m build` wrote, with Node.js) is set by .ci/run")
def test_the_built_distributions_hold_the_extension_and_the_wheel_installs_without_node(tmp_path):
    dist = pathlib.Path(os.environ["AUTOTUNE_NB_DIST"])
    [wheel], [sdist] = glob.glob(str(dist / "*.whl")), glob.glob(str(dist / "*.tar.gz"))
    with tarfile.open(sdist) as archive:  # a wheel built from the sdist needs no Node.js (skip-if-exists)
        assert any(name.endswith("/autotune_nb/labextension/static/style.js") for name in archive.getnames())
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    data = [name.split(".data/data/", 1)[1] for name in names if ".data/data/" in name]
    assert {f"{EXTENSION}/package.json", f"{EXTENSION}/install.json", f"{EXTENSION}/static/style.js"} <= set(data)
    assert any(name.startswith(f"{EXTENSION}/static/remoteEntry.") and name.endswith(".js") for name in data)

    venv = Venv(tmp_path / "venv")
    venv.pip_install("--ignore-installed", wheel, cwd=tmp_path)
    assert venv.autotune_nb_file(cwd=tmp_path).startswith(str(venv.root))
    installed = venv.root / EXTENSION
    assert json.loads((installed / "package.json").read_text())["name"] == "autotune-nb-labextension"
    # JupyterLab, run from the venv, finds it in the venv's data folder
    listing = venv.run("-m", "jupyterlab.labextensions", "list", cwd=tmp_path)  # `jupyter labextension list`
    section = (listing.stdout + listing.stderr).split(str(installed.parent), 1)
    assert len(section) == 2 and "autotune-nb-labextension" in section[1].split("\n\n")[0], listing
