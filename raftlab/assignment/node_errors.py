"""An exception of the student's node, described: which node, at what virtual time, handling
which input, and the line of its own code (``describe_node_error``; ``run`` for notebooks)."""

from __future__ import annotations

import linecache
import os
import sysconfig
from typing import Any, Optional

from ..cluster import Cluster
from ..errors import CheckFailed
from ..formatting import format_ms
from ..rules import rule
from ..sim import FloodError

# the raftlab package (this file's grandparent folder): its frames are not the node's own code
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ENVIRONMENT_FILE = os.path.join(_PACKAGE_DIR, "environment.py")
_STDLIB_DIR = os.path.abspath(sysconfig.get_paths()["stdlib"])


def _with_notes(exc: BaseException) -> str:
    return "\n".join([str(exc), *getattr(exc, "__notes__", [])])


_INPUTS = {"handle_request", "handle_reply", "handle_failure", "_fire", "boot"}


def _describe_input(name: str, local: dict) -> str:
    if name == "handle_request":
        return f"{local.get('request')!r} from node {local.get('src')}"
    if name == "handle_reply":
        return (f"the reply {local.get('reply')!r} from node {local.get('src')} to its "
                f"{local.get('request')!r}")
    if name == "handle_failure":
        return f"the failure of its call {local.get('request')!r} to node {local.get('dst')}"
    if name == "_fire":
        return f"its timer {local.get('name')!r} firing (on_timer)"
    return "boot()"


def _own_code(filename: str) -> bool:
    path = os.path.abspath(filename)
    return not (path.startswith(_PACKAGE_DIR + os.sep) or path.startswith(_STDLIB_DIR + os.sep)
                or "site-packages" in path or filename.startswith("<frozen"))


def describe_node_error(exc: BaseException, cluster: Optional[Cluster], node_class: Any,
                        doing: Optional[str] = None) -> tuple[str, str]:
    """``(message, hint)`` for an exception raised while the harness ran a node: which node,
    at what virtual time, handling which input (read from the harness's frames), and the
    line of the node's own code where it was raised."""
    where_env: Optional[tuple[int, str]] = None
    where_code: Optional[tuple[str, int, str]] = None
    seen: set[int] = set()
    chain: Optional[BaseException] = exc
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        tb = chain.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            code = frame.f_code
            if (os.path.abspath(code.co_filename) == _ENVIRONMENT_FILE
                    and code.co_name in _INPUTS and where_env is None):
                owner = frame.f_locals.get("self")
                node_id = getattr(owner, "id", None)
                where_env = (node_id, _describe_input(code.co_name, frame.f_locals))
            if _own_code(code.co_filename):
                where_code = (code.co_filename, tb.tb_lineno, code.co_name)
            tb = tb.tb_next
        chain = chain.__cause__ or chain.__context__
    name = getattr(node_class, "__qualname__", "the node")
    error = f"{type(exc).__name__}: {exc}"
    when = "" if cluster is None else f" at t={format_ms(cluster.now)} ms"
    if where_env is not None:
        who, what = where_env
        message = f"node {who} raised {error}{when} while handling {what}"
    elif doing is not None:
        message = f"{doing} raised {error}{when}"
    else:
        message = f"{name} raised {error}{when}"
    if cluster is not None:
        message += f"\nrun: {cluster.rebuild_call()}"
    if where_code is not None:
        filename, lineno, func = where_code
        text = linecache.getline(filename, lineno).strip()
        message += f"\n{os.path.basename(filename)}, line {lineno}, in {func}: {text}"
    return message, rule("node-error").hint


def run(cluster: Cluster, ms: float) -> Optional[str]:
    """``cluster.run_for(ms)``, for the notebook: if the node raises (or floods the
    simulator), print what happened, where and when, and stop there instead of raising, so
    the timeline of what came before can still be drawn. Returns that text, or None."""
    try:
        cluster.run_for(ms)
        return None
    except FloodError as exc:
        text = _with_notes(exc)
    except CheckFailed as exc:
        text = _with_notes(exc)
    except Exception as exc:  # noqa: BLE001 - the student's node raised
        message, _ = describe_node_error(exc, cluster, cluster.node_class)
        text = message
    print(text)
    return text
