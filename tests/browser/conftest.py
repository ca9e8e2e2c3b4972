"""A real JupyterLab on 127.0.0.1 and Debian's chromium driven by Playwright.

Skipped (with the reason) where chromium or Playwright is missing; `.ci/run` installs both.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, root, port: int, token: str, process: subprocess.Popen):
        self.root, self.port, self.token, self.process = root, port, token, process

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}?token={self.token}"


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    root = tmp_path_factory.mktemp("lab")
    config = root / ".config"
    settings = config / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(config / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(config / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(config / "workspaces"),
        "AUTOTUNE_NB_STORE": str(root / "autotune_nb.db"),
        "AUTOTUNE_QUICK": "1",
    }
    port, token = _free_port(), secrets.token_hex(16)
    log = open(root / "lab.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--allow-root", "--LabApp.expose_app_in_browser=True",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    lab = Lab(root, port, token, process)
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(lab.url("/api/status"), timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(f"JupyterLab did not start:\n{(root / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
    yield lab
    try:
        urllib.request.urlopen(urllib.request.Request(lab.url("/api/shutdown"), method="POST"), timeout=5)
        process.wait(timeout=15)
    except Exception:
        process.kill()
    log.close()


@pytest.fixture
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        yield page
        browser.close()


@pytest.fixture
def screenshot(page, tmp_path):
    """``screenshot(element, name)``: a full-page PNG with ``element`` in view, checked non-empty and
    copied to $AUTOTUNE_SCREENSHOT_DIR when set (to look at what a person sees)."""

    def take(element, name: str) -> pathlib.Path:
        path = tmp_path / name
        element.scroll_into_view_if_needed()
        page.screenshot(path=str(path), full_page=True)
        saved = os.environ.get("AUTOTUNE_SCREENSHOT_DIR")
        if saved:
            shutil.copy(path, pathlib.Path(saved) / name)
        assert path.stat().st_size > 10_000
        return path

    return take
