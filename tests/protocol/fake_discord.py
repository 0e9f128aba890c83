"""A loopback fake of the Discord REST API (v10) and gateway, shaped after discord.py 2.7.

The server records every HTTP request and every gateway frame, so tests assert on what a real
client put on the wire, and it waits on those records instead of sleeping. It validates the
limits Discord enforces server-side (message, embed and component sizes, autocomplete choices,
double acknowledgement, permissions in a channel) so a payload Discord would reject is rejected
here too.

Beyond one guild and one channel it serves several guilds split over gateway shards
(``FakeDiscord(guild_count=4, shard_count=2)``), a channel where the bot lacks Embed Links
(``add_text_channel(embed_links=False)``), a strict mode that refuses unknown embed fields the way
Spacebar does (``strict_embeds = True``), and start-up faults: refused gateway upgrades, close
codes at IDENTIFY, URLs where nothing listens.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
import secrets
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import WSMsgType, web

JSON = dict[str, Any]
T = TypeVar("T")

API_PREFIX = "/api/v10"
# Shaped like a real bot token (id.timestamp.hmac) so that format checks in the bot accept it.
DEFAULT_TOKEN = "MTQwMDAwMDAwMDAwMDAwMDAwMA.GfAkEd.protocol-tests-only-not-a-real-token"
DISCORD_EPOCH_MS = 1_420_070_400_000
# Bits Discord sets on messages; named so assertions read like the API docs.
FLAG_EPHEMERAL = 64
FLAG_LOADING = 128
ALL_PERMISSIONS = "2251799813685247"
# What @everyone may do in the test guilds: the usual text permissions, Embed Links included, and
# not ADMINISTRATOR, so channel overwrites apply.
EVERYONE_PERMISSIONS = 1071698660929
PERMISSION_ADMINISTRATOR = 1 << 3
PERMISSION_VIEW_CHANNEL = 1 << 10
PERMISSION_SEND_MESSAGES = 1 << 11
PERMISSION_EMBED_LINKS = 1 << 14
OVERWRITE_MEMBER = 1
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT
# Every intent bit the gateway docs define (0-16, 20, 21, 24, 25); any other bit is invalid (4013).
KNOWN_INTENTS = sum(1 << bit for bit in [*range(17), 20, 21, 24, 25])
# Discord's documented limit of guilds on one shard; past it IDENTIFY is closed with 4011.
GUILDS_PER_SHARD_LIMIT = 2500


class CloseCode:
    """Gateway close codes (Discord's "Gateway Close Event Codes"; 1000/1006 from RFC 6455)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    ABNORMAL = 1006
    UNKNOWN_ERROR = 4000
    UNKNOWN_OPCODE = 4001
    DECODE_ERROR = 4002
    AUTHENTICATION_FAILED = 4004
    INVALID_SHARD = 4010
    SHARDING_REQUIRED = 4011
    INVALID_INTENTS = 4013
    DISALLOWED_INTENTS = 4014


CLOSE_REASONS = {
    CloseCode.AUTHENTICATION_FAILED: "Authentication failed.",
    CloseCode.INVALID_SHARD: "Invalid shard.",
    CloseCode.SHARDING_REQUIRED: "Sharding required.",
    CloseCode.INVALID_INTENTS: "Invalid intent(s).",
    CloseCode.DISALLOWED_INTENTS: "Disallowed intent(s).",
}
KEPT_HEADERS = {"authorization", "content-type", "user-agent", "x-audit-log-reason"}

# Limits Discord enforces on message payloads (API docs, "Embed Limits" and "Create Message").
CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
AUTOCOMPLETE_CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100
CHOICE_STRING_VALUE_LIMIT = 100
# Limits of message components ("Component Reference": action rows, buttons, string selects).
ACTION_ROWS_LIMIT = 5
BUTTONS_PER_ROW = 5
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
SELECT_OPTIONS_LIMIT = 25
SELECT_OPTION_TEXT_LIMIT = 100
SELECT_PLACEHOLDER_LIMIT = 150
COMPONENT_ACTION_ROW = 1
COMPONENT_BUTTON = 2
COMPONENT_STRING_SELECT = 3
# The embed object as Discord documents it; strict mode refuses any other key, as Spacebar does.
EMBED_KEYS: dict[str, frozenset[str] | None] = {
    "title": None,
    "type": None,
    "description": None,
    "url": None,
    "timestamp": None,
    "color": None,
    "footer": frozenset({"text", "icon_url", "proxy_icon_url"}),
    "image": frozenset({"url", "proxy_url", "height", "width"}),
    "thumbnail": frozenset({"url", "proxy_url", "height", "width"}),
    "video": frozenset({"url", "proxy_url", "height", "width"}),
    "provider": frozenset({"name", "url"}),
    "author": frozenset({"name", "url", "icon_url", "proxy_icon_url"}),
    "fields": frozenset({"name", "value", "inline"}),
}
MISSING_PERMISSIONS = (403, {"message": "Missing Permissions", "code": 50013})


class InteractionType:
    """Values of ``interaction.type``."""

    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CallbackType:
    """Values of the interaction callback ``type``."""

    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


MESSAGE_CALLBACKS = {CallbackType.CHANNEL_MESSAGE, CallbackType.UPDATE_MESSAGE}


def now_iso() -> str:
    """The current time in the ISO 8601 form Discord uses in payloads."""
    return dt.datetime.now(dt.UTC).isoformat()


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a guild's events: Discord's ``(guild_id >> 22) % num_shards``."""
    return (guild_id >> 22) % shard_count


class Snowflakes:
    """Increasing snowflake ids whose timestamps are the real current time (or just after)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last_ms = 0

    def next(self) -> int:
        """A fresh snowflake id."""
        return self._make(self._now_ms())

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A fresh id that ``shard_of`` puts on ``shard_id``: its timestamp moved up a few ms."""
        ms = self._now_ms()
        return self._make(ms + (shard_id - ms) % shard_count)

    def _now_ms(self) -> int:
        return max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last_ms)

    def _make(self, ms: int) -> int:
        self._last_ms = ms
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)


@dataclass
class RecordedRequest:
    """One HTTP request as the server saw it, with the answer it gave."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    timestamp: float
    route: str | None = None
    status: int = 0
    response: Any = None
    fault: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the server answered with a 2xx status."""
        return 200 <= self.status < 300


@dataclass
class GatewayFrame:
    """One gateway payload, sent (``out``) or received (``in``)."""

    direction: str
    connection: int
    op: int | None
    t: str | None
    s: int | None
    d: Any
    timestamp: float


@dataclass
class GatewayConnection:
    """One websocket connected to the gateway endpoint.

    How it ended: ``closed_by`` is ``"client"`` when the client sent the first close frame (its
    code in ``client_close_code``), ``"server"`` when the fake closed it (``server_close_code``,
    1006 for ``drop_gateway()``; the client's answering frame, if any, in ``client_close_code``),
    and ``"dropped"`` when the client's end went away without a close frame, as a killed process
    does (``close_code`` 1006).
    """

    id: int
    path: str
    query: dict[str, str]
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    opened_at: float
    closed_at: float | None = None
    close_code: int | None = None
    session: GatewaySession | None = None
    closed_by: str | None = None
    client_close_code: int | None = None
    server_close_code: int | None = None

    @property
    def shard(self) -> tuple[int, int] | None:
        """``(shard_id, shard_count)`` of the session on this socket, once identified."""
        return self.session.shard if self.session is not None else None

    @property
    def dropped(self) -> bool:
        """Whether the client went away without a close frame (what RFC 6455 calls 1006)."""
        return self.closed_by == "dropped"


@dataclass
class GatewaySession:
    """A gateway session: the events it was sent, so a RESUME can replay what was missed."""

    session_id: str
    token: str
    intents: int | None
    lock: asyncio.Lock
    seq: int = 0
    events: list[JSON] = field(default_factory=list)
    connection: GatewayConnection | None = None
    resumes: int = 0
    shard: tuple[int, int] = (0, 1)
    # A client that closes with 1000 or 1001 ends its session: Discord will not resume it.
    invalidated: bool = False

    def covers(self, guild_id: int | None) -> bool:
        """Whether this session receives the events of ``guild_id`` (``None``: DMs, shard 0)."""
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return shard_of(guild_id, shard_count) == shard_id


@dataclass
class FakeGuild:
    """A guild the bot is in: its text channels and what @everyone may do there."""

    id: int
    name: str
    channel_ids: list[int]
    everyone_permissions: int = EVERYONE_PERMISSIONS

    @property
    def channel_id(self) -> int:
        """The guild's first text channel, ``#general``."""
        return self.channel_ids[0]


@dataclass
class GatewayFault:
    """An armed gateway fault: the next ``remaining`` upgrades or IDENTIFYs it applies to."""

    kind: str
    code: int
    remaining: int
    hits: list[float] = field(default_factory=list)


@dataclass
class InteractionState:
    """Server-side state of one interaction the test injected."""

    payload: JSON
    dispatched_at: float | None = None
    callback_type: int | None = None
    original_message_id: int | None = None

    @property
    def id(self) -> int:
        """The interaction id."""
        return int(self.payload["id"])

    @property
    def token(self) -> str:
        """The interaction token, used in callback and webhook URLs."""
        return str(self.payload["token"])


@dataclass
class Fault:
    """An armed fault: the next ``remaining`` matching requests get ``status``."""

    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    retry_after: float
    bucket: str
    body: JSON | None = None
    scope: str = "user"
    hits: list[RecordedRequest] = field(default_factory=list)


class ClientRejectedError(ValueError):
    """The Discord client itself would refuse to send this command invocation."""


class EventLog(Generic[T]):
    """An append-only record that tests can wait on with a timeout."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[T] = []
        self._waiters: list[tuple[Callable[[T], bool], asyncio.Future[None]]] = []

    def __iter__(self) -> Iterator[T]:
        return iter(list(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def mark(self) -> int:
        """A position to pass as ``since`` so that only later records count."""
        return len(self.items)

    def append(self, item: T) -> None:
        """Record an item and wake the waiters it satisfies."""
        self.items.append(item)
        for on_item, future in list(self._waiters):
            if not future.done() and on_item(item):
                future.set_result(None)

    def select(self, predicate: Callable[[T], bool], since: int = 0) -> list[T]:
        """Records from ``since`` on that satisfy ``predicate``."""
        return [item for item in self.items[since:] if predicate(item)]

    async def wait_for(
        self, predicate: Callable[[T], bool], *, timeout: float, since: int = 0, what: str = ""
    ) -> T:
        """The first record from ``since`` on that satisfies ``predicate``, waiting if needed."""
        found = await self.wait_for_count(predicate, 1, timeout=timeout, since=since, what=what)
        return found[0]

    async def wait_for_count(
        self,
        predicate: Callable[[T], bool],
        count: int,
        *,
        timeout: float,
        since: int = 0,
        what: str = "",
    ) -> list[T]:
        """The first ``count`` records from ``since`` on that satisfy ``predicate``."""
        found = self.select(predicate, since)
        if len(found) >= count:
            return found[:count]
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_item(item: T) -> bool:
            if predicate(item):
                found.append(item)
            return len(found) >= count

        waiter = (on_item, future)
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            recent = "\n  ".join(repr(item)[:300] for item in self.items[-8:])
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} x {what or 'a matching record'} "
                f"in {self.name} (got {len(found)}); last records:\n  {recent}"
            ) from None
        finally:
            self._waiters.remove(waiter)
        return found[:count]


def _json_response(
    status: int, payload: Any, headers: dict[str, str] | None = None
) -> web.Response:
    # discord.py only decodes JSON when Content-Type is exactly "application/json" (no charset),
    # which aiohttp's json_response does not produce.
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(status=status, body=json.dumps(payload).encode(), headers=all_headers)


def _error(status: int, code: int, message: str, errors: JSON | None = None) -> tuple[int, JSON]:
    body: JSON = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return status, body


def _form_error(
    location: str, message: str, code: str = "BASE_TYPE_BAD_LENGTH"
) -> tuple[int, JSON]:
    # Discord nests form errors by path; a flat key keeps the reason readable in test output.
    return _error(
        400,
        50035,
        "Invalid Form Body",
        {location: {"_errors": [{"code": code, "message": message}]}},
    )


def embed_total_length(embed: JSON) -> int:
    """Characters that count towards Discord's 6000-character limit for one embed."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for embed_field in embed.get("fields") or []:
        total += len(embed_field.get("name") or "") + len(embed_field.get("value") or "")
    return total


def message_limit_violations(body: JSON) -> list[str]:
    """Every Discord limit a message payload breaks, as readable strings (empty when valid)."""
    problems: list[str] = []
    content = body.get("content")
    if content is not None and len(content) > CONTENT_LIMIT:
        problems.append(f"content has {len(content)} > {CONTENT_LIMIT} characters")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        problems.append(f"{len(embeds)} > {EMBEDS_PER_MESSAGE} embeds")
    total = 0
    for i, embed in enumerate(embeds):
        checks = [
            ("title", len(embed.get("title") or ""), EMBED_TITLE_LIMIT),
            ("description", len(embed.get("description") or ""), EMBED_DESCRIPTION_LIMIT),
            ("fields", len(embed.get("fields") or []), EMBED_FIELDS_LIMIT),
            ("footer.text", len((embed.get("footer") or {}).get("text") or ""), EMBED_FOOTER_LIMIT),
            ("author.name", len((embed.get("author") or {}).get("name") or ""), EMBED_AUTHOR_LIMIT),
        ]
        for j, embed_field in enumerate(embed.get("fields") or []):
            name, value = embed_field.get("name") or "", embed_field.get("value") or ""
            checks.append((f"fields.{j}.name", len(name), EMBED_FIELD_NAME_LIMIT))
            checks.append((f"fields.{j}.value", len(value), EMBED_FIELD_VALUE_LIMIT))
            if not name.strip() or not value.strip():
                problems.append(f"embeds.{i}.fields.{j} has an empty name or value")
        for where, size, limit in checks:
            if size > limit:
                problems.append(f"embeds.{i}.{where} has {size} > {limit}")
        total += embed_total_length(embed)
    if total > EMBED_TOTAL_LIMIT:
        problems.append(f"embeds total {total} > {EMBED_TOTAL_LIMIT} characters")
    return problems


def component_limit_violations(components: Any) -> list[str]:
    """Every documented limit the action rows of a message break (empty when valid)."""
    if components is None:
        return []
    if not isinstance(components, list):
        return ["components must be a list"]
    problems: list[str] = []
    if len(components) > ACTION_ROWS_LIMIT:
        problems.append(f"{len(components)} > {ACTION_ROWS_LIMIT} action rows")
    custom_ids: list[str] = []
    for i, row in enumerate(components):
        if not isinstance(row, dict) or row.get("type") != COMPONENT_ACTION_ROW:
            problems.append(f"components.{i} is not an action row")
            continue
        children = row.get("components") or []
        kinds = [child.get("type") for child in children]
        if not children:
            problems.append(f"components.{i} is an empty action row")
        if COMPONENT_STRING_SELECT in kinds and len(children) > 1:
            problems.append(f"components.{i}: a select menu must be alone in its row")
        if kinds.count(COMPONENT_BUTTON) > BUTTONS_PER_ROW:
            problems.append(f"components.{i} has more than {BUTTONS_PER_ROW} buttons")
        for j, child in enumerate(children):
            where = f"components.{i}.components.{j}"
            custom_id = child.get("custom_id")
            if custom_id is not None:
                custom_ids.append(custom_id)
                if not 1 <= len(custom_id) <= CUSTOM_ID_LIMIT:
                    problems.append(f"{where}.custom_id has {len(custom_id)} characters")
            if child.get("type") == COMPONENT_BUTTON:
                if len(child.get("label") or "") > BUTTON_LABEL_LIMIT:
                    problems.append(f"{where}.label is over {BUTTON_LABEL_LIMIT} characters")
                # Link (5) and premium (6) buttons carry a url or a SKU instead of a custom id.
                if (child.get("style") in (5, 6)) != (custom_id is None):
                    problems.append(f"{where}: a custom_id is required unless a link or premium")
            elif child.get("type") == COMPONENT_STRING_SELECT:
                problems.extend(_select_violations(child, where))
            else:
                problems.append(f"{where} has unsupported type {child.get('type')!r}")
    duplicates = {c for c in custom_ids if custom_ids.count(c) > 1}
    if duplicates:
        problems.append(f"duplicate custom ids {sorted(duplicates)}")
    return problems


def _select_violations(select: JSON, where: str) -> list[str]:
    problems: list[str] = []
    options = select.get("options") or []
    if not 1 <= len(options) <= SELECT_OPTIONS_LIMIT:
        problems.append(f"{where} has {len(options)} options (1-{SELECT_OPTIONS_LIMIT})")
    if select.get("custom_id") is None:
        problems.append(f"{where}: a select menu needs a custom_id")
    if len(select.get("placeholder") or "") > SELECT_PLACEHOLDER_LIMIT:
        problems.append(f"{where}.placeholder is over {SELECT_PLACEHOLDER_LIMIT} characters")
    low, high = select.get("min_values", 1), select.get("max_values", 1)
    if not 0 <= low <= SELECT_OPTIONS_LIMIT or not 1 <= high <= SELECT_OPTIONS_LIMIT or low > high:
        problems.append(f"{where}: min_values={low}, max_values={high}")
    elif options and high > len(options):
        problems.append(f"{where}: max_values={high} exceeds its {len(options)} options")
    values = [option.get("value") for option in options]
    if len(set(values)) != len(values):
        problems.append(f"{where} has duplicate option values")
    for k, option in enumerate(options):
        for key in ("label", "value", "description"):
            text = option.get(key)
            required = key != "description"
            if (required and not text) or len(text or "") > SELECT_OPTION_TEXT_LIMIT:
                problems.append(f"{where}.options.{k}.{key} must be 1-100 characters")
    return problems


def unknown_embed_field(embeds: Any) -> str | None:
    """The path (``0`` or ``0/footer``) of the first embed with a key Discord does not document."""
    for i, embed in enumerate(embeds or []):
        if not isinstance(embed, dict):
            return str(i)
        if not set(embed) <= EMBED_KEYS.keys():
            return str(i)
        for key, allowed in EMBED_KEYS.items():
            if allowed is None or key not in embed:
                continue
            parts = embed[key] if key == "fields" else [embed[key]]
            for j, part in enumerate(parts or []):
                if isinstance(part, dict) and not set(part) <= allowed:
                    return f"{i}/{key}/{j}" if key == "fields" else f"{i}/{key}"
    return None


SPACEBAR_EXTRA_KEY = {
    "code": "additionalProperties",
    "message": "must NOT have additional properties",
}


def _spacebar_form_error(path: str) -> tuple[int, JSON]:
    # Spacebar validates bodies with a JSON schema and keys each error by its instance path.
    return _error(
        400,
        50035,
        "Invalid Form Body",
        {path: {"_errors": [SPACEBAR_EXTRA_KEY]}},
    )


_RESERVED_SOCKETS: list[socket.socket] = []


def unreachable_url(scheme: str = "http", path: str = "") -> str:
    """A loopback URL where nothing listens: connecting to it is refused at once.

    The port stays bound (never listening) for the rest of the test run, so no other server can
    take it meanwhile.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _RESERVED_SOCKETS.append(sock)
    return f"{scheme}://127.0.0.1:{sock.getsockname()[1]}{path}"


def _message_is_empty(body: JSON) -> bool:
    return not (
        (body.get("content") or "").strip()
        or body.get("embeds")
        or body.get("components")
        or body.get("attachments")
        or body.get("sticker_ids")
        or body.get("poll")
    )


Handler = Callable[[web.Request, RecordedRequest, re.Match[str]], Awaitable[tuple[int, Any]]]


@dataclass
class _Route:
    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    needs_auth: bool


class FakeDiscord:
    """A Discord API v10 + gateway fake for one bot in ``guild_count`` guilds.

    Start it with ``await server.start()``; point the bot at ``api_url`` and ``gateway_url``.
    ``guild_id`` and ``channel_id`` name the first guild and its ``#general``; with
    ``shard_count`` > 1 the guilds are spread round-robin over that many shards, and
    ``GET /gateway/bot`` recommends that many.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        heartbeat_interval_ms: int = 41_250,
        app_name: str = "statement-bot",
        guild_count: int = 1,
        shard_count: int = 1,
        strict_embeds: bool = False,
        privileged_intents: int = PRIVILEGED_INTENTS,
        guilds_per_shard_limit: int = GUILDS_PER_SHARD_LIMIT,
    ) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.ids = Snowflakes()
        self.application_id = self.ids.next()
        # Applications created since 2019 share their id with their bot user.
        self.bot_user: JSON = self._user_payload(self.application_id, app_name, bot=True)
        self.owner: JSON = self._user_payload(self.ids.next(), "owner")
        self.app_name = app_name
        self.recommended_shards = shard_count
        # Refuse embeds with keys Discord does not document (Spacebar's schema validation).
        self.strict_embeds = strict_embeds
        # The privileged intents enabled for the app in the developer portal; others get 4014.
        self.privileged_intents = privileged_intents
        self.guilds_per_shard_limit = guilds_per_shard_limit
        self.guilds: dict[int, FakeGuild] = {}
        self.guild_channels: dict[int, JSON] = {}
        for index in range(guild_count):
            self._new_guild(shard=(index % shard_count, shard_count))
        first = next(iter(self.guilds.values()))
        self.guild_id = first.id
        self.channel_id = first.channel_id
        self.users: dict[int, JSON] = {int(self.owner["id"]): self.owner}
        self.dm_channels: dict[int, JSON] = {}
        self.messages: dict[int, JSON] = {}
        self.interactions: dict[int, InteractionState] = {}
        self._interactions_by_token: dict[str, InteractionState] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self.requests: EventLog[RecordedRequest] = EventLog("HTTP requests")
        self.frames: EventLog[GatewayFrame] = EventLog("gateway frames")
        self.connections: EventLog[GatewayConnection] = EventLog("gateway connections")
        self.disconnections: EventLog[GatewayConnection] = EventLog("gateway disconnections")
        # Sessions whose READY and GUILD_CREATEs have all been sent.
        self.ready: EventLog[GatewaySession] = EventLog("ready sessions")
        self.sessions: dict[str, GatewaySession] = {}
        self.active_session: GatewaySession | None = None
        self.faults: list[Fault] = []
        self.gateway_faults: list[GatewayFault] = []
        self.undelivered: list[JSON] = []
        self._connection_ids = itertools.count(1)
        self._user_names = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._unreachable_api: str | None = None
        self._unreachable_gateway: str | None = None
        self._routes = self._build_routes()

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/gateway", self._gateway)
        app.router.add_route("GET", "/resume-gateway", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._http)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        # Binding the socket ourselves is the public way to learn which ephemeral port we got.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Close every websocket and stop listening."""
        for connection in self.connections:
            if not connection.ws.closed:
                await self._close(connection, CloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """The value for ``discord.http.Route.BASE`` (``DISCORD_API_URL``)."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """The value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (``DISCORD_GATEWAY_URL``)."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """Given in READY; a distinct path shows that the client honoured it."""
        return f"ws://127.0.0.1:{self._port}/resume-gateway"

    # ----------------------------------------------------------------- payload builders

    @staticmethod
    def _user_payload(user_id: int, name: str, *, bot: bool = False) -> JSON:
        user: JSON = {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": None if bot else name.title(),
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }
        if bot:
            user["bot"] = True
        return user

    def new_user(self, name: str | None = None) -> JSON:
        """A fresh guild member (distinct users keep per-user cooldowns apart)."""
        user = self._user_payload(self.ids.next(), name or f"member{next(self._user_names):04d}")
        self.users[int(user["id"])] = user
        return user

    def _member_payload(self, user: JSON, *, permissions: bool = False) -> JSON:
        member: JSON = {
            "user": user,
            "nick": None,
            "avatar": None,
            "banner": None,
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions:
            member["permissions"] = ALL_PERMISSIONS
        return member

    def channel_payload(self, channel_id: int | None = None) -> JSON:
        """A guild text channel (by default the first guild's ``#general``)."""
        return json.loads(json.dumps(self.guild_channels[channel_id or self.channel_id]))

    def _new_guild(self, name: str | None = None, *, shard: tuple[int, int] = (0, 1)) -> FakeGuild:
        guild_id = self.ids.next_on_shard(*shard)
        default_name = f"Guild {len(self.guilds)}" if self.guilds else "Protocol Test Guild"
        guild = FakeGuild(id=guild_id, name=name or default_name, channel_ids=[])
        self.guilds[guild_id] = guild
        self._new_channel(guild, "general", overwrites=[])
        return guild

    def _new_channel(self, guild: FakeGuild, name: str, *, overwrites: list[JSON]) -> JSON:
        channel_id = self.ids.next()
        channel: JSON = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild.id),
            "name": name,
            "position": len(guild.channel_ids),
            "permission_overwrites": overwrites,
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }
        guild.channel_ids.append(channel_id)
        self.guild_channels[channel_id] = channel
        return channel

    async def add_guild(
        self, name: str | None = None, *, shard: tuple[int, int] | None = None
    ) -> FakeGuild:
        """Put the bot in one more guild, whose id lands on ``shard`` (``(shard_id, count)``).

        A session already serving that shard gets its GUILD_CREATE, as when a bot joins a guild.
        """
        guild = self._new_guild(name, shard=shard or (0, 1))
        session = self.session_for(guild.id)
        if session is not None:
            await self.dispatch("GUILD_CREATE", self.guild_payload(guild.id), session=session)
        return guild

    async def add_text_channel(
        self,
        name: str,
        *,
        guild_id: int | None = None,
        embed_links: bool = True,
        send_messages: bool = True,
    ) -> int:
        """Add a text channel; returns its id.

        ``embed_links=False`` (or ``send_messages=False``) denies that permission to the bot with
        a member overwrite on the channel, which discord.py's ``permissions_for`` applies and
        which the server enforces: a message with embeds there gets 403/50013, and interactions
        from there carry ``app_permissions`` without it. A live session gets CHANNEL_CREATE.
        """
        guild = self.guilds[guild_id or self.guild_id]
        denied = (0 if embed_links else PERMISSION_EMBED_LINKS) | (
            0 if send_messages else PERMISSION_SEND_MESSAGES
        )
        overwrites = []
        if denied:
            overwrites.append(
                {
                    "id": self.bot_user["id"],
                    "type": OVERWRITE_MEMBER,
                    "allow": "0",
                    "deny": str(denied),
                }
            )
        channel = self._new_channel(guild, name, overwrites=overwrites)
        if self.session_for(guild.id) is not None:
            await self.dispatch("CHANNEL_CREATE", self.channel_payload(int(channel["id"])))
        return int(channel["id"])

    def bot_permissions(self, channel_id: int) -> int:
        """The bot's permissions in a guild channel, computed the way Discord documents it.

        The base is what @everyone may do (the bot has no other role); then the channel's
        overwrite for @everyone, then the one for the bot itself. ADMINISTRATOR grants all.
        """
        channel = self.guild_channels[channel_id]
        guild = self.guilds[int(channel["guild_id"])]
        permissions = guild.everyone_permissions
        if permissions & PERMISSION_ADMINISTRATOR:
            return int(ALL_PERMISSIONS)
        overwrites = channel.get("permission_overwrites") or []
        for target in (str(guild.id), self.bot_user["id"]):
            for overwrite in overwrites:
                if overwrite["id"] == target:
                    permissions &= ~int(overwrite["deny"])
                    permissions |= int(overwrite["allow"])
        return permissions

    def guild_of_channel(self, channel_id: int) -> int | None:
        """The guild a channel belongs to (``None`` for a DM channel or an unknown one)."""
        channel = self.guild_channels.get(channel_id)
        return int(channel["guild_id"]) if channel is not None else None

    def guild_payload(self, guild_id: int | None = None) -> JSON:
        """The full GUILD_CREATE payload for a guild (by default the first)."""
        guild = self.guilds[guild_id or self.guild_id]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": self.owner["id"],
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "preferred_locale": "en-US",
            "features": [],
            "roles": [
                {
                    "id": str(guild.id),
                    "name": "@everyone",
                    "color": 0,
                    "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                    "hoist": False,
                    "icon": None,
                    "unicode_emoji": None,
                    "position": 0,
                    "permissions": str(guild.everyone_permissions),
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "members": [self._member_payload(self.bot_user), self._member_payload(self.owner)],
            "channels": [self.channel_payload(c) for c in guild.channel_ids],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_progress_bar_enabled": False,
        }

    def _dm_channel_for(self, user: JSON) -> JSON:
        user_id = int(user["id"])
        if user_id not in self.dm_channels:
            self.dm_channels[user_id] = {
                "id": str(self.ids.next()),
                "type": 1,
                "last_message_id": None,
                "recipients": [user],
                "flags": 0,
            }
        return self.dm_channels[user_id]

    def _channel_by_id(self, channel_id: int) -> JSON | None:
        if channel_id in self.guild_channels:
            return self.channel_payload(channel_id)
        for channel in self.dm_channels.values():
            if int(channel["id"]) == channel_id:
                return channel
        return None

    def _message_payload(
        self,
        *,
        channel_id: int,
        author: JSON,
        body: JSON,
        flags: int = 0,
        message_type: int = 0,
        webhook_id: int | None = None,
        interaction: InteractionState | None = None,
    ) -> JSON:
        content = body.get("content") or ""
        embeds = [{"type": "rich", **embed} for embed in body.get("embeds") or []]
        message: JSON = {
            "id": str(self.ids.next()),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": embeds,
            "pinned": False,
            "type": message_type,
            "flags": flags,
            "components": body.get("components") or [],
        }
        guild_id = self.guild_of_channel(channel_id)
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
        if webhook_id is not None:
            message["webhook_id"] = str(webhook_id)
            message["application_id"] = str(self.application_id)
        if interaction is not None:
            user = interaction.payload.get("member", {}).get("user") or interaction.payload["user"]
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.payload["type"],
                "user": user,
                "authorizing_integration_owners": interaction.payload[
                    "authorizing_integration_owners"
                ],
            }
        reference = body.get("message_reference")
        if reference:
            message["type"] = 19
            message["message_reference"] = {
                "type": 0,
                "message_id": str(reference.get("message_id")),
                "channel_id": str(reference.get("channel_id") or channel_id),
                **({"guild_id": str(guild_id)} if guild_id is not None else {}),
            }
            referenced = self.messages.get(int(reference.get("message_id") or 0))
            if referenced is not None:
                message["referenced_message"] = referenced
        self.messages[int(message["id"])] = message
        return message

    @staticmethod
    def _apply_edit(message: JSON, body: JSON) -> JSON:
        for key in ("content", "components"):
            if key in body:
                empty: Any = "" if key == "content" else []
                message[key] = body[key] if body[key] is not None else empty
        if "embeds" in body:
            message["embeds"] = [{"type": "rich", **embed} for embed in body["embeds"] or []]
        if "flags" in body and body["flags"] is not None:
            # Only SUPPRESS_EMBEDS can change on edit; ephemerality is fixed at creation.
            message["flags"] = (message["flags"] & ~4) | (int(body["flags"]) & 4)
        message["flags"] &= ~FLAG_LOADING
        message["edited_timestamp"] = now_iso()
        return message

    # ----------------------------------------------------------------- injection helpers

    def _where(self, guild_id: int | None, channel_id: int | None) -> tuple[int, int]:
        """The guild and channel a user acts in: the channel's, the guild's #general, or the
        first guild's #general."""
        if channel_id is not None:
            found = self.guild_of_channel(channel_id)
            if found is None:
                raise LookupError(f"no guild text channel {channel_id}")
            return found, channel_id
        guild = self.guilds[guild_id or self.guild_id]
        return guild.id, guild.channel_id

    def user_message_payload(
        self,
        content: str,
        *,
        author: JSON | None = None,
        dm: bool = False,
        mention_everyone: bool = False,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> JSON:
        """A MESSAGE_CREATE payload from a user, with mentions parsed from ``content``.

        A guild message goes to ``channel_id``, else to ``guild_id``'s #general, else to the
        first guild's #general.
        """
        author = author or self.new_user()
        mentioned_ids = re.findall(r"<@!?(\d{15,20})>", content)
        mentions = []
        for user_id in dict.fromkeys(mentioned_ids):
            user = (
                self.bot_user
                if int(user_id) == self.application_id
                else self.users.get(int(user_id))
            )
            if user is not None:
                mention = dict(user)
                if not dm:
                    mention["member"] = {
                        k: v for k, v in self._member_payload(user).items() if k != "user"
                    }
                mentions.append(mention)
        if dm:
            channel_id = int(self._dm_channel_for(author)["id"])
        else:
            guild_id, channel_id = self._where(guild_id, channel_id)
        message: JSON = {
            "id": str(self.ids.next()),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": mention_everyone,
            "mentions": mentions,
            "mention_roles": [] if dm else list(dict.fromkeys(re.findall(r"<@&(\d+)>", content))),
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
            "nonce": str(self.ids.next()),
        }
        if not dm:
            message["guild_id"] = str(guild_id)
            message["member"] = {
                k: v for k, v in self._member_payload(author).items() if k != "user"
            }
        self.messages[int(message["id"])] = message
        return message

    async def send_user_message(
        self,
        content: str,
        *,
        author: JSON | None = None,
        dm: bool = False,
        mention_everyone: bool = False,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> JSON:
        """Dispatch MESSAGE_CREATE for a user message; returns the message payload.

        The event goes to the session of the guild's shard (DMs: shard 0). Like Discord, it only
        goes out with the GUILD_MESSAGES or DIRECT_MESSAGES intent (else it lands in
        ``undelivered``), and guild messages that do not mention the bot lose their content
        without the MESSAGE_CONTENT intent.
        """
        message = self.user_message_payload(
            content,
            author=author,
            dm=dm,
            mention_everyone=mention_everyone,
            guild_id=guild_id,
            channel_id=channel_id,
        )
        session = self.session_for(None if dm else int(message["guild_id"]))
        intents = session.intents if session else None
        if intents is not None:
            needed = INTENT_DIRECT_MESSAGES if dm else INTENT_GUILD_MESSAGES
            if not intents & needed:
                self.undelivered.append(message)
                return message
            mentioned = any(int(m["id"]) == self.application_id for m in message["mentions"])
            if not dm and not mentioned and not intents & INTENT_MESSAGE_CONTENT:
                message = {**message, "content": "", "embeds": [], "attachments": []}
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    async def send_malformed_dm(
        self, content: str = "hello", *, author: JSON | None = None
    ) -> JSON:
        """Dispatch a DM MESSAGE_CREATE carrying ``"guild_id": null``, as Spacebar sends it.

        Discord leaves the key out of DMs; discord.py's parser is not ready for an explicit null.
        """
        message = {**self.user_message_payload(content, author=author, dm=True), "guild_id": None}
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    def find_command(
        self, name: str, command_type: int = 1, guild_id: int | None = None
    ) -> tuple[JSON, int | None]:
        """A registered command by name: that guild's (or any guild's) first, then global."""
        for command_guild, commands in self.guild_commands.items():
            if guild_id is not None and command_guild != guild_id:
                continue
            for command in commands:
                if command["name"] == name and command.get("type", 1) == command_type:
                    return command, command_guild
        for command in self.global_commands:
            if command["name"] == name and command.get("type", 1) == command_type:
                return command, None
        raise LookupError(f"no registered command {name!r} of type {command_type}")

    def _interaction_payload(
        self,
        interaction_type: int,
        data: JSON,
        *,
        user: JSON | None,
        dm: bool,
        guild_id: int | None = None,
        channel_id: int | None = None,
        app_permissions: int | None = None,
    ) -> InteractionState:
        user = user or self.new_user()
        interaction_id = self.ids.next()
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": interaction_type,
            "data": data,
            "token": f"itok{interaction_id}{secrets.token_hex(24)}",
            "version": 1,
            "app_permissions": ALL_PERMISSIONS,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if dm:
            channel = self._dm_channel_for(user)
            payload.update(
                user=user,
                channel_id=channel["id"],
                channel=channel,
                context=1,
                authorizing_integration_owners={"0": self.owner["id"]},
            )
        else:
            guild_id, channel_id = self._where(guild_id, channel_id)
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel_id=str(channel_id),
                channel={**self.channel_payload(channel_id), "permissions": ALL_PERMISSIONS},
                member=self._member_payload(user, permissions=True),
                context=0,
                authorizing_integration_owners={"0": str(guild_id)},
                # What the bot may do where the interaction happened, overwrites included.
                app_permissions=str(self.bot_permissions(channel_id)),
            )
        if app_permissions is not None:
            payload["app_permissions"] = str(app_permissions)
        state = InteractionState(payload=payload)
        self.interactions[state.id] = state
        self._interactions_by_token[state.token] = state
        return state

    def _command_options(
        self, schema: list[JSON], values: dict[str, Any], focused: str | None, validate: bool
    ) -> list[JSON]:
        by_name = {option["name"]: option for option in schema}
        options: list[JSON] = []
        for name, value in values.items():
            if name not in by_name:
                raise ClientRejectedError(f"the command has no option {name!r}")
            option = by_name[name]
            if option["type"] in (1, 2):
                nested = self._command_options(option.get("options", []), value, focused, validate)
                options.append({"name": name, "type": option["type"], "options": nested})
                continue
            entry: JSON = {"name": name, "type": option["type"], "value": value}
            if name == focused:
                entry["focused"] = True
            elif validate:
                self._check_option_value(option, value)
            options.append(entry)
        if validate and focused is None:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
            if missing:
                raise ClientRejectedError(f"required options missing: {missing}")
        return options

    @staticmethod
    def _check_option_value(option: JSON, value: Any) -> None:
        """What the Discord client checks before it lets a user send a command."""
        kind = option["type"]
        if kind == 3:
            if not isinstance(value, str):
                raise ClientRejectedError(f"{option['name']} must be a string")
            if len(value) < option.get("min_length", 0) or len(value) > option.get(
                "max_length", 6000
            ):
                raise ClientRejectedError(f"{option['name']} length {len(value)} out of bounds")
            if not value.strip():
                raise ClientRejectedError(f"{option['name']} cannot be blank")
        elif kind in (4, 10):
            if kind == 4 and (not isinstance(value, int) or isinstance(value, bool)):
                raise ClientRejectedError(f"{option['name']} must be an integer")
            low, high = option.get("min_value"), option.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                raise ClientRejectedError(f"{option['name']}={value} outside [{low}, {high}]")
        elif kind == 5 and not isinstance(value, bool):
            raise ClientRejectedError(f"{option['name']} must be a boolean")
        choices = option.get("choices")
        if choices and value not in [choice["value"] for choice in choices]:
            raise ClientRejectedError(f"{option['name']}={value!r} is not one of the choices")

    def slash_payload(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: JSON | None = None,
        dm: bool = False,
        focused: str | None = None,
        validate: bool = True,
        guild_id: int | None = None,
        channel_id: int | None = None,
        app_permissions: int | None = None,
    ) -> InteractionState:
        """Build (without sending) a chat-input or autocomplete interaction for a synced command.

        With ``validate`` the invocation must pass the checks the Discord client makes (required
        options, bounds, choices); pass ``validate=False`` to craft what a client would not send.
        The interaction happens in ``channel_id``, else ``guild_id``'s #general, else the first
        guild's; ``app_permissions`` overrides what the bot's permissions there compute to.
        """
        if not dm and (guild_id is not None or channel_id is not None):
            where, _ = self._where(guild_id, channel_id)
            command, command_guild = self.find_command(name, guild_id=where)
        else:
            command, command_guild = self.find_command(name)
        data: JSON = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": self._command_options(
                command.get("options", []), options or {}, focused, validate
            ),
        }
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
            if not dm and guild_id is None and channel_id is None:
                guild_id = command_guild
        kind = InteractionType.AUTOCOMPLETE if focused else InteractionType.APPLICATION_COMMAND
        return self._interaction_payload(
            kind,
            data,
            user=user,
            dm=dm,
            guild_id=guild_id,
            channel_id=channel_id,
            app_permissions=app_permissions,
        )

    async def send_slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: JSON | None = None,
        dm: bool = False,
        validate: bool = True,
        guild_id: int | None = None,
        channel_id: int | None = None,
        app_permissions: int | None = None,
    ) -> InteractionState:
        """Dispatch INTERACTION_CREATE for ``/name`` with ``options``, to the guild's shard."""
        state = self.slash_payload(
            name,
            options,
            user=user,
            dm=dm,
            validate=validate,
            guild_id=guild_id,
            channel_id=channel_id,
            app_permissions=app_permissions,
        )
        await self.dispatch("INTERACTION_CREATE", state.payload)
        return state

    async def send_autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: JSON | None = None,
        guild_id: int | None = None,
    ) -> InteractionState:
        """Dispatch an autocomplete interaction with ``focused`` being typed."""
        state = self.slash_payload(name, options, user=user, focused=focused, guild_id=guild_id)
        await self.dispatch("INTERACTION_CREATE", state.payload)
        return state

    async def send_message_command(
        self, name: str, target: JSON, *, user: JSON | None = None
    ) -> InteractionState:
        """Dispatch a message context-menu interaction aimed at ``target`` (in its channel)."""
        target_guild = target.get("guild_id")
        command, command_guild = self.find_command(
            name, command_type=3, guild_id=int(target_guild) if target_guild else None
        )
        data: JSON = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
        channel_id = int(target["channel_id"])
        state = self._interaction_payload(
            InteractionType.APPLICATION_COMMAND,
            data,
            user=user,
            dm=False,
            channel_id=channel_id if channel_id in self.guild_channels else None,
        )
        await self.dispatch("INTERACTION_CREATE", state.payload)
        return state

    async def barrier(self, *, timeout: float = 5.0) -> None:
        """Return once the client has worked through what it was doing when this was called.

        A round trip through the client (an autocomplete it must answer) runs after whatever
        the client's event loop had ready before it, such as the HTTP response that carried
        a sent message, after which discord.py registers that message's buttons.
        """
        for command in [*self.global_commands, *itertools.chain(*self.guild_commands.values())]:
            for option in command.get("options") or []:
                if option.get("autocomplete"):
                    state = self.slash_payload(
                        command["name"],
                        {option["name"]: ""},
                        focused=option["name"],
                        guild_id=int(command["guild_id"]) if "guild_id" in command else None,
                    )
                    await self.dispatch("INTERACTION_CREATE", state.payload)
                    await self.wait_for_answer(state, timeout=timeout)
                    return
        raise RuntimeError("barrier() needs a synced command with an autocomplete option")

    async def click_button(
        self, message: JSON, custom_id: str, *, user: JSON | None = None, settle: bool = True
    ) -> InteractionState:
        """Dispatch a button click on ``message`` (its current stored version).

        discord.py registers a message's buttons only after it has read the HTTP response that
        created the message, which can come after a click sent at once; a person cannot click
        that fast, so by default the click waits for a ``barrier()`` first.
        """
        if settle:
            await self.barrier()
        current = self.messages.get(int(message["id"]), message)
        found = [b for b in buttons(current) if b.get("custom_id") == custom_id]
        if not found:
            raise ClientRejectedError(f"no button {custom_id!r} on the message: {buttons(current)}")
        if found[0].get("disabled"):
            raise ClientRejectedError(f"button {custom_id!r} is disabled")
        data = {"custom_id": custom_id, "component_type": COMPONENT_BUTTON}
        return await self._component_interaction(current, data, user=user)

    async def choose_options(
        self,
        message: JSON,
        custom_id: str,
        values: Iterable[str],
        *,
        user: JSON | None = None,
        settle: bool = True,
    ) -> InteractionState:
        """Dispatch a choice in the string select menu ``custom_id`` on ``message``.

        Like the Discord client, it only lets a user pick option values the menu offers, between
        its ``min_values`` and ``max_values`` (1 and 1 unless set), in a menu that is enabled.
        """
        if settle:
            await self.barrier()
        current = self.messages.get(int(message["id"]), message)
        found = [m for m in select_menus(current) if m.get("custom_id") == custom_id]
        if not found:
            raise ClientRejectedError(
                f"no select menu {custom_id!r} on the message: {select_menus(current)}"
            )
        menu = found[0]
        chosen = list(values)
        offered = [option["value"] for option in menu.get("options") or []]
        if menu.get("disabled"):
            raise ClientRejectedError(f"select menu {custom_id!r} is disabled")
        if unknown := [value for value in chosen if value not in offered]:
            raise ClientRejectedError(f"{unknown} are not options of {custom_id!r}: {offered}")
        if len(set(chosen)) != len(chosen):
            raise ClientRejectedError(f"an option can be chosen once: {chosen}")
        low, high = menu.get("min_values", 1), menu.get("max_values", 1)
        if not low <= len(chosen) <= high:
            raise ClientRejectedError(
                f"{len(chosen)} values chosen; {custom_id!r} takes {low}-{high}"
            )
        data = {"custom_id": custom_id, "component_type": COMPONENT_STRING_SELECT, "values": chosen}
        return await self._component_interaction(current, data, user=user)

    async def _component_interaction(
        self, message: JSON, data: JSON, *, user: JSON | None
    ) -> InteractionState:
        channel_id = int(message["channel_id"])
        in_guild = channel_id in self.guild_channels
        state = self._interaction_payload(
            InteractionType.MESSAGE_COMPONENT,
            data,
            user=user,
            dm=not in_guild,
            channel_id=channel_id if in_guild else None,
        )
        state.payload["message"] = json.loads(json.dumps(message))
        await self.dispatch("INTERACTION_CREATE", state.payload)
        return state

    # ----------------------------------------------------------------- gateway

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The session that receives ``guild_id``'s events (``None``: DMs, which go to shard 0).

        The newest session identified for a shard covering the guild, unless the client ended
        it; a session whose socket is down still counts, as Discord keeps its events for RESUME.
        """
        for session in reversed(list(self.sessions.values())):
            if not session.invalidated and session.covers(guild_id):
                return session
        return None

    async def dispatch(
        self, event: str, data: JSON, *, session: GatewaySession | None = None
    ) -> int:
        """Send a dispatch event with the next sequence number; returns that number.

        Without ``session`` it goes where Discord would send it: to the session of the shard of
        ``data["guild_id"]``, or of shard 0 when there is no guild (DMs). When the socket is down
        the event is kept and delivered by the next RESUME, as Discord does, so nothing sent
        during an outage is lost.
        """
        if session is None:
            raw_guild = data.get("guild_id")
            session = self.session_for(int(raw_guild) if raw_guild else None)
        if session is None:
            raise RuntimeError(f"no gateway session would receive {event}: no client identified")
        async with session.lock:
            return await self._dispatch_locked(session, event, data)

    async def _dispatch_locked(self, session: GatewaySession, event: str, data: JSON) -> int:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.events.append(frame)
        connection = session.connection
        if connection is not None and not connection.ws.closed:
            await self._send(connection, frame)
        return session.seq

    async def _send(self, connection: GatewayConnection, frame: JSON) -> bool:
        try:
            await connection.ws.send_str(json.dumps(frame))
        except (ConnectionError, RuntimeError):
            return False
        sent_at = time.monotonic()
        self.frames.append(
            GatewayFrame(
                "out",
                connection.id,
                frame.get("op"),
                frame.get("t"),
                frame.get("s"),
                frame.get("d"),
                sent_at,
            )
        )
        if frame.get("t") == "INTERACTION_CREATE":
            state = self.interactions.get(int(frame["d"]["id"]))
            if state is not None and state.dispatched_at is None:
                state.dispatched_at = sent_at
        return True

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if (fault := self._take_gateway_fault("upgrade")) is not None:
            # The upgrade is refused before any websocket exists, as a load balancer would.
            return _json_response(fault.code, {"message": f"{fault.code}: gateway unavailable"})
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        connection = GatewayConnection(
            id=next(self._connection_ids),
            path=request.path,
            query=dict(request.query),
            ws=ws,
            transport=request.transport,
            opened_at=time.monotonic(),
        )
        self.connections.append(connection)
        hello = {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
        await self._send(connection, hello)
        while True:
            message = await ws.receive()
            ended = message.type
            if message.type is WSMsgType.TEXT:
                payload = json.loads(message.data)
                self.frames.append(
                    GatewayFrame(
                        "in",
                        connection.id,
                        payload.get("op"),
                        payload.get("t"),
                        payload.get("s"),
                        payload.get("d"),
                        time.monotonic(),
                    )
                )
                await self._on_gateway_payload(connection, payload)
            elif message.type is WSMsgType.BINARY:
                # Discord answers undecodable payloads with 4002.
                await self._close(connection, CloseCode.DECODE_ERROR)
            elif message.type is WSMsgType.CLOSE:
                # The client's close frame; aiohttp has already answered it.
                connection.client_close_code = int(message.data)
                if connection.closed_by is None:
                    connection.closed_by = "client"
                break
            else:
                # CLOSING: our own close() is answered; CLOSED/ERROR: the socket just ended.
                break
        connection.closed_at = time.monotonic()
        connection.close_code = ws.close_code
        if connection.closed_by is None:
            connection.closed_by = "dropped"
        elif ended is WSMsgType.CLOSING:
            # The client answered our close frame; aiohttp keeps the code it answered with.
            connection.client_close_code = ws.close_code
        session = connection.session
        if session is not None:
            if connection.closed_by == "client" and connection.client_close_code in (
                CloseCode.NORMAL,
                CloseCode.GOING_AWAY,
            ):
                session.invalidated = True
            if session.connection is connection:
                session.connection = None
        self.disconnections.append(connection)
        return ws

    async def _close(self, connection: GatewayConnection, code: int, reason: str = "") -> None:
        """Close a socket from the server side, recording who closed it and with what."""
        if connection.closed_by is None:
            connection.closed_by = "server"
            connection.server_close_code = code
        await connection.ws.close(
            code=code, message=(reason or CLOSE_REASONS.get(code, "")).encode()
        )

    async def _on_gateway_payload(self, connection: GatewayConnection, payload: JSON) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == 1:
            await self._send(connection, {"op": 11})
        elif op == 2:
            await self._identify(connection, data or {})
        elif op == 6:
            await self._resume(connection, data or {})
        elif op == 8:
            await self._request_members(connection, data or {})
        elif op in (3, 4):
            return
        else:
            await self._close(connection, CloseCode.UNKNOWN_OPCODE, "Unknown opcode.")

    def _identify_refusal(self, data: JSON) -> int | None:
        """The close code Discord would answer this IDENTIFY with, if any."""
        if (fault := self._take_gateway_fault("identify")) is not None:
            return fault.code
        if data.get("token") != self.token:
            return CloseCode.AUTHENTICATION_FAILED
        shard = data.get("shard", [0, 1])
        if (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(n, int) for n in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            return CloseCode.INVALID_SHARD
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~KNOWN_INTENTS:
            return CloseCode.INVALID_INTENTS
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            return CloseCode.DISALLOWED_INTENTS
        if len(self.guilds_on_shard(*shard)) > self.guilds_per_shard_limit:
            return CloseCode.SHARDING_REQUIRED
        return None

    def guilds_on_shard(self, shard_id: int, shard_count: int) -> list[FakeGuild]:
        """The guilds whose events go to shard ``shard_id`` of ``shard_count``."""
        return [g for g in self.guilds.values() if shard_of(g.id, shard_count) == shard_id]

    async def _identify(self, connection: GatewayConnection, data: JSON) -> None:
        if (code := self._identify_refusal(data)) is not None:
            await self._close(connection, code)
            return
        shard_id, shard_count = data.get("shard", [0, 1])
        session = GatewaySession(
            session_id=uuid.uuid4().hex,
            token=data["token"],
            intents=data.get("intents"),
            lock=asyncio.Lock(),
            connection=connection,
            shard=(shard_id, shard_count),
        )
        self.sessions[session.session_id] = session
        connection.session = session
        self.active_session = session
        guilds = self.guilds_on_shard(shard_id, shard_count)
        ready: JSON = {
            "v": 10,
            "user": self.bot_user,
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
        }
        if "shard" in data:
            ready["shard"] = [shard_id, shard_count]
        async with session.lock:
            await self._dispatch_locked(session, "READY", ready)
            for guild in guilds:
                await self._dispatch_locked(session, "GUILD_CREATE", self.guild_payload(guild.id))
        self.ready.append(session)

    async def _resume(self, connection: GatewayConnection, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.invalidated or data.get("token") != session.token:
            await self._send(connection, {"op": 9, "d": False})
            return
        last_seen = int(data.get("seq") or 0)
        async with session.lock:
            previous = session.connection
            session.connection = connection
            connection.session = session
            self.active_session = session
            session.resumes += 1
            for frame in session.events:
                if frame["s"] > last_seen and frame["t"] != "RESUMED":
                    await self._send(connection, frame)
            await self._dispatch_locked(session, "RESUMED", {})
        if previous is not None and previous is not connection and not previous.ws.closed:
            await self._close(previous, CloseCode.UNKNOWN_ERROR)

    async def _request_members(self, connection: GatewayConnection, data: JSON) -> None:
        members = [self._member_payload(self.bot_user), self._member_payload(self.owner)]
        chunk: JSON = {
            "guild_id": str(data.get("guild_id", self.guild_id)),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        if connection.session is not None:
            await self.dispatch("GUILD_MEMBERS_CHUNK", chunk, session=connection.session)

    # ----------------------------------------------------------------- gateway faults

    def _live_connection(self, shard: int | None = None) -> GatewayConnection:
        if shard is None:
            session = self.active_session
        else:
            candidates = [s for s in self.sessions.values() if s.shard[0] == shard]
            session = candidates[-1] if candidates else None
        if session is None or session.connection is None or session.connection.ws.closed:
            raise RuntimeError(f"no live gateway connection (shard {shard})")
        return session.connection

    async def close_gateway(
        self, code: int = 4000, *, shard: int | None = None
    ) -> GatewayConnection:
        """Close the live gateway socket (of shard id ``shard``) with ``code`` (a close frame)."""
        connection = self._live_connection(shard)
        # close() waits for the client's close frame, which only comes once the client reads; a
        # task keeps the caller free to keep driving the test meanwhile.
        asyncio.get_running_loop().create_task(self._close(connection, code))
        return connection

    def drop_gateway(self, *, shard: int | None = None) -> GatewayConnection:
        """Cut the live gateway TCP connection (of shard id ``shard``) without a close frame."""
        connection = self._live_connection(shard)
        if connection.transport is None:
            raise RuntimeError("connection has no transport to abort")
        connection.closed_by = "server"
        connection.server_close_code = CloseCode.ABNORMAL
        connection.transport.abort()
        return connection

    async def send_reconnect(self, *, shard: int | None = None) -> None:
        """Ask the client to reconnect (op 7), as Discord does before it moves a session."""
        await self._send(self._live_connection(shard), {"op": 7, "d": None})

    async def invalidate_session(
        self, resumable: bool = False, *, shard: int | None = None
    ) -> None:
        """Send op 9 INVALID_SESSION."""
        await self._send(self._live_connection(shard), {"op": 9, "d": resumable})

    def refuse_gateway(self, times: int = 1, *, status: int = 503) -> GatewayFault:
        """Answer the next ``times`` websocket upgrades with HTTP ``status`` instead.

        What a client sees while Discord's gateway is down; ``hits`` records when each came.
        """
        return self._arm_gateway_fault("upgrade", status, times)

    def reject_identify(self, code: int, times: int = 1) -> GatewayFault:
        """Close the socket with ``code`` at each of the next ``times`` IDENTIFYs.

        The server already closes with 4004 on a wrong token, 4010 on a bad shard, 4011 past
        ``guilds_per_shard_limit``, 4013 on unknown intent bits and 4014 on a privileged intent
        missing from ``privileged_intents``; this forces a code regardless.
        """
        return self._arm_gateway_fault("identify", code, times)

    def _arm_gateway_fault(self, kind: str, code: int, times: int) -> GatewayFault:
        fault = GatewayFault(kind=kind, code=code, remaining=times)
        self.gateway_faults.append(fault)
        return fault

    def _take_gateway_fault(self, kind: str) -> GatewayFault | None:
        for fault in self.gateway_faults:
            if fault.kind == kind and fault.remaining > 0:
                fault.remaining -= 1
                fault.hits.append(time.monotonic())
                return fault
        return None

    @property
    def unreachable_api_url(self) -> str:
        """A ``DISCORD_API_URL`` where nothing listens (connections are refused)."""
        if self._unreachable_api is None:
            self._unreachable_api = unreachable_url("http", API_PREFIX)
        return self._unreachable_api

    @property
    def unreachable_gateway_url(self) -> str:
        """A ``DISCORD_GATEWAY_URL`` where nothing listens (connections are refused)."""
        if self._unreachable_gateway is None:
            self._unreachable_gateway = unreachable_url("ws", "/gateway")
        return self._unreachable_gateway

    # ----------------------------------------------------------------- HTTP faults

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float = 0.5,
        body: JSON | None = None,
        scope: str = "user",
    ) -> Fault:
        """Answer the next ``times`` requests matching ``method`` and the path with ``status``.

        ``path_pattern`` is matched in full against the path after ``/api/v10``. A 429 carries the
        body and headers Discord sends (``retry_after`` in the body, ``Retry-After`` and the
        ``X-RateLimit-*`` headers), including ``Via``, without which discord.py takes the 429 for
        a Cloudflare ban and gives up; ``scope="global"`` makes it a global rate limit. ``body``
        replaces the default error body (e.g. ``{"code": 50013, "message": "Missing
        Permissions"}`` for a 403). Consecutive 429s: ``times=N``.
        """
        fault = Fault(
            method=method.upper(),
            pattern=re.compile(path_pattern),
            status=status,
            remaining=times,
            retry_after=retry_after,
            bucket=secrets.token_hex(16),
            body=body,
            scope=scope,
        )
        self.faults.append(fault)
        return fault

    def fail_command_sync(
        self, *, status: int = 500, times: int = 1, guild_id: int | None = None
    ) -> Fault:
        """Answer the next ``times`` command syncs (``PUT`` of guild or global commands) with
        ``status``; ``guild_id`` limits it to that guild's sync."""
        guild = str(guild_id) if guild_id is not None else r"\d+"
        return self.fail_next(
            "PUT",
            rf"/applications/\d+(/guilds/{guild})?/commands",
            status=status,
            times=times,
        )

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fault.pattern.fullmatch(path):
                fault.remaining -= 1
                return fault
        return None

    @staticmethod
    def _fault_response(fault: Fault) -> tuple[int, JSON, dict[str, str]]:
        if fault.status == 429:
            reset = time.time() + fault.retry_after
            headers = {
                "Retry-After": str(max(1, round(fault.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{reset:.3f}",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Bucket": fault.bucket,
                "X-RateLimit-Scope": fault.scope,
                "Via": "1.1 google",
            }
            if fault.scope == "global":
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.scope == "global",
                "code": 0,
            }
            return 429, body, headers
        if fault.body is not None:
            return fault.status, fault.body, {}
        reason = "Internal Server Error" if fault.status >= 500 else "Fault injected by the test"
        return fault.status, {"message": f"{fault.status}: {reason}", "code": 0}, {}

    # ----------------------------------------------------------------- HTTP dispatch

    def _build_routes(self) -> list[_Route]:
        app = r"(?P<app>\d+)"
        guild = r"(?P<guild>\d+)"
        channel = r"(?P<channel>\d+)"
        message = r"(?P<message>\d+)"
        token = r"(?P<token>[^/]+)"
        table: list[tuple[str, str, str, Handler, bool]] = [
            ("get_me", "GET", r"/users/@me", self._get_me, True),
            ("get_app", "GET", r"/oauth2/applications/@me", self._get_app, True),
            ("get_app", "GET", r"/applications/@me", self._get_app, True),
            ("get_gateway", "GET", r"/gateway", self._get_gateway, False),
            ("get_gateway_bot", "GET", r"/gateway/bot", self._get_gateway, True),
            ("global_commands", "PUT", rf"/applications/{app}/commands", self._put_commands, True),
            ("global_commands", "GET", rf"/applications/{app}/commands", self._get_commands, True),
            (
                "guild_commands",
                "PUT",
                rf"/applications/{app}/guilds/{guild}/commands",
                self._put_commands,
                True,
            ),
            (
                "guild_commands",
                "GET",
                rf"/applications/{app}/guilds/{guild}/commands",
                self._get_commands,
                True,
            ),
            (
                "interaction_callback",
                "POST",
                rf"/interactions/(?P<interaction>\d+)/{token}/callback",
                self._callback,
                False,
            ),
            ("followup", "POST", rf"/webhooks/{app}/{token}", self._followup, False),
            (
                "webhook_message",
                "GET",
                rf"/webhooks/{app}/{token}/messages/(?P<message>@original|\d+)",
                self._webhook_message,
                False,
            ),
            (
                "webhook_message",
                "PATCH",
                rf"/webhooks/{app}/{token}/messages/(?P<message>@original|\d+)",
                self._webhook_message,
                False,
            ),
            (
                "webhook_message",
                "DELETE",
                rf"/webhooks/{app}/{token}/messages/(?P<message>@original|\d+)",
                self._webhook_message,
                False,
            ),
            (
                "create_message",
                "POST",
                rf"/channels/{channel}/messages",
                self._create_message,
                True,
            ),
            (
                "channel_message",
                "GET",
                rf"/channels/{channel}/messages/{message}",
                self._channel_message,
                True,
            ),
            (
                "channel_message",
                "PATCH",
                rf"/channels/{channel}/messages/{message}",
                self._channel_message,
                True,
            ),
            (
                "channel_message",
                "DELETE",
                rf"/channels/{channel}/messages/{message}",
                self._channel_message,
                True,
            ),
            ("typing", "POST", rf"/channels/{channel}/typing", self._typing, True),
            ("get_channel", "GET", rf"/channels/{channel}", self._get_channel, True),
            (
                "reaction",
                "PUT",
                rf"/channels/{channel}/messages/{message}/reactions/[^/]+/@me",
                self._no_content,
                True,
            ),
            ("create_dm", "POST", r"/users/@me/channels", self._create_dm, True),
        ]
        return [
            _Route(name, method, re.compile(pattern), handler, auth)
            for name, method, pattern, handler, auth in table
        ]

    async def _http(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body: Any = None
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                form = await request.post()
                raw = form.get("payload_json")
                body = json.loads(str(raw)) if raw is not None else {}
            else:
                text = await request.text()
                body = json.loads(text) if text else None
        full_path = request.path
        record = RecordedRequest(
            method=request.method,
            path=full_path[len(API_PREFIX) :] if full_path.startswith(API_PREFIX) else full_path,
            query=dict(request.query),
            body=body,
            headers={k: v for k, v in request.headers.items() if k.lower() in KEPT_HEADERS},
            timestamp=arrived,
        )
        headers: dict[str, str] = {}
        route, match = self._match(request.method, full_path)
        if route is None or match is None:
            status, payload = _error(404, 0, "404: Not Found")
        else:
            record.route = route.name
            record.params = {k: v for k, v in match.groupdict().items() if v is not None}
            fault = self._take_fault(request.method, record.path)
            if fault is not None:
                status, payload, headers = self._fault_response(fault)
                record.fault = f"{fault.status}"
                fault.hits.append(record)
            elif route.needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                status, payload = _error(401, 0, "401: Unauthorized")
            else:
                status, payload = await route.handler(request, record, match)
        record.status, record.response = status, payload
        self.requests.append(record)
        if status == 204:
            return web.Response(status=204, headers=headers)
        return _json_response(status, payload, headers)

    def _match(self, method: str, full_path: str) -> tuple[_Route | None, re.Match[str] | None]:
        if not full_path.startswith(API_PREFIX + "/"):
            return None, None
        path = full_path[len(API_PREFIX) :]
        for route in self._routes:
            if route.method == method:
                match = route.pattern.fullmatch(path)
                if match is not None:
                    return route, match
        return None, None

    # ----------------------------------------------------------------- REST handlers

    async def _get_me(self, *_: Any) -> tuple[int, Any]:
        return 200, {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None}

    async def _get_app(self, *_: Any) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.app_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner,
            "team": None,
            "flags": 0,
            "rpc_origins": [],
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": 1,
            "integration_types_config": {"0": {}},
            "bot": self.bot_user,
        }

    async def _get_gateway(self, *_: Any) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url,
            "shards": self.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 0,
                "max_concurrency": 1,
            },
        }

    def _check_app(self, match: re.Match[str]) -> tuple[int, Any] | None:
        if int(match["app"]) != self.application_id:
            return _error(403, 50001, "Missing Access")
        return None

    async def _put_commands(
        self, _request: web.Request, record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        if (denied := self._check_app(match)) is not None:
            return denied
        if not isinstance(record.body, list):
            return _form_error("_root", "Expected an array of commands", "LIST_TYPE_CONVERT")
        guild_id = int(match["guild"]) if "guild" in match.groupdict() else None
        if guild_id is not None and guild_id not in self.guilds:
            return _error(403, 50001, "Missing Access")
        problems = self._command_problems(record.body)
        if problems:
            return _form_error("commands", "; ".join(problems))
        stored = []
        for command in record.body:
            key = (guild_id, command.get("type", 1), command["name"])
            command_id = self._command_ids.setdefault(key, self.ids.next())
            entry: JSON = {
                "type": 1,
                "default_member_permissions": None,
                "nsfw": False,
                "description": "",
                **command,
                "id": str(command_id),
                "application_id": str(self.application_id),
                "version": str(self.ids.next()),
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        return 200, stored

    @staticmethod
    def _command_problems(commands: list[JSON]) -> list[str]:
        """The part of Discord's command validation that catches typical bot mistakes."""
        problems = []
        seen = set()
        for command in commands:
            name, kind = command.get("name", ""), command.get("type", 1)
            if (kind, name) in seen:
                problems.append(f"duplicate command {name!r}")
            seen.add((kind, name))
            if kind == 1:
                if not re.fullmatch(r"[-_\w]{1,32}", name) or name.lower() != name:
                    problems.append(f"bad chat-input name {name!r}")
                if not 1 <= len(command.get("description", "")) <= 100:
                    problems.append(f"{name}: description must be 1-100 characters")
            elif not 1 <= len(name) <= 32:
                problems.append(f"bad context-menu name {name!r}")
            options = command.get("options") or []
            if len(options) > 25:
                problems.append(f"{name}: more than 25 options")
            required_seen_optional = False
            for option in options:
                if not option.get("required"):
                    required_seen_optional = True
                elif required_seen_optional:
                    problems.append(f"{name}: required option after an optional one")
                if not 1 <= len(option.get("description", "")) <= 100:
                    problems.append(f"{name}.{option.get('name')}: bad description length")
                if option.get("autocomplete") and option.get("choices"):
                    problems.append(f"{name}.{option.get('name')}: autocomplete with choices")
        return problems

    async def _get_commands(
        self, _request: web.Request, _record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        if (denied := self._check_app(match)) is not None:
            return denied
        if "guild" in match.groupdict():
            return 200, self.guild_commands.get(int(match["guild"]), [])
        return 200, self.global_commands

    def _validate_message_body(
        self,
        body: Any,
        *,
        editing: bool = False,
        permissions: int | None = None,
        path: str = "",
    ) -> tuple[int, Any] | None:
        """Why Discord would refuse this message payload, or ``None``.

        ``permissions`` are the bot's where the message goes (``None``: not checked, as in DMs);
        ``path`` is where the payload sits in the request body, for strict mode's error key.
        """
        if not isinstance(body, dict):
            return _form_error("_root", "Expected an object", "DICT_TYPE_CONVERT")
        if self.strict_embeds and (where := unknown_embed_field(body.get("embeds"))) is not None:
            return _spacebar_form_error(f"{path}embeds/{where}")
        problems = message_limit_violations(body) + component_limit_violations(
            body.get("components")
        )
        if problems:
            return _form_error("message", "; ".join(problems))
        if not editing and _message_is_empty(body):
            return _error(400, 50006, "Cannot send an empty message")
        if (
            permissions is not None
            and body.get("embeds")
            and not permissions & PERMISSION_EMBED_LINKS
        ):
            return MISSING_PERMISSIONS
        return None

    def _interaction_permissions(self, state: InteractionState) -> int | None:
        """The bot's permissions for answers to this interaction: its ``app_permissions``.

        Discord documents that ``app_permissions`` are what apply to interaction responses; this
        fake refuses embeds in them without Embed Links, as it does for channel messages.
        """
        if "guild_id" not in state.payload:
            return None
        return int(state.payload["app_permissions"])

    async def _callback(
        self, _request: web.Request, record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        state = self.interactions.get(int(match["interaction"]))
        if state is None or state.token != match["token"]:
            return _error(404, 10062, "Unknown interaction")
        if state.callback_type is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = record.body if isinstance(record.body, dict) else {}
        kind = body.get("type")
        data = body.get("data") or {}
        interaction_type = state.payload["type"]
        allowed = {
            InteractionType.APPLICATION_COMMAND: {4, 5, 9},
            InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            InteractionType.AUTOCOMPLETE: {8},
            InteractionType.MODAL_SUBMIT: {4, 5, 6, 7},
        }.get(interaction_type, set())
        if kind not in allowed:
            return _error(400, 40043, f"Interaction callback type {kind} not allowed here")
        summary: JSON = {
            "id": str(state.id),
            "type": interaction_type,
            "response_message_loading": kind == CallbackType.DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & FLAG_EPHEMERAL),
        }
        resource: JSON | None = None
        if kind == CallbackType.AUTOCOMPLETE_RESULT:
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > AUTOCOMPLETE_CHOICES_LIMIT:
                return _form_error("data.choices", "Must be a list of 25 or fewer choices")
            for choice in choices:
                name, value = choice.get("name", ""), choice.get("value")
                too_long = isinstance(value, str) and len(value) > CHOICE_STRING_VALUE_LIMIT
                if not 1 <= len(name) <= CHOICE_NAME_LIMIT or too_long:
                    return _form_error("data.choices", f"Bad choice {choice!r}")
        elif kind in (CallbackType.CHANNEL_MESSAGE, CallbackType.DEFERRED_CHANNEL_MESSAGE):
            if kind == CallbackType.CHANNEL_MESSAGE and (
                invalid := self._validate_message_body(
                    data, permissions=self._interaction_permissions(state), path="data/"
                )
            ):
                return invalid
            flags = int(data.get("flags") or 0) & (FLAG_EPHEMERAL | 4 | 4096)
            if kind == CallbackType.DEFERRED_CHANNEL_MESSAGE:
                flags |= FLAG_LOADING
            message = self._message_payload(
                channel_id=int(state.payload["channel_id"]),
                author=self.bot_user,
                body=data if kind == CallbackType.CHANNEL_MESSAGE else {},
                flags=flags,
                message_type=20,
                webhook_id=self.application_id,
                interaction=state,
            )
            state.original_message_id = int(message["id"])
            summary["response_message_id"] = message["id"]
            resource = {"type": kind, "message": message}
        elif kind in (CallbackType.UPDATE_MESSAGE, CallbackType.DEFERRED_UPDATE_MESSAGE):
            if interaction_type != InteractionType.MESSAGE_COMPONENT:
                return _error(400, 40043, "Only component interactions can update a message")
            target = self.messages.get(int(state.payload["message"]["id"]))
            if target is None:
                return _error(404, 10008, "Unknown Message")
            state.original_message_id = int(target["id"])
            summary["response_message_id"] = target["id"]
            if kind == CallbackType.UPDATE_MESSAGE:
                if invalid := self._validate_message_body(
                    data,
                    editing=True,
                    permissions=self._interaction_permissions(state),
                    path="data/",
                ):
                    return invalid
                self._apply_edit(target, data)
                resource = {"type": kind, "message": target}
        state.callback_type = kind
        response: JSON = {"interaction": summary}
        if resource is not None:
            response["resource"] = resource
        return 200, response

    def _interaction_for_webhook(self, match: re.Match[str]) -> InteractionState | None:
        state = self._interactions_by_token.get(match["token"])
        if state is None or int(match["app"]) != self.application_id:
            return None
        # A follow-up webhook exists only once the interaction has been acknowledged.
        return state if state.callback_type is not None else None

    async def _followup(
        self, _request: web.Request, record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        state = self._interaction_for_webhook(match)
        if state is None:
            return _error(404, 10015, "Unknown Webhook")
        if invalid := self._validate_message_body(
            record.body, permissions=self._interaction_permissions(state)
        ):
            return invalid
        body = record.body
        original = self.messages.get(state.original_message_id or 0)
        if (
            original is not None
            and original["flags"] & FLAG_LOADING
            and state.callback_type == CallbackType.DEFERRED_CHANNEL_MESSAGE
        ):
            # The first follow-up after a "thinking" defer replaces the loading message.
            message = self._apply_edit(original, body)
        else:
            message = self._message_payload(
                channel_id=int(state.payload["channel_id"]),
                author=self.bot_user,
                body=body,
                flags=int(body.get("flags") or 0) & (FLAG_EPHEMERAL | 4 | 4096),
                webhook_id=self.application_id,
                interaction=state,
            )
        if record.query.get("wait") in ("1", "true", "True"):
            return 200, message
        return 204, None

    async def _webhook_message(
        self, _request: web.Request, record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        state = self._interaction_for_webhook(match)
        if state is None:
            return _error(404, 10015, "Unknown Webhook")
        message_id = (
            state.original_message_id if match["message"] == "@original" else int(match["message"])
        )
        message = self.messages.get(message_id or 0)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if record.method == "GET":
            return 200, message
        if record.method == "DELETE":
            del self.messages[int(message["id"])]
            return 204, None
        if invalid := self._validate_message_body(
            record.body, editing=True, permissions=self._interaction_permissions(state)
        ):
            return invalid
        return 200, self._apply_edit(message, record.body)

    def _channel_permissions(self, channel_id: int) -> int | None:
        """The bot's permissions in a guild channel; ``None`` for a DM, where none apply."""
        return self.bot_permissions(channel_id) if channel_id in self.guild_channels else None

    async def _create_message(
        self, _request: web.Request, record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        channel_id = int(match["channel"])
        if self._channel_by_id(channel_id) is None:
            return _error(404, 10003, "Unknown Channel")
        permissions = self._channel_permissions(channel_id)
        if permissions is not None and not permissions & PERMISSION_VIEW_CHANNEL:
            return _error(403, 50001, "Missing Access")
        if permissions is not None and not permissions & PERMISSION_SEND_MESSAGES:
            return MISSING_PERMISSIONS
        if invalid := self._validate_message_body(record.body, permissions=permissions):
            return invalid
        reference = record.body.get("message_reference")
        if (
            reference
            and reference.get("fail_if_not_exists", True)
            and int(reference.get("message_id") or 0) not in self.messages
        ):
            return _form_error(
                "message_reference", "Unknown message", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"
            )
        message = self._message_payload(
            channel_id=channel_id,
            author=self.bot_user,
            body=record.body,
            flags=int(record.body.get("flags") or 0) & (4 | 4096),
        )
        return 200, message

    async def _channel_message(
        self, _request: web.Request, record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        message = self.messages.get(int(match["message"]))
        if message is None or int(message["channel_id"]) != int(match["channel"]):
            return _error(404, 10008, "Unknown Message")
        if record.method == "GET":
            return 200, message
        if record.method == "DELETE":
            del self.messages[int(message["id"])]
            return 204, None
        if int(message["author"]["id"]) != self.application_id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        if invalid := self._validate_message_body(
            record.body, editing=True, permissions=self._channel_permissions(int(match["channel"]))
        ):
            return invalid
        return 200, self._apply_edit(message, record.body)

    async def _typing(
        self, _request: web.Request, _record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        if self._channel_by_id(int(match["channel"])) is None:
            return _error(404, 10003, "Unknown Channel")
        return 204, None

    async def _get_channel(
        self, _request: web.Request, _record: RecordedRequest, match: re.Match[str]
    ) -> tuple[int, Any]:
        channel = self._channel_by_id(int(match["channel"]))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        return 200, channel

    async def _no_content(self, *_: Any) -> tuple[int, Any]:
        return 204, None

    async def _create_dm(
        self, _request: web.Request, record: RecordedRequest, _match: re.Match[str]
    ) -> tuple[int, Any]:
        recipient = self.users.get(int((record.body or {}).get("recipient_id") or 0))
        if recipient is None:
            return _error(400, 50007, "Cannot send messages to this user")
        return 200, self._dm_channel_for(recipient)

    # ----------------------------------------------------------------- queries for tests

    def requests_for(self, state: InteractionState) -> list[RecordedRequest]:
        """Every callback and webhook request that carried this interaction's token."""
        return [r for r in self.requests if r.params.get("token") == state.token]

    @staticmethod
    def is_answer(request: RecordedRequest) -> bool:
        """Whether a request put a visible answer on screen (content, embeds or choices)."""
        if not request.ok:
            return False
        if request.route == "interaction_callback":
            return (request.body or {}).get("type") in MESSAGE_CALLBACKS | {8}
        return request.route == "followup" or (
            request.route == "webhook_message" and request.method == "PATCH"
        )

    def answers_for(self, state: InteractionState) -> list[RecordedRequest]:
        """Successful requests that answered this interaction visibly."""
        return [r for r in self.requests_for(state) if self.is_answer(r)]

    async def wait_for_answer(
        self, state: InteractionState, *, timeout: float = 5.0
    ) -> RecordedRequest:
        """The first request that answered this interaction visibly."""
        return await self.requests.wait_for(
            lambda r: r.params.get("token") == state.token and self.is_answer(r),
            timeout=timeout,
            what=f"an answer to interaction {state.id}",
        )

    async def wait_for_callback(
        self, state: InteractionState, *, timeout: float = 5.0
    ) -> RecordedRequest:
        """The first successful callback for this interaction (any type, deferrals included)."""
        return await self.requests.wait_for(
            lambda r: (
                r.route == "interaction_callback" and r.params.get("token") == state.token and r.ok
            ),
            timeout=timeout,
            what=f"the callback of interaction {state.id}",
        )

    def message_of(self, state: InteractionState) -> JSON | None:
        """The current version of the message this interaction produced or updated."""
        return self.messages.get(state.original_message_id or 0)

    def unknown_requests(self) -> list[RecordedRequest]:
        """Requests to routes this fake does not know (each a 404)."""
        return [r for r in self.requests if r.route is None]

    def frames_in(self, op: int, since: int = 0) -> list[GatewayFrame]:
        """Frames the client sent with opcode ``op``."""
        return self.frames.select(lambda f: f.direction == "in" and f.op == op, since)

    async def wait_for_frame(
        self,
        predicate: Callable[[GatewayFrame], bool],
        *,
        timeout: float = 5.0,
        since: int = 0,
        what: str = "",
    ) -> GatewayFrame:
        """Wait for a gateway frame (in either direction) matching ``predicate``."""
        return await self.frames.wait_for(predicate, timeout=timeout, since=since, what=what)

    async def wait_for_request(
        self,
        predicate: Callable[[RecordedRequest], bool],
        *,
        timeout: float = 5.0,
        since: int = 0,
        what: str = "",
    ) -> RecordedRequest:
        """Wait for an HTTP request matching ``predicate``."""
        return await self.requests.wait_for(predicate, timeout=timeout, since=since, what=what)

    async def wait_for_ready(
        self, *, shard: tuple[int, int] | None = None, timeout: float = 15.0, since: int = 0
    ) -> GatewaySession:
        """The first session (of ``shard``, if given) sent READY and all its guilds, from
        ``since`` (a mark of ``ready``) on. Unlike ``wait_until_ready`` this also works for a
        shard that has no guild."""
        return await self.ready.wait_for(
            lambda session: shard is None or session.shard == tuple(shard),
            timeout=timeout,
            since=since,
            what=f"READY for shard {shard}" if shard else "READY",
        )

    def receiving_connection(self, item: InteractionState | JSON) -> GatewayConnection | None:
        """The gateway connection an interaction or a user message was last delivered on.

        Its ``shard`` says which shard got it; ``None`` if it has not gone out (yet).
        """
        event_id = str(item.id) if isinstance(item, InteractionState) else str(item["id"])
        delivered = self.frames.select(
            lambda f: (
                f.direction == "out"
                and f.t in ("INTERACTION_CREATE", "MESSAGE_CREATE")
                and f.d.get("id") == event_id
            )
        )
        if not delivered:
            return None
        wanted = delivered[-1].connection
        return next((c for c in self.connections if c.id == wanted), None)

    async def wait_until_ready(self, *, timeout: float = 15.0, since: int = 0) -> None:
        """Wait until a client identified and was sent its guild (after frame mark ``since``)."""
        await self.frames.wait_for(
            lambda f: f.direction == "out" and f.t == "GUILD_CREATE",
            timeout=timeout,
            since=since,
            what="GUILD_CREATE sent to an identified client",
        )


def message_text(payload: JSON) -> str:
    """All human-visible text of a message payload: content plus every embed part."""
    parts: list[str] = [payload.get("content") or ""]
    for embed in payload.get("embeds") or []:
        parts.append(embed.get("title") or "")
        parts.append(embed.get("description") or "")
        for embed_field in embed.get("fields") or []:
            parts.append(embed_field.get("name") or "")
            parts.append(embed_field.get("value") or "")
        parts.append((embed.get("footer") or {}).get("text") or "")
        parts.append((embed.get("author") or {}).get("name") or "")
    return "\n".join(part for part in parts if part)


def answer_body(request: RecordedRequest) -> JSON:
    """The message-shaped part of an answering request (callback ``data`` or webhook body)."""
    if request.route == "interaction_callback":
        return dict(request.body.get("data") or {})
    return dict(request.body or {})


def buttons(message: JSON) -> list[JSON]:
    """Every button component on a message, in display order."""
    return [
        component
        for row in message.get("components") or []
        for component in row.get("components") or []
        if component.get("type") == 2
    ]


def button_ids(message: JSON) -> list[str]:
    """The custom ids of every button on a message, in display order."""
    return [
        component["custom_id"]
        for row in message.get("components") or []
        for component in row.get("components") or []
        if component.get("type") == 2 and "custom_id" in component
    ]


def select_menus(message: JSON) -> list[JSON]:
    """Every string select menu on a message, in display order."""
    return [
        component
        for row in message.get("components") or []
        for component in row.get("components") or []
        if component.get("type") == COMPONENT_STRING_SELECT
    ]


def iter_message_bodies(
    requests: Iterable[RecordedRequest],
) -> Iterable[tuple[RecordedRequest, JSON]]:
    """Each request that carries a message payload, with that payload."""
    for request in requests:
        if request.route == "interaction_callback":
            if (request.body or {}).get("type") in (4, 7):
                yield request, dict(request.body.get("data") or {})
        elif request.route in {"create_message", "followup"} or (
            request.route in {"webhook_message", "channel_message"} and request.method == "PATCH"
        ):
            yield request, dict(request.body or {})
