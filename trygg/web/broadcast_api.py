"""``/staff/api/broadcasts``: the staff's JSON API for återkoppling broadcasts.

A thin layer over the broadcast service, for the dashboard to build on. Every route
needs the staff dependency (``staff_auth``), which also names the actor in the audit
log. Every answer that is not a success is ``{"error": message}``: the service's
``BroadcastError`` is 404 for an unknown broadcast, 409 when the broadcast's state does
not allow the move (pausing a draft, editing one that is sending), and 422 otherwise
(a placeholder text, a missing translation); malformed requests are 422 the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from storage.models import Broadcast
from trygg.service import broadcast_report
from trygg.service.broadcast_reach import test_send
from trygg.service.broadcast_spec import CHANNELS, BroadcastSpec
from trygg.service.broadcasts import BroadcastError, Broadcasts
from trygg.web.staff_auth import staff_actor

T = TypeVar("T")
# Where each move may start (as the service has it): a refusal in another state is 409.
EDITABLE = ("draft", "scheduled")
CANCELLABLE = ("draft", "scheduled", "sending", "paused")
ANY_STATE = ("draft", "scheduled", "sending", "paused", "done", "cancelled")
AUDIENCE_KEYS = ("sources", "channels", "languages")
DRY_RUN_FIELDS = ("missing", "disabled", "sms_segments", "sms_cost", "segment_price", "currency")

Language = Annotated[str, Field(min_length=2, max_length=16)]
Channel = Annotated[str, Field(min_length=2, max_length=16)]
# Above any id the database can hold, a lookup would fail in the driver (a 500).
BroadcastId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Actor = Annotated[str, Depends(staff_actor)]


class StaffRoute(APIRoute):
    """Errors as ``{"error": ...}`` (the dashboard shows them as they are), and staff
    data kept out of caches."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except RequestValidationError as exc:
                problems = [_readable(error) for error in exc.errors()]
                response = JSONResponse({"error": "; ".join(problems)}, status_code=422)
            except HTTPException as exc:
                response = JSONResponse(
                    {"error": exc.detail}, status_code=exc.status_code, headers=exc.headers
                )
            response.headers["Cache-Control"] = "no-store"
            return response

        return handle


router = APIRouter(
    prefix="/staff/api/broadcasts", route_class=StaffRoute, dependencies=[Depends(staff_actor)]
)


# -- requests ----------------------------------------------------------------------------


class AudienceBody(BaseModel):
    """Who gets it; an empty list means everyone (every source, channel, language)."""

    model_config = ConfigDict(extra="forbid")
    sources: list[Annotated[str, Field(max_length=64)]] = Field(default=[], max_length=100)
    channels: list[Channel] = Field(default=[], max_length=len(CHANNELS))
    languages: list[Language] = Field(default=[], max_length=50)


class BroadcastBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    # Generous caps: the service's own checks say, in words, what is wrong with a text.
    texts: dict[Language, Annotated[str, Field(max_length=10_000)]] = Field(max_length=50)
    link: str | None = Field(default=None, max_length=500)
    image: str | None = Field(default=None, max_length=500)
    audience: AudienceBody = Field(default_factory=AudienceBody)

    def spec(self, campaign_id: str) -> BroadcastSpec:
        audience = self.audience
        return BroadcastSpec(
            campaign_id, self.name, dict(self.texts), self.link, self.image,
            tuple(audience.sources), tuple(audience.channels), tuple(audience.languages),
        )  # fmt: skip


class NewBroadcast(BroadcastBody):
    campaign: str = Field(min_length=1, max_length=40)


class ChangedBroadcast(BroadcastBody):
    # Optional, so the dashboard may send back what it read; a broadcast cannot move.
    campaign: str | None = Field(default=None, max_length=40)


class SendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Languages without a text that staff confirm get the campaign language's text.
    fallback: list[Language] = Field(default=[], max_length=50)
    at: dt.datetime | None = None  # later: scheduled; now or past: sent now

    @field_validator("at")
    @classmethod
    def _aware(cls, at: dt.datetime | None) -> dt.datetime | None:
        if at is None:
            return None
        if at.utcoffset() is None:
            raise PydanticCustomError(
                "naive_datetime",
                "give the time with its timezone, like 2026-12-01T18:00:00+01:00; "
                "without one it is ambiguous",
            )
        try:
            return at.astimezone(dt.UTC)
        except OverflowError:  # year 1 or 9999 shifted out of range
            raise PydanticCustomError("datetime_range", "the time is out of range") from None


class TestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    to: str = Field(min_length=1, max_length=128)  # a phone number, chat id, ...
    language: Language


# -- routes ------------------------------------------------------------------------------


@router.get("")
async def listed(
    request: Request, campaign: Annotated[str | None, Query(max_length=40)] = None
) -> dict[str, Any]:
    broadcasts = await _service(request).listed(campaign)
    return {"broadcasts": [_summary(broadcast) for broadcast in broadcasts]}


@router.post("", status_code=201)
async def create(body: NewBroadcast, request: Request, actor: Actor) -> dict[str, Any]:
    service = _service(request)
    spec = body.spec(body.campaign)
    _check(service, spec)
    try:
        broadcast_id = await service.create(spec, actor)
    except BroadcastError as error:
        raise HTTPException(422, str(error)) from error
    return await _detail(service, await service.get(broadcast_id))


@router.get("/{broadcast_id}")
async def one(broadcast_id: BroadcastId, request: Request) -> dict[str, Any]:
    service = _service(request)
    return await _detail(service, await _found(service, broadcast_id))


@router.put("/{broadcast_id}")
async def change(
    broadcast_id: BroadcastId, body: ChangedBroadcast, request: Request, actor: Actor
) -> dict[str, Any]:
    service = _service(request)
    broadcast = await _found(service, broadcast_id)
    if body.campaign not in (None, broadcast.campaign_id):
        raise HTTPException(
            422, f"broadcast {broadcast_id} belongs to {broadcast.campaign_id}; it cannot move"
        )
    spec = body.spec(broadcast.campaign_id)
    _check(service, spec)
    await _attempt(service, broadcast_id, EDITABLE, service.update(broadcast_id, spec, actor))
    return await _detail(service, await service.get(broadcast_id))


@router.get("/{broadcast_id}/preview")
async def preview(
    broadcast_id: BroadcastId,
    request: Request,
    language: Annotated[list[Language], Query(max_length=50)] = [],  # noqa: B006 (FastAPI copies it)
    channel: Annotated[list[Channel], Query(max_length=len(CHANNELS))] = [],  # noqa: B006
) -> dict[str, Any]:
    unknown = [name for name in channel if name not in CHANNELS]
    if unknown:
        raise HTTPException(422, f"channel {', '.join(unknown)}: one of {', '.join(CHANNELS)}")
    service = _service(request)
    shown = await _attempt(
        service, broadcast_id, ANY_STATE,
        broadcast_report.preview(service, broadcast_id, language or None, channel or None),
    )  # fmt: skip
    return {"previews": [dataclasses.asdict(item) for item in shown]}


@router.get("/{broadcast_id}/dry-run")
async def dry_run(broadcast_id: BroadcastId, request: Request) -> dict[str, Any]:
    service = _service(request)
    run = await _attempt(
        service, broadcast_id, ANY_STATE, broadcast_report.dry_run(service, broadcast_id)
    )
    return {
        "people": run.people,
        "rows": [
            {"channel": channel, "language": language, **dataclasses.asdict(row)}
            for (channel, language), row in run.rows.items()
        ],
        "confirmed": list(run.confirmed),
        **{name: getattr(run, name) for name in DRY_RUN_FIELDS},
    }


@router.get("/{broadcast_id}/report")
async def report(broadcast_id: BroadcastId, request: Request) -> dict[str, Any]:
    service = _service(request)
    made = await _attempt(
        service, broadcast_id, ANY_STATE, broadcast_report.report(service, broadcast_id)
    )
    return {
        "id": made.broadcast_id,
        "name": made.name,
        "state": made.state,
        "audience_size": made.audience_size,
        "total": _tally(made.total),
        "rows": [
            {"channel": channel, "language": language, **_tally(tally)}
            for (channel, language), tally in made.rows.items()
        ],
    }


@router.post("/{broadcast_id}/send")
async def send(
    broadcast_id: BroadcastId, body: SendBody, request: Request, actor: Actor
) -> dict[str, Any]:
    service = _service(request)
    people = await _attempt(
        service, broadcast_id, EDITABLE,
        service.send(broadcast_id, actor, fallback=body.fallback, at=body.at),
    )  # fmt: skip
    return {**_summary(await service.get(broadcast_id)), "people": people}


@router.post("/{broadcast_id}/pause")
async def pause(broadcast_id: BroadcastId, request: Request, actor: Actor) -> dict[str, Any]:
    service = _service(request)
    await _attempt(service, broadcast_id, ("sending",), service.pause(broadcast_id, actor))
    return _summary(await service.get(broadcast_id))


@router.post("/{broadcast_id}/resume")
async def resume(broadcast_id: BroadcastId, request: Request, actor: Actor) -> dict[str, Any]:
    service = _service(request)
    await _attempt(service, broadcast_id, ("paused",), service.resume(broadcast_id, actor))
    return _summary(await service.get(broadcast_id))


@router.post("/{broadcast_id}/cancel")
async def cancel(broadcast_id: BroadcastId, request: Request, actor: Actor) -> dict[str, Any]:
    service = _service(request)
    dropped = await _attempt(
        service, broadcast_id, CANCELLABLE, service.cancel(broadcast_id, actor)
    )
    return {**_summary(await service.get(broadcast_id)), "dropped": dropped}


@router.post("/{broadcast_id}/test")
async def test(
    broadcast_id: BroadcastId, body: TestBody, request: Request, actor: Actor
) -> dict[str, Any]:
    """One copy to a staff member's own address, to see it on the real channel."""
    service = _service(request)
    queued = await _attempt(
        service, broadcast_id, ANY_STATE,
        test_send(service, broadcast_id, body.channel, body.to, body.language, actor),
    )  # fmt: skip
    return {"queued": queued}


# -- helpers -----------------------------------------------------------------------------


def _service(request: Request) -> Broadcasts:
    service: Broadcasts = request.app.state.broadcasts
    return service


def _check(service: Broadcasts, spec: BroadcastSpec) -> None:
    """A draft's problems are 422 whatever the broadcast's state (checked first)."""
    problems = service.check(spec)
    if problems:
        raise HTTPException(422, "; ".join(problems))


async def _found(service: Broadcasts, broadcast_id: int) -> Broadcast:
    try:
        return await service.get(broadcast_id)
    except BroadcastError as error:
        raise HTTPException(404, str(error)) from error


async def _attempt(
    service: Broadcasts, broadcast_id: int, allowed: Collection[str], action: Awaitable[T]
) -> T:
    """Run a service call; a refusal is 404, 409 or 422 by what the broadcast is now.

    The service says why in words, not in kinds of error, so the state after the refusal
    tells them apart: a state the move cannot start from is a conflict; in a state it can
    start from, what was refused is the content (texts, fallbacks, an address)."""
    try:
        return await action
    except BroadcastError as error:
        broadcast = await _found(service, broadcast_id)
        status = 422 if broadcast.state in allowed else 409
        raise HTTPException(status, str(error)) from error


def _readable(error: Any) -> str:
    """``at: give the time with its timezone``, not pydantic's nested structure."""
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON"
    where = [str(part) for part in error.get("loc", ()) if part not in ("body", "path", "query")]
    return f"{'.'.join(where) or 'body'}: {error.get('msg', 'invalid')}"


def _summary(broadcast: Broadcast) -> dict[str, Any]:
    times = ("created_at", "scheduled_at", "started_at", "finished_at")
    return {
        "id": broadcast.id,
        "campaign": broadcast.campaign_id,
        "name": broadcast.name,
        "state": broadcast.state,
        "created_by": broadcast.created_by,
        "audience_size": broadcast.audience_size,
        **{name: _iso(getattr(broadcast, name)) for name in times},
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def _detail(service: Broadcasts, broadcast: Broadcast) -> dict[str, Any]:
    """A broadcast with its texts, audience and the translations its audience lacks."""
    missing = await service.missing(broadcast.id)
    audience = broadcast.audience
    return {
        **_summary(broadcast),
        "texts": dict(broadcast.texts),
        "link": broadcast.link,
        "image": broadcast.image,
        "audience": {key: list(audience.get(key, ())) for key in AUDIENCE_KEYS},
        "fallbacks": list(broadcast.fallbacks),
        "languages": service.languages_of(broadcast.campaign_id),
        # People per language of the audience with no text; "unconfirmed" of them block
        # sending until translated or confirmed as fallbacks.
        "missing": missing.people,
        "unconfirmed": missing.unconfirmed,
    }


def _tally(tally: broadcast_report.Tally) -> dict[str, Any]:
    # Not dataclasses.asdict: it would rebuild the Counters from (reason, n) pairs.
    columns = ("queued", "pending", "sent", "delivered", "failed", "waiting", "skipped")
    return {
        **{column: getattr(tally, column) for column in columns},
        "failures": dict(tally.failures),
        "skips": dict(tally.skips),
        "adds_up": tally.adds_up(),
    }
