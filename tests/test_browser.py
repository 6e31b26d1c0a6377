"""The interactive lab in a real browser: JupyterLab + headless Chromium, as a person uses it.

Start JupyterLab the way `make lab` does (through that target, in this interpreter's
environment; on 127.0.0.1 with token auth, throw-away config/data/runtime/settings dirs, a copy
of notebook 05 so nothing is written back), open the notebook, check that JupyterLab does not
ask about "official Jupyter news", Run All, then click "crash N" on the leader the page names,
step time with "+1 s", and wait until the page names a new leader; then press play, see time
run, pause, and see it stop; click "request", see the leader accept the command 1 at index 1,
and step 100 ms so that it is replicated. Check that the views (status table, legends, the
timeline and the log view) fit the cell's output area, and save a screenshot of the panel in
tests/artifacts/ (copied to $RAFTLAB_PANEL_PNG if set: docs/make_images.py makes the README's
picture so). Last, narrow the window and check that the views still fit (below the controls).

Outside CI the test is skipped only if /usr/bin/chromium is missing; with CI=true it never skips.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "05_interactive_lab.ipynb"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LEADER = re.compile(r"leader: node (\d+) \(term (\d+)\)")
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"

if not CHROMIUM.exists():
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium "
                    "(apt-get install chromium)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); the browser test needs it",
                allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings: Path) -> None:
    """JupyterLab user settings: no autosave. Nothing about news: that must come from the
    kit's own config, which `make lab` passes (jupyter-config/), as for a new user."""
    path = settings / "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"autosave": False}))


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


@pytest.fixture
def lab_server(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of notebook 05; yields (url, log)."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "mpl"), ("XDG_CONFIG_HOME", "xdg-config"),
                     ("XDG_CACHE_HOME", "xdg-cache"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")]:
        (tmp_path / sub).mkdir()
        env[var] = str(tmp_path / sub)
    # no outer make's settings (`make test VENV=...` passes them on in MAKEFLAGS)
    for var in ("JUPYTER_CONFIG_PATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(var, None)
    _write_settings(tmp_path / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    make, venv = shutil.which("make"), Path(sys.prefix)
    if make is None or not (venv / "bin" / "jupyter").exists():
        pytest.fail(f"the browser test starts JupyterLab with `make lab`: it needs make and "
                    f"{venv / 'bin' / 'jupyter'}", pytrace=False)
    # `make lab` in this interpreter's environment (VENV=sys.prefix; -o: install nothing),
    # serving the copy (LAB_ROOT), with the test's own port and token.
    lab_args = [f"--port={port}", f"--IdentityProvider.token={token}", "--no-browser",
                "--ServerApp.terminals_enabled=False", "--ServerApp.port_retries=0",
                "--LabApp.expose_app_in_browser=True"]
    log = (tmp_path / "jupyter.log").open("w")
    proc = subprocess.Popen(
        [make, "--no-print-directory", "-C", str(ROOT), "lab", f"VENV={venv}",
         "-o", f"{venv}/.installed-lab", f"LAB_ROOT={work}", "LAB_ARGS=" + " ".join(lab_args)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("JupyterLab did not start:\n" +
                                   (tmp_path / "jupyter.log").read_text()[-3000:])
            time.sleep(0.25)
        # the server serves the copy, not notebooks/
        listing = _get_json(f"{base}/api/contents?token={token}")
        assert [item["name"] for item in listing["content"]] == [NOTEBOOK.name], listing
        # and has the kit's defaults: never fetch news, so never ask about it
        notification = _get_json(f"{base}/lab/api/settings/"
                                 f"@jupyterlab/apputils-extension:notification?token={token}")
        defaults = {k: v.get("default") for k, v in notification["schema"]["properties"].items()}
        assert notification["settings"] == {}, notification  # a new user: no settings of theirs
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
        yield f"{base}/lab/tree/{NOTEBOOK.name}?reset&token={token}", tmp_path / "jupyter.log"
    finally:
        _stop_group(proc)
        log.close()


def _stop_group(proc: subprocess.Popen) -> None:
    """End make, its shell and JupyterLab: one process group of their own (start_new_session).
    Waits until none of them is left, not only make."""
    def signal_group(sig: int) -> bool:
        try:
            os.killpg(proc.pid, sig)
            return True
        except ProcessLookupError:
            return False

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        proc.poll()  # reap make, so that it does not count as alive
        if not signal_group(0):
            break
        time.sleep(0.1)
    else:
        signal_group(signal.SIGKILL)
    proc.wait()


def _wait_kernel_ready(page: Page) -> None:
    """The toolbar can say idle while the status bar still says "Initializing": wait for both."""
    page.wait_for_function(
        """() => {
            const bar = document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar');
            const status = bar ? bar.innerText : '';
            const dot = document.querySelector('.jp-Notebook-ExecutionIndicator');
            const toolbarIdle = dot ? dot.getAttribute('data-status') === 'idle' : false;
            return toolbarIdle && status.includes('Idle') && !status.includes('Initializing');
        }""", timeout=60_000)


def _leader_on_page(page: Page) -> tuple[int, int]:
    text = page.locator(".raftlab-header").first.text_content() or ""
    m = LEADER.search(text)
    assert m, f"the panel names no leader: {text!r}"
    return int(m.group(1)), int(m.group(2))


def _time_on_page(page: Page) -> int:
    text = page.locator(".raftlab-header").first.text_content() or ""
    m = re.search(r"t = (\d+) ms", text)
    assert m, f"the panel shows no time: {text!r}"
    return int(m.group(1))


def _check_the_views_fit(page: Page) -> None:
    """The status table, the legends and the pictures end inside the cell's output area (the
    area clips what sticks out at the right) and the table scrolls nothing away."""
    out = page.evaluate(
        """() => {
            const panel = [...document.querySelectorAll('.raftlab-lab')].pop();
            const area = panel.closest('.jp-OutputArea-output') || panel.parentElement;
            const right = area.getBoundingClientRect().right;
            const parts = {};
            for (const sel of ['.raftlab-status', '.raftlab-legend', '.raftlab-log-legend',
                               '.widget-image']) {
                for (const el of panel.querySelectorAll(sel)) {
                    const r = el.getBoundingClientRect();
                    if (r.width > 0) parts[sel] = Math.max(parts[sel] || 0, r.right);
                }
            }
            const table = panel.querySelector('.raftlab-status');
            const box = table.parentElement;
            return {right, parts, scroll: box.scrollWidth - box.clientWidth,
                    width: area.getBoundingClientRect().width};
        }""")
    assert len(out["parts"]) == 4, out
    for part, edge in out["parts"].items():
        assert edge <= out["right"] + 0.5, (part, "sticks out of the output area", out)
    assert out["scroll"] <= 0, ("the status table is wider than its box", out)


def test_crash_the_leader_in_the_browser_and_see_a_new_one(lab_server):
    url, log = lab_server
    try:
        _crash_the_leader(url)
    except Exception as exc:
        note = "JupyterLab's log ends with:\n" + log.read_text()[-2000:]
        # BaseException.add_note is new in 3.11; pytest shows __notes__ on 3.10 too
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]
        raise


def _crash_the_leader(url: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "browser_05_interactive_lab.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url)
            page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
            _wait_kernel_ready(page)
            # JupyterLab asks a new user about news once it has restored its layout, which is
            # done by now; the question would stay on screen (it does not close by itself)
            expect(page.get_by_text(NEWS_QUESTION)).to_have_count(0)
            # clear the saved outputs first, so a finished run cannot be confused with them
            page.evaluate("() => window.jupyterapp.commands.execute("
                          "'notebook:clear-all-cell-outputs')")
            page.wait_for_function(
                """() => ![...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                          .some(p => /\\d/.test(p.innerText))""", timeout=15_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # every cell has run when no prompt shows [*] and the last code cell has a number
            page.wait_for_function(
                """() => {
                    const prompts = [...document.querySelectorAll(
                        '.jp-CodeCell .jp-InputArea-prompt')].map(p => p.innerText.trim());
                    return prompts.length > 0 && !prompts.some(p => p.includes('*')) &&
                           /\\[\\d+\\]/.test(prompts[prompts.length - 1]);
                }""", timeout=90_000)
            assert page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter."
                                "error']").count() == 0, "a notebook cell raised"
            header = page.locator(".raftlab-header").first
            expect(header).to_contain_text("t = 1000 ms", timeout=30_000)
            old, term = _leader_on_page(page)

            page.get_by_role("button", name=f"crash {old}", exact=True).first.click()
            expect(page.get_by_role("button", name=f"restart {old}", exact=True).first) \
                .to_be_visible(timeout=10_000)
            image = page.locator(".raftlab-lab").last.locator("img").first
            before = image.get_attribute("src")
            page.get_by_role("button", name="+1 s", exact=True).first.click()
            expect(header).to_contain_text("t = 2000 ms", timeout=15_000)
            # the timeline is sent last: wait until the new picture has arrived
            page.wait_for_function("([img, src]) => img.getAttribute('src') !== src",
                                   arg=[image.element_handle(), before], timeout=15_000)
            new, new_term = _leader_on_page(page)
            assert new != old and new_term > term, (old, term, new, new_term)
            status = page.locator(".raftlab-status").first.text_content() or ""
            assert "down" in status and "leader" in status
            # play advances time in steps of the chosen speed (100 ms) until pause
            toggle = page.locator(".raftlab-lab button.widget-toggle-button").first
            expect(toggle).to_have_text(re.compile(r"^\s*play\s*$"))
            toggle.click()
            expect(header).to_contain_text(re.compile(r"t = (2[3-9]|[3-9]\d)00 ms"),
                                           timeout=15_000)
            expect(toggle).to_have_text(re.compile(r"^\s*pause\s*$"))
            toggle.click()
            expect(toggle).to_have_text(re.compile(r"^\s*play\s*$"))
            paused = _time_on_page(page)
            page.wait_for_timeout(800)  # wall time: the play loop ticks every 250 ms
            assert _time_on_page(page) == paused and paused % 100 == 0
            # a client request: the leader accepts the command field's 1 at index 1, and
            # 100 ms later every live node has it, committed
            logs = page.locator(".raftlab-lab").last.locator("img").nth(1)
            empty = logs.get_attribute("src")
            page.get_by_role("button", name="request", exact=True).first.click()
            expect(page.locator(".raftlab-message").first).to_contain_text(
                re.compile(r"node \d accepted 1 at index 1 in term \d+"), timeout=15_000)
            # the pictures come after the text: wait for the log view with the leader's entry
            page.wait_for_function("([img, src]) => img.getAttribute('src') !== src",
                                   arg=[logs.element_handle(), empty], timeout=15_000)
            before = [image.get_attribute("src"), logs.get_attribute("src")]
            page.get_by_role("button", name="+100 ms", exact=True).first.click()
            expect(header).to_contain_text(f"t = {paused + 100} ms", timeout=15_000)
            # both pictures are redrawn (the followers' appends change the log view)
            page.wait_for_function(
                "([imgs, srcs]) => imgs.every((img, k) => img.getAttribute('src') !== srcs[k])",
                arg=[[image.element_handle(), logs.element_handle()], before], timeout=15_000)
            panel = page.locator(".raftlab-lab").last
            panel.scroll_into_view_if_needed()
            expect(panel.locator(".widget-image img, img.widget-image").first).to_be_visible()
            expect(panel.locator(".raftlab-log-legend").first).to_be_visible()
            # the leader's row: log 1, commit 1, applied 1
            page.wait_for_function(
                """() => [...document.querySelectorAll('.raftlab-status tbody tr')]
                          .some(tr => / leader .* 1 1 1$/.test(
                              tr.innerText.replace(/\\s+/g, ' ').trim()))""", timeout=15_000)
            _check_the_views_fit(page)
            panel.screenshot(path=str(shot))
            expect(page.get_by_text(NEWS_QUESTION)).to_have_count(0)
            # a narrower window: the views go below the controls, and still fit
            page.set_viewport_size({"width": 1000, "height": 1000})
            page.wait_for_timeout(500)
            _check_the_views_fit(page)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    copy_to = os.environ.get("RAFTLAB_PANEL_PNG")  # docs/make_images.py asks for a copy
    if copy_to:
        shutil.copy(shot, copy_to)
