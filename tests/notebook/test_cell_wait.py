"""A blocking ``%%autotune`` cell hears its dashboard on a real ipykernel: a Stop click sent while the
cell runs ends the study, and a request sent meanwhile (the next cell) runs after it, in order."""

from __future__ import annotations

import queue

import pytest
from jupyter_client.manager import start_new_kernel

pytestmark = pytest.mark.timeout(300)

STUDY_CELL = (
    "%%autotune --tuner Random --trials 300 --concurrency 2 --name heard --out s\n"
    "import time\n"
    "x = at.uniform(0, 1)\n"
    "time.sleep(0.3)\n"
    "x\n"
)


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_NB_STORE", str(tmp_path / "autotune_nb.db"))
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def iopub_until(client, predicate, timeout: float = 120) -> list[dict]:
    """IOPub messages up to and including the first for which ``predicate`` holds."""
    seen = []
    while True:
        try:
            message = client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no matching IOPub message within {timeout}s; saw {[m['msg_type'] for m in seen][-20:]}")
        seen.append(message)
        if predicate(message):
            return seen


def stdout_of(messages: list[dict], parent_id: str) -> str:
    return "".join(m["content"]["text"] for m in messages
                   if m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == parent_id)


def test_a_stop_click_ends_a_blocking_cell_and_the_next_request_runs_after_it(kernel):
    kernel.execute_interactive("%load_ext autotune_nb", timeout=60)
    study_id = kernel.execute(STUDY_CELL)
    opened = iopub_until(kernel, lambda m: m["msg_type"] == "comm_open"
                         and m["content"]["data"]["state"].get("description") == "Stop")
    stop_button = opened[-1]["content"]["comm_id"]
    assert opened[-1]["content"]["data"]["state"]["disabled"] is False  # a blocking cell's Stop works
    # Two trials have finished (the counts line shows them), then the next cell is sent, then the click.
    iopub_until(kernel, lambda m: m["msg_type"] == "comm_msg"
                and "succeeded 2" in str(m["content"]["data"].get("state", {}).get("value", "")))
    next_id = kernel.execute("print('next cell:', sorted({t.state.value for t in s.trials}), len(s.trials) < 300)")
    kernel.session.send(kernel.shell_channel.socket, "comm_msg",
                        {"comm_id": stop_button, "data": {"method": "custom", "content": {"event": "click"}}})
    after = iopub_until(kernel, lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                        and m["parent_header"].get("msg_id") == next_id)

    idle_order = [m["parent_header"].get("msg_id") for m in after
                  if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                  and m["parent_header"].get("msg_id") in (study_id, next_id)]
    assert idle_order == [study_id, next_id]  # the study's cell ended first, then the next one ran
    assert "canceled" in stdout_of(after, study_id)  # its summary line: the running trials were canceled
    assert stdout_of(after, next_id).strip() == "next cell: ['CANCELED', 'SUCCEEDED'] True"
