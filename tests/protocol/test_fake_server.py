"""Self-test of the fake Discord server with plain discord.py clients run in-process.

If these pass, the fake speaks the protocol the way discord.py 2.7 expects, so a failure in the
bot scenarios points at the bot rather than at the fake. What discord.py cannot be made to send
(unknown intent bits, a RESUME of an ended session) goes over a raw aiohttp websocket, and a
client killed without a close frame is a discord.py client in a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from .fake_discord import (
    FLAG_EPHEMERAL,
    PERMISSION_EMBED_LINKS,
    ClientRejectedError,
    FakeDiscord,
    RecordedRequest,
    button_ids,
    select_menus,
    shard_of,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

BUTTON = {"type": 2, "style": 1, "label": "Go", "custom_id": "go"}
MENU = {
    "type": 3,
    "custom_id": "menu",
    "options": [{"label": "One", "value": "1"}],
}


@contextlib.asynccontextmanager
async def fresh_server(
    monkeypatch: pytest.MonkeyPatch, **options: Any
) -> AsyncIterator[FakeDiscord]:
    """A server of its own for one test, with discord.py pointed at it for that test."""
    server = FakeDiscord(**options)
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_url)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def running(client: discord.Client, token: str) -> AsyncIterator[asyncio.Task[None]]:
    """``client.start(token)`` as a task, closed at the end; a test that expects the start to
    fail reads ``task.exception()``."""
    task = asyncio.create_task(client.start(token))
    try:
        yield task
    finally:
        await client.close()
        await asyncio.wait({task}, timeout=10)
        if task.done() and not task.cancelled():
            task.exception()


class CounterView(discord.ui.View):
    """One button that rewrites the message with a click count."""

    def __init__(self, clicks: int = 0) -> None:
        super().__init__(timeout=None)
        self.clicks = clicks

    @discord.ui.button(label="Again", custom_id="again")
    async def again(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        self.clicks += 1
        await interaction.response.edit_message(content=f"clicked {self.clicks}", view=self)


class PickView(discord.ui.View):
    """One string select menu that rewrites the message with what was picked."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="which",
        placeholder="Which paragraph?",
        options=[discord.SelectOption(label=f"¶{n}", value=str(n)) for n in (1, 2, 3)],
    )
    async def which(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.edit_message(content=f"picked {select.values}", view=None)


class EchoClient(discord.Client):
    """The smallest client that exercises commands, components and messages."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(
            intents=discord.Intents.default() | discord.Intents(message_content=True),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.tree = app_commands.CommandTree(self)
        self.guild = discord.Object(guild_id)

        @self.tree.command(name="echo", description="Repeat some text", guild=self.guild)
        @app_commands.describe(text="What to repeat", private="Only you see it")
        async def echo(interaction: discord.Interaction, text: str, private: bool = False) -> None:
            await interaction.response.send_message(text, view=CounterView(), ephemeral=private)

        @echo.autocomplete("text")
        async def echo_text(
            _interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=f"{current} {i}", value=f"{current}{i}") for i in range(3)
            ]

        @self.tree.command(name="later", description="Defer then edit", guild=self.guild)
        async def later(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.edit_original_response(content="done later")

        @self.tree.command(name="card", description="Reply with an embed", guild=self.guild)
        async def card(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=discord.Embed(title="a card"))

        @self.tree.command(name="pick", description="Offer a select menu", guild=self.guild)
        async def pick(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pick one", view=PickView(), ephemeral=True)

        @self.tree.command(name="follow", description="Reply, follow up, edit", guild=self.guild)
        async def follow(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            original = await interaction.original_response()
            followup = await interaction.followup.send(f"after {original.content}", wait=True)
            await followup.edit(content="edited follow-up")

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=self.guild)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        if message.guild is None or self.user in message.mentions:
            await message.reply(f"pong: {message.content}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness() -> AsyncIterator[tuple[FakeDiscord, EchoClient]]:
    server = FakeDiscord()
    await server.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(discord.http.Route, "BASE", server.api_url)
        patch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
        client = EchoClient(server.guild_id)
        task = asyncio.create_task(client.start(server.token))
        await server.wait_until_ready()
        await server.wait_for_request(lambda r: r.route == "guild_commands" and r.method == "PUT")
        yield server, client
        await client.close()
        await asyncio.wait_for(task, 10)
        await server.stop()


async def test_login_identify_and_guild_sync(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, client = harness
    me = server.requests.select(lambda r: r.route == "get_me")[0]
    assert me.headers["Authorization"] == f"Bot {server.token}"
    assert server.requests.select(lambda r: r.route == "get_app")
    connection = server.connections.items[0]
    assert connection.path == "/gateway"
    assert connection.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    identify = server.frames_in(2)[0]
    assert identify.d["token"] == server.token
    assert identify.d["intents"] == client.intents.value
    sync = server.requests.select(lambda r: r.route == "guild_commands" and r.method == "PUT")
    assert [c["name"] for c in sync[0].body] == ["echo", "later", "card", "pick", "follow"]
    echo = sync[0].body[0]
    assert echo["options"][0] == {
        "type": 3,
        "name": "text",
        "description": "What to repeat",
        "required": True,
        "autocomplete": True,
    }
    assert not server.requests.select(lambda r: r.route == "global_commands")
    assert client.get_guild(server.guild_id) is not None
    assert client.get_channel(server.channel_id) is not None


async def test_slash_command_gets_one_reply(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    interaction = await server.send_slash("echo", {"text": "hello", "private": True})
    answer = await server.wait_for_answer(interaction)
    assert answer.query == {"with_response": "1"}
    assert answer.body["type"] == 4
    assert answer.body["data"]["content"] == "hello"
    assert answer.body["data"]["flags"] == FLAG_EPHEMERAL
    assert answer.body["data"]["allowed_mentions"] == {"parse": []}
    assert interaction.dispatched_at is not None
    assert 0 <= answer.timestamp - interaction.dispatched_at < 3
    assert len(server.requests_for(interaction)) == 1


async def test_client_side_validation(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    with pytest.raises(ClientRejectedError):
        server.slash_payload("echo", {})
    with pytest.raises(ClientRejectedError):
        server.slash_payload("echo", {"nope": "x"})


async def test_defer_then_edit_original(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    interaction = await server.send_slash("later")
    edit = await server.wait_for_answer(interaction)
    assert edit.route == "webhook_message"
    assert edit.method == "PATCH"
    callback = server.requests_for(interaction)[0]
    assert callback.body["type"] == 5
    assert server.message_of(interaction)["content"] == "done later"


async def test_followup_and_webhook_edits(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    interaction = await server.send_slash("follow")
    edit = await server.wait_for_request(
        lambda r: (
            r.route == "webhook_message"
            and r.method == "PATCH"
            and r.params.get("token") == interaction.token
        )
    )
    steps = [(r.route, r.method, r.status) for r in server.requests_for(interaction)]
    assert steps == [
        ("interaction_callback", "POST", 200),
        ("webhook_message", "GET", 200),
        ("followup", "POST", 200),
        ("webhook_message", "PATCH", 200),
    ]
    assert server.requests_for(interaction)[2].query["wait"] == "1"
    assert server.messages[int(edit.params["message"])]["content"] == "edited follow-up"
    assert server.message_of(interaction)["content"] == "first"


async def test_dm_channel_creation(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, client = harness
    user = server.new_user()
    channel = await client.http.start_private_message(int(user["id"]))
    assert channel["type"] == 1
    assert channel["recipients"][0]["id"] == user["id"]


async def test_autocomplete(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    interaction = await server.send_autocomplete("echo", {"text": "ab"}, focused="text")
    answer = await server.wait_for_answer(interaction)
    assert answer.body == {
        "type": 8,
        "data": {"choices": [{"name": f"ab {i}", "value": f"ab{i}"} for i in range(3)]},
    }


async def test_button_clicked_twice(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    user = server.new_user()
    command = await server.send_slash("echo", {"text": "count"}, user=user)
    await server.wait_for_answer(command)
    message = server.message_of(command)
    assert button_ids(message) == ["again"]
    for expected in ("clicked 1", "clicked 2"):
        click = await server.click_button(message, "again", user=user)
        update = await server.wait_for_answer(click)
        assert update.body["type"] == 7
        assert server.messages[int(message["id"])]["content"] == expected


async def test_mention_and_dm_replies(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    mention = await server.send_user_message(f"<@{server.application_id}> hi")
    reply = await server.wait_for_request(
        lambda r: (
            r.route == "create_message"
            and str(r.body["message_reference"]["message_id"]) == mention["id"]
        )
    )
    assert reply.ok
    assert reply.params["channel"] == str(server.channel_id)
    assert reply.body["allowed_mentions"]["parse"] == []
    dm = await server.send_user_message("hello there", dm=True)
    dm_reply = await server.wait_for_request(
        lambda r: (
            r.route == "create_message"
            and str(r.body["message_reference"]["message_id"]) == dm["id"]
        )
    )
    assert dm_reply.ok
    assert dm_reply.params["channel"] == dm["channel_id"]


@pytest.mark.parametrize("fault", ["drop", "close-4000"])
@pytest.mark.parametrize("timing", ["racing-the-outage", "during-the-outage"])
async def test_resume_replays_missed_events(
    harness: tuple[FakeDiscord, EchoClient], fault: str, timing: str
) -> None:
    server, _ = harness
    frames_mark = server.frames.mark()
    connections_mark = server.connections.mark()
    old = server.drop_gateway() if fault == "drop" else await server.close_gateway(4000)
    if timing == "during-the-outage":
        await server.disconnections.wait_for(lambda c: c is old, timeout=5)
    interaction = await server.send_slash("echo", {"text": "after the outage"})
    resume = await server.wait_for_frame(
        lambda f: f.direction == "in" and f.op == 6, since=frames_mark, timeout=10
    )
    assert resume.d["session_id"] == server.active_session.session_id
    new_connection = server.connections.items[connections_mark]
    assert new_connection.path == "/resume-gateway"
    answer = await server.wait_for_answer(interaction, timeout=10)
    assert answer.body["data"]["content"] == "after the outage"
    assert len(server.answers_for(interaction)) == 1
    await server.wait_for_frame(
        lambda f: f.direction == "out" and f.t == "RESUMED", since=frames_mark
    )
    assert not server.frames_in(2, since=frames_mark), "the client identified instead of resuming"
    if timing == "during-the-outage":
        delivered = server.frames.select(
            lambda f: f.t == "INTERACTION_CREATE" and f.d["id"] == str(interaction.id)
        )
        assert [f.connection for f in delivered] == [new_connection.id]


async def test_429_on_callback_is_retried_once(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    fault = server.fail_next(
        "POST", r"/interactions/\d+/[^/]+/callback", status=429, retry_after=0.3
    )
    interaction = await server.send_slash("echo", {"text": "limited"})
    answer = await server.wait_for_answer(interaction)
    attempts = server.requests_for(interaction)
    assert [r.status for r in attempts] == [429, 200]
    assert fault.hits[0].response["retry_after"] == 0.3
    assert answer.timestamp - attempts[0].timestamp >= 0.3


async def test_500_once_on_message_is_retried(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    server.fail_next("POST", rf"/channels/{server.channel_id}/messages", status=500)
    mention = await server.send_user_message(f"<@{server.application_id}> flaky")
    replies = await server.requests.wait_for_count(
        lambda r: (
            r.route == "create_message"
            and str(r.body["message_reference"]["message_id"]) == mention["id"]
        ),
        2,
        timeout=5,
    )
    assert [r.status for r in replies] == [500, 200]


async def test_limits_and_unknown_routes(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, client = harness
    channel = client.get_channel(server.channel_id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.code == 50035
    with pytest.raises(discord.HTTPException) as big_embed:
        await channel.send(embed=discord.Embed(title="t" * 257))
    assert big_embed.value.code == 50035
    with pytest.raises(discord.NotFound):
        await client.http.request(discord.http.Route("GET", "/no/such/route"))
    assert [r.path for r in server.unknown_requests()] == ["/no/such/route"]


async def test_rejected_token_is_a_login_failure(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    other = discord.Client(intents=discord.Intents.none())
    try:
        with pytest.raises(discord.LoginFailure):
            await other.login("not-the-token")
    finally:
        await other.close()
    rejected = server.requests.select(lambda r: r.route == "get_me" and r.status == 401)
    assert len(rejected) == 1


async def test_429_several_times_in_a_row_on_callback(
    harness: tuple[FakeDiscord, EchoClient],
) -> None:
    server, _ = harness
    fault = server.fail_next(
        "POST", r"/interactions/\d+/[^/]+/callback", status=429, times=3, retry_after=0.2
    )
    interaction = await server.send_slash("echo", {"text": "patient"})
    await server.wait_for_answer(interaction, timeout=10)
    attempts = server.requests_for(interaction)
    assert [r.status for r in attempts] == [429, 429, 429, 200]
    assert attempts == [*fault.hits, attempts[-1]]
    assert all(hit.response["retry_after"] == 0.2 for hit in fault.hits)
    gaps = [later.timestamp - earlier.timestamp for earlier, later in itertools.pairwise(attempts)]
    assert all(gap >= 0.2 for gap in gaps), gaps


async def test_global_429_is_flagged_as_global(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, _ = harness
    fault = server.fail_next(
        "POST", r"/interactions/\d+/[^/]+/callback", status=429, retry_after=0.2, scope="global"
    )
    interaction = await server.send_slash("echo", {"text": "global"})
    await server.wait_for_answer(interaction)
    assert fault.hits[0].response["global"] is True
    assert [r.status for r in server.requests_for(interaction)] == [429, 200]


async def test_command_sync_failing_then_retried(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, client = harness
    mark = server.requests.mark()
    fault = server.fail_command_sync(status=500, times=1, guild_id=server.guild_id)
    synced = await client.tree.sync(guild=client.guild)
    assert [c.name for c in synced] == ["echo", "later", "card", "pick", "follow"]
    puts = server.requests.select(lambda r: r.route == "guild_commands", mark)
    assert [r.status for r in puts] == [500, 200]
    assert puts[0] is fault.hits[0]


# ---------------------------------------------------------------------------- strict mode


async def test_strict_mode_refuses_embed_keys_discord_does_not_document(
    harness: tuple[FakeDiscord, EchoClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, client = harness
    monkeypatch.setattr(server, "strict_embeds", True)
    channel = client.get_channel(server.channel_id)
    assert isinstance(channel, discord.TextChannel)
    # discord.py adds "flags": 0 to every embed it sends.
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(embed=discord.Embed(title="a card"))
    assert refused.value.status == 400
    assert refused.value.code == 50035
    assert "embeds/0" in refused.value.text
    assert "must NOT have additional properties" in refused.value.text
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
    accepted = await client.http.request(route, json={"embeds": [{"title": "no extra keys"}]})
    assert accepted["embeds"][0]["title"] == "no extra keys"
    assert (await channel.send("plain text")).content == "plain text"

    interaction = await server.send_slash("card")
    callback = await server.wait_for_request(
        lambda r: r.params.get("token") == interaction.token and r.route == "interaction_callback"
    )
    assert callback.status == 400
    assert set(callback.response["errors"]) == {"data/embeds/0"}


async def test_strict_mode_off_accepts_the_same_embed(
    harness: tuple[FakeDiscord, EchoClient],
) -> None:
    server, _ = harness
    assert server.strict_embeds is False
    interaction = await server.send_slash("card")
    answer = await server.wait_for_answer(interaction)
    assert answer.body["data"]["embeds"][0]["flags"] == 0


# ---------------------------------------------------------------------------- permissions


async def test_channel_without_embed_links(harness: tuple[FakeDiscord, EchoClient]) -> None:
    server, client = harness
    channel_id = await server.add_text_channel("no-embeds", embed_links=False)
    await server.barrier()
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel), "CHANNEL_CREATE reached the client"
    permissions = channel.permissions_for(channel.guild.me)
    assert permissions.send_messages
    assert not permissions.embed_links
    assert not server.bot_permissions(channel_id) & PERMISSION_EMBED_LINKS
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send(embed=discord.Embed(title="a card"))
    assert forbidden.value.code == 50013
    assert (await channel.send("the same, as text")).content == "the same, as text"

    interaction = await server.send_slash("card", channel_id=channel_id)
    app_permissions = discord.Permissions(int(interaction.payload["app_permissions"]))
    assert not app_permissions.embed_links
    assert app_permissions.send_messages
    callback = await server.wait_for_request(
        lambda r: r.params.get("token") == interaction.token and r.route == "interaction_callback"
    )
    assert (callback.status, callback.response["code"]) == (403, 50013)
    elsewhere = await server.send_slash("card")
    assert int(elsewhere.payload["app_permissions"]) & PERMISSION_EMBED_LINKS
    assert (await server.wait_for_answer(elsewhere)).ok


# ---------------------------------------------------------------------------- components


async def test_select_menu_choice_on_an_ephemeral_message(
    harness: tuple[FakeDiscord, EchoClient],
) -> None:
    server, _ = harness
    user = server.new_user()
    command = await server.send_slash("pick", user=user)
    await server.wait_for_answer(command)
    message = server.message_of(command)
    assert message is not None
    assert message["flags"] & FLAG_EPHEMERAL
    [menu] = select_menus(message)
    assert [o["value"] for o in menu["options"]] == ["1", "2", "3"]
    with pytest.raises(ClientRejectedError):
        await server.choose_options(message, "which", ["4"], user=user)
    with pytest.raises(ClientRejectedError):
        await server.choose_options(message, "which", ["1", "2"], user=user)
    with pytest.raises(ClientRejectedError):
        await server.choose_options(message, "nope", ["1"], user=user)
    choice = await server.choose_options(message, "which", ["2"], user=user)
    assert choice.payload["data"] == {"custom_id": "which", "component_type": 3, "values": ["2"]}
    assert choice.payload["message"]["flags"] & FLAG_EPHEMERAL
    update = await server.wait_for_answer(choice)
    assert update.body["type"] == 7
    assert server.messages[int(message["id"])]["content"] == "picked ['2']"
    assert not select_menus(server.messages[int(message["id"])])


@pytest.mark.parametrize(
    ("components", "problem"),
    [
        ([{"type": 1, "components": [BUTTON] * 6}], "more than 5 buttons"),
        ([{"type": 1, "components": [BUTTON]}] * 6, "6 > 5 action rows"),
        ([{"type": 1, "components": [{**BUTTON, "custom_id": "x" * 101}]}], "custom_id"),
        ([{"type": 1, "components": [{**MENU, "options": []}]}], "0 options"),
        ([{"type": 1, "components": [MENU, BUTTON]}], "alone in its row"),
    ],
)
async def test_component_limits_are_enforced(
    harness: tuple[FakeDiscord, EchoClient], components: list[dict], problem: str
) -> None:
    server, client = harness
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=server.channel_id
    )
    with pytest.raises(discord.HTTPException) as refused:
        await client.http.request(route, json={"content": "x", "components": components})
    assert refused.value.code == 50035
    assert problem in refused.value.text


# ---------------------------------------------------------------------------- sharding


class ShardEcho(discord.AutoShardedClient):
    """Answers mentions and ``/where`` with its label and the shard discord.py filed it under."""

    def __init__(
        self,
        label: str,
        *,
        shard_ids: list[int] | None = None,
        shard_count: int | None = None,
        sync: bool = False,
    ) -> None:
        super().__init__(
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            shard_ids=shard_ids,
            shard_count=shard_count,
        )
        self.label = label
        self.sync = sync
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="where", description="Which shard carried this")
        async def where(interaction: discord.Interaction) -> None:
            assert interaction.guild is not None
            await interaction.response.send_message(self.answer(interaction.guild))

    def answer(self, guild: discord.Guild | None) -> str:
        return f"{self.label} shard {guild.shard_id if guild else 0}"

    async def setup_hook(self) -> None:
        if self.sync:
            await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s between IDENTIFYs for Discord's rate limit, which the fake lacks.
        return None

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        if message.guild is None or self.user in message.mentions:
            await message.reply(self.answer(message.guild))


def replies_to(server: FakeDiscord, message: dict) -> list[RecordedRequest]:
    return server.requests.select(
        lambda r: (
            r.route == "create_message"
            and str((r.body.get("message_reference") or {}).get("message_id")) == message["id"]
        )
    )


async def test_each_shard_gets_only_its_guilds(monkeypatch: pytest.MonkeyPatch) -> None:
    async with fresh_server(monkeypatch, guild_count=4, shard_count=2) as server:
        client = ShardEcho("auto")
        async with running(client, server.token):
            sessions = [await server.wait_for_ready(shard=(i, 2)) for i in (0, 1)]
            await asyncio.wait_for(client.wait_until_ready(), 10)
            [gateway_bot] = server.requests.select(lambda r: r.route == "get_gateway_bot")
            assert gateway_bot.response["shards"] == 2
            assert client.shard_count == 2
            for session in sessions:
                assert session.connection is not None
                connection_id = session.connection.id
                shard_id, _ = session.shard
                mine = {str(g.id) for g in server.guilds_on_shard(shard_id, 2)}
                assert len(mine) == 2, "four guilds, spread two per shard"
                [identify] = server.frames.select(
                    lambda f, c=connection_id: (
                        f.direction == "in" and f.op == 2 and f.connection == c
                    )
                )
                assert identify.d["shard"] == [shard_id, 2]
                sent = server.frames.select(
                    lambda f, c=connection_id: f.direction == "out" and f.connection == c
                )
                ready = next(f for f in sent if f.t == "READY")
                assert ready.d["shard"] == [shard_id, 2]
                assert {g["id"] for g in ready.d["guilds"]} == mine
                assert {f.d["id"] for f in sent if f.t == "GUILD_CREATE"} == mine
            assert {g.id for g in client.guilds} == set(server.guilds)

            for guild_id in server.guilds:
                expected = shard_of(guild_id, 2)
                mention = await server.send_user_message(
                    f"<@{server.application_id}> hi", guild_id=guild_id
                )
                receiver = server.receiving_connection(mention)
                assert receiver is not None
                assert receiver.shard == (expected, 2)
                await server.wait_for_request(lambda r, m=mention: r in replies_to(server, m))
                [reply] = replies_to(server, mention)
                assert reply.body["content"] == f"auto shard {expected}"
                assert reply.params["channel"] == str(server.guilds[guild_id].channel_id)
            dm = await server.send_user_message("hello", dm=True)
            receiver = server.receiving_connection(dm)
            assert receiver is not None
            assert receiver.shard == (0, 2), "DMs go to shard 0"


async def test_two_processes_each_serve_their_own_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    async with fresh_server(monkeypatch, guild_count=4, shard_count=2) as server:
        first = ShardEcho("process A", shard_ids=[0], shard_count=2, sync=True)
        second = ShardEcho("process B", shard_ids=[1], shard_count=2)
        async with running(first, server.token), running(second, server.token):
            sessions = [await server.wait_for_ready(shard=(i, 2)) for i in (0, 1)]
            await server.wait_for_request(lambda r: r.route == "global_commands" and r.ok)
            assert all(s.connection and not s.connection.ws.closed for s in sessions)
            assert sessions[0].connection is not sessions[1].connection
            for guild_id in server.guilds:
                expected = shard_of(guild_id, 2)
                interaction = await server.send_slash("where", guild_id=guild_id)
                receiver = server.receiving_connection(interaction)
                assert receiver is not None
                assert receiver.shard == (expected, 2)
                answer = await server.wait_for_answer(interaction)
                label = "process A" if expected == 0 else "process B"
                assert answer.body["data"]["content"] == f"{label} shard {expected}"
            assert len(server.frames_in(2)) == 2, "one IDENTIFY per process"


async def test_a_guild_added_later_goes_to_its_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    async with fresh_server(monkeypatch, guild_count=1, shard_count=2) as server:
        client = ShardEcho("auto")
        async with running(client, server.token):
            await server.wait_for_ready(shard=(1, 2))
            await server.wait_for_ready(shard=(0, 2))
            guild = await server.add_guild("Joined later", shard=(1, 2))
            assert shard_of(guild.id, 2) == 1
            await server.wait_for_frame(
                lambda f: f.t == "GUILD_CREATE" and f.d["id"] == str(guild.id)
            )
            [frame] = server.frames.select(
                lambda f: f.t == "GUILD_CREATE" and f.d["id"] == str(guild.id)
            )
            session = server.session_for(guild.id)
            assert session is not None
            assert session.shard == (1, 2)
            assert session.connection is not None
            assert frame.connection == session.connection.id


# ---------------------------------------------------------------------------- start-up faults


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("token rejected at IDENTIFY", 4004),
        ("shard id out of range", 4010),
        ("too many guilds for one shard", 4011),
        ("intents forced invalid", 4013),
        ("privileged intent not enabled", 4014),
    ],
)
async def test_identify_refused_with_a_close_code(
    monkeypatch: pytest.MonkeyPatch, setup: str, code: int
) -> None:
    options: dict = {}
    client_options: dict = {"intents": discord.Intents.default()}
    if setup == "too many guilds for one shard":
        options = {"guild_count": 2, "guilds_per_shard_limit": 1}
    elif setup == "privileged intent not enabled":
        options = {"privileged_intents": 0}
        client_options["intents"] = discord.Intents.default() | discord.Intents(
            message_content=True
        )
    elif setup == "shard id out of range":
        client_options.update(shard_id=2, shard_count=2)
    async with fresh_server(monkeypatch, **options) as server:
        if setup in ("token rejected at IDENTIFY", "intents forced invalid"):
            fault = server.reject_identify(code)
        client = discord.Client(**client_options)
        async with running(client, server.token) as task:
            await asyncio.wait({task}, timeout=10)
            assert task.done(), "the client gave up"
            error = task.exception()
        if code == 4014:
            assert isinstance(error, discord.PrivilegedIntentsRequired)
        else:
            assert isinstance(error, discord.ConnectionClosed)
            assert error.code == code
        [connection] = server.connections
        assert connection.closed_by == "server"
        assert connection.server_close_code == code
        assert not server.sessions
        if setup in ("token rejected at IDENTIFY", "intents forced invalid"):
            assert len(fault.hits) == 1


async def test_unknown_intent_bits_are_refused_with_4013(monkeypatch: pytest.MonkeyPatch) -> None:
    async with fresh_server(monkeypatch) as server, aiohttp.ClientSession() as http:
        async with http.ws_connect(server.gateway_url) as ws:
            hello = await ws.receive_json()
            assert hello["op"] == 10
            await ws.send_json({"op": 2, "d": {"token": server.token, "intents": 1 << 30}})
            closed = await ws.receive()
        assert closed.type is aiohttp.WSMsgType.CLOSE
        assert closed.data == 4013


async def test_refused_gateway_upgrade_then_service_resumes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with fresh_server(monkeypatch) as server, aiohttp.ClientSession() as http:
        fault = server.refuse_gateway(times=2, status=503)
        for _ in range(2):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(server.gateway_url)
            assert refused.value.status == 503
        async with http.ws_connect(server.gateway_url) as ws:
            assert (await ws.receive_json())["op"] == 10
        assert len(fault.hits) == 2
        assert len(server.connections) == 1


@pytest.mark.parametrize("fault", ["gateway refused", "gateway unreachable"])
async def test_first_gateway_connect_failing_reaches_discord_py(
    monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    async with fresh_server(monkeypatch) as server:
        if fault == "gateway refused":
            refusal = server.refuse_gateway(times=1)
        else:
            monkeypatch.setattr(
                DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.unreachable_gateway_url)
            )
        client = discord.Client(intents=discord.Intents.none())
        async with running(client, server.token) as task:
            await asyncio.wait({task}, timeout=10)
            # discord.py 2.7 does not retry a failed first connect: start() raises.
            assert task.done()
            assert task.exception() is not None
        assert server.requests.select(lambda r: r.route == "get_me" and r.ok)
        assert not server.connections
        if fault == "gateway refused":
            assert len(refusal.hits) == 1


async def test_unreachable_api_refuses_the_login(monkeypatch: pytest.MonkeyPatch) -> None:
    async with fresh_server(monkeypatch) as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.unreachable_api_url)
        client = discord.Client(intents=discord.Intents.none())
        try:
            with pytest.raises(aiohttp.ClientConnectorError):
                await client.login(server.token)
        finally:
            await client.close()
        assert not server.requests.items
        assert server.unreachable_api_url.endswith("/api/v10")


async def test_command_sync_5xx_several_times(monkeypatch: pytest.MonkeyPatch) -> None:
    async with fresh_server(monkeypatch) as server, aiohttp.ClientSession() as http:
        fault = server.fail_command_sync(status=503, times=2)
        url = f"{server.api_url}/applications/{server.application_id}/guilds/{server.guild_id}"
        headers = {"Authorization": f"Bot {server.token}"}
        statuses = []
        for _ in range(3):
            async with http.put(f"{url}/commands", json=[], headers=headers) as response:
                statuses.append(response.status)
        assert statuses == [503, 503, 200]
        assert len(fault.hits) == 2


async def test_malformed_dm_event_reaches_discord_py(monkeypatch: pytest.MonkeyPatch) -> None:
    async with fresh_server(monkeypatch) as server:
        client = discord.Client(intents=discord.Intents.default())
        async with running(client, server.token) as task:
            await server.wait_until_ready()
            sent = await server.send_malformed_dm("hello")
            [frame] = server.frames.select(lambda f: f.t == "MESSAGE_CREATE")
            assert "guild_id" in frame.d
            assert frame.d["guild_id"] is None
            assert frame.d["id"] == sent["id"]
            # discord.py 2.7's parser raises on it, and the exception ends client.start().
            await asyncio.wait({task}, timeout=5)
            assert task.done()
            assert isinstance(task.exception(), TypeError)


# ---------------------------------------------------------------------------- close codes


async def test_a_normal_close_is_recorded_and_ends_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with fresh_server(monkeypatch) as server:
        client = discord.Client(intents=discord.Intents.default())
        async with running(client, server.token) as task:
            session = await server.wait_for_ready()
            # With nothing left reading the socket, discord.py's close() sends its 1000 frame.
            task.cancel()
            await asyncio.wait({task}, timeout=5)
            await client.close()
            [connection] = await server.disconnections.wait_for_count(lambda c: True, 1, timeout=5)
        assert connection.closed_by == "client"
        assert connection.client_close_code == 1000
        assert not connection.dropped
        assert session.invalidated, "a 1000 close ends the session"
        assert server.session_for(server.guild_id) is None
        async with aiohttp.ClientSession() as http, http.ws_connect(server.gateway_url) as ws:
            await ws.receive_json()
            resume = {"token": server.token, "session_id": session.session_id, "seq": 1}
            await ws.send_json({"op": 6, "d": resume})
            assert await ws.receive_json() == {"op": 9, "d": False}


async def test_close_while_polling_puts_4000_on_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    async with fresh_server(monkeypatch) as server:
        client = discord.Client(intents=discord.Intents.default())
        async with running(client, server.token):
            session = await server.wait_for_ready()
            # discord.py 2.7: close() interrupts poll_event, whose handler closes with 4000
            # first; a bot that wants a normal close must stop polling before it closes.
            await client.close()
            [connection] = await server.disconnections.wait_for_count(lambda c: True, 1, timeout=5)
        assert connection.closed_by == "client"
        assert connection.client_close_code == 4000
        assert not session.invalidated, "Discord keeps a session closed with 4000 resumable"


async def test_a_server_close_records_the_clients_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with fresh_server(monkeypatch) as server:
        client = discord.Client(intents=discord.Intents.none())
        async with running(client, server.token):
            await server.wait_for_ready()
            closed = await server.close_gateway(4000)
            await server.disconnections.wait_for(lambda c: c is closed, timeout=5)
            await server.wait_for_frame(lambda f: f.direction == "in" and f.op == 6, timeout=10)
        assert closed.closed_by == "server"
        assert closed.server_close_code == 4000
        assert closed.client_close_code is not None
        assert not closed.dropped


CLIENT_SCRIPT = """
import os, discord, yarl
from discord.gateway import DiscordWebSocket
discord.http.Route.BASE = os.environ["FAKE_API"]
DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_GATEWAY"])
discord.Client(intents=discord.Intents.none()).run(os.environ["FAKE_TOKEN"], log_handler=None)
"""


async def test_a_killed_client_leaves_a_dropped_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with fresh_server(monkeypatch) as server:
        env = {
            **os.environ,
            "FAKE_API": server.api_url,
            "FAKE_GATEWAY": server.gateway_url,
            "FAKE_TOKEN": server.token,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLIENT_SCRIPT, env=env, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            session = await server.wait_for_ready(timeout=30)
        finally:
            process.kill()
            await process.wait()
        [connection] = await server.disconnections.wait_for_count(lambda c: True, 1, timeout=5)
        assert connection.dropped
        assert connection.close_code == 1006
        assert connection.client_close_code is None
        assert not session.invalidated, "a dropped session can still be resumed"
