"""Self-test of the fake Discord server with a plain discord.py client run in-process.

If these pass, the fake speaks the protocol the way discord.py 2.7 expects, so a failure in the
bot scenarios points at the bot rather than at the fake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from .fake_discord import FLAG_EPHEMERAL, ClientRejectedError, FakeDiscord, button_ids

pytestmark = pytest.mark.asyncio(loop_scope="module")


class CounterView(discord.ui.View):
    """One button that rewrites the message with a click count."""

    def __init__(self, clicks: int = 0) -> None:
        super().__init__(timeout=None)
        self.clicks = clicks

    @discord.ui.button(label="Again", custom_id="again")
    async def again(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        self.clicks += 1
        await interaction.response.edit_message(content=f"clicked {self.clicks}", view=self)


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
    assert [c["name"] for c in sync[0].body] == ["echo", "later", "follow"]
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
