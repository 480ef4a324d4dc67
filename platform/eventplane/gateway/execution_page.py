"""``GET /ui/executions/<execution ARN>``: an execution as a small web page.

The page shows the execution's status and its state machine laid out by Graphviz with
the path taken (``eventplane.stategraph``), inline as SVG; ``.../graph.svg`` is the
picture alone. While the execution runs the page reloads itself every few seconds
(a meta refresh of the same URL, so a presigned URL keeps working until it expires)
and stops once it has ended.

Access is the gateway's own: the request must pass the same SigV4 verification (header
or presigned query string; anything when the gateway is open) and the principal must be
allowed ``states:DescribeExecution``, ``states:DescribeStateMachineForExecution`` and
``states:GetExecutionHistory`` on the execution, checked as for the AWS calls.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.gateway.authz import GatewayAuthorizer
from eventplane.gateway.binding import ServiceBinding
from eventplane.gateway.errors import UnsupportedAction, http_status
from eventplane.gateway.sigv4 import Principal, SignedRequest, Verifier
from eventplane.observability.logging import get_logger
from eventplane.stategraph import GraphvizMissing, render
from eventplane.stategraph.dot import COLOURS
from eventplane.stategraph.trace import NOT_REACHED

_log = get_logger("eventplane.gateway")

PREFIX = "/ui/executions/"
GRAPH_SUFFIX = "/graph.svg"
REFRESH_SECONDS = 2
SERVICE = "stepfunctions"
# Only what the page needs: its own styles and the inline SVG; no script at all.
_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
}
_STATUS_COLOURS = {
    "RUNNING": COLOURS["running"],
    "SUCCEEDED": COLOURS["succeeded"],
    "FAILED": COLOURS["failed"],
    "TIMED_OUT": COLOURS["failed"],
    "ABORTED": COLOURS["aborted"],
}

Response = tuple[int, dict[str, str], bytes]


class ExecutionPages:
    def __init__(
        self,
        bindings: Mapping[str, ServiceBinding],
        verifier: Verifier,
        authorizer: GatewayAuthorizer,
    ) -> None:
        self.bindings = bindings
        self.verifier = verifier
        self.authorizer = authorizer

    async def handle(
        self, method: str, raw_path: str, signed: SignedRequest, rid: str, *, secure: bool = False
    ) -> Response:
        if method != "GET":
            return _page(405, "Method not allowed", "<p>Only GET reads an execution page.</p>")
        rest = unquote(raw_path[len(PREFIX) :])
        graph_only = rest.endswith(GRAPH_SUFFIX)
        execution_arn = rest[: -len(GRAPH_SUFFIX)] if graph_only else rest
        try:
            principal = self.verifier.verify(signed)
            described, definition, events = await self._read(principal, execution_arn, rid, secure)
        except EventplaneError as err:
            status = 404 if err.code == "ExecutionDoesNotExist" else http_status(err, SERVICE)
            title = "No such execution" if status == 404 else err.code
            return _page(status, title, f"<p>{html.escape(err.message)}</p>")
        except Exception:
            _log.exception("execution page failed", request_id=rid)
            return _page(500, "Internal error", "<p>The page could not be made.</p>")
        title = f"{described.execution_arn}\\n{described.status}"
        try:
            svg = render(definition, events, "svg", title=title).decode()
        except GraphvizMissing as exc:
            if graph_only:
                return _page(503, "No Graphviz", f"<p>{html.escape(str(exc))}</p>")
            svg = f'<p class="error">{html.escape(str(exc))}</p>'
        if graph_only:
            return 200, {"content-type": "image/svg+xml", **_HEADERS}, svg.encode()
        return _execution_page(described, _inline(svg))

    async def _read(
        self, principal: Principal, execution_arn: str, rid: str, secure: bool
    ) -> tuple[Any, str, list[dict[str, Any]]]:
        """DescribeExecution, DescribeStateMachineForExecution and the whole history."""
        described = await self._call(
            principal, "DescribeExecution", rid, execution_arn, secure=secure
        )
        machine = await self._call(
            principal, "DescribeStateMachineForExecution", rid, execution_arn, secure=secure
        )
        events: list[dict[str, Any]] = []
        token = ""
        while True:
            page = await self._call(
                principal,
                "GetExecutionHistory",
                rid,
                execution_arn,
                secure=secure,
                max_results=1000,
                **({"next_token": token} if token else {}),
            )
            events.extend(page.events)
            token = page.next_token
            if not token:
                return described, machine.definition, events

    async def _call(
        self,
        principal: Principal,
        action: str,
        rid: str,
        execution_arn: str,
        *,
        secure: bool,
        **more: Any,
    ) -> Any:
        binding = self.bindings.get(SERVICE)
        if binding is None:
            raise ServiceUnavailable(
                "stepfunctions is not served by this replica (its role is not enabled)."
            )
        handler = binding.handler(action)
        if handler is None:
            raise UnsupportedAction(f"eventplane does not implement {action} yet.")
        request_cls, call = handler
        request = request_cls(execution_arn=execution_arn, **more)
        self.authorizer.check(principal, SERVICE, action, request, rid, secure=secure)
        return await call(request)


def _inline(svg: str) -> str:
    """The SVG element alone (dot writes an XML declaration and a doctype before it)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def _page(status: int, title: str, body: str, *, head: str = "") -> Response:
    text = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>{head}<style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )
    return status, {"content-type": "text/html; charset=utf-8", **_HEADERS}, text.encode()


def _execution_page(e: Any, svg: str) -> Response:
    running = e.status == "RUNNING"
    fill, line = _STATUS_COLOURS.get(e.status, COLOURS[NOT_REACHED])
    rows = [("Execution", e.execution_arn), ("State machine", e.state_machine_arn)]
    rows.append(("Started", str(e.start_date)))
    if e.stop_date is not None:
        rows.append(("Stopped", str(e.stop_date)))
    if e.error:
        rows.append(("Error", e.error))
    if e.cause:
        rows.append(("Cause", e.cause))
    table = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    legend = "".join(
        f'<span class="key" style="background:{f};border-color:{c}">{html.escape(s)}</span>'
        for s, (f, c) in COLOURS.items()
    )
    refresh = f"reloads every {REFRESH_SECONDS} s while it runs" if running else "ended"
    body = (
        f'<p>Status: <span id="status" class="badge" style="background:{fill};'
        f'border-color:{line}">{html.escape(e.status)}</span> <small>({refresh})</small></p>'
        f'<table>{table}</table><p class="legend">{legend}</p>'
        f'<div id="graph">{svg}</div>'
    )
    head = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if running else ""
    return _page(200, f"{e.name}: {e.status}", body, head=head)


_STYLE = (
    "body{font-family:'DejaVu Sans',sans-serif;margin:1.5em;color:#212121}"
    "h1{font-size:1.3em}th{text-align:left;padding-right:1em;font-weight:normal;color:#616161}"
    ".badge,.key{border:2px solid;border-radius:4px;padding:1px 6px}"
    ".key{margin-right:.5em;font-size:.85em}.error{color:#c62828}"
    "#graph svg{max-width:100%;height:auto}"
)
