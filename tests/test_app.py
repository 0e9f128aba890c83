"""The bot as create_bot builds it: its commands, intents and mentions, and what it leaves alone."""

from __future__ import annotations

import json

import discord
import yarl
from discord import app_commands

from bot.app import StatementTree, create_bot
from bot.config import Settings
from bot.runner import prepare_discord


def test_tree_has_the_expected_commands(bot):
    slash = {c.name for c in bot.tree.get_commands(type=discord.AppCommandType.chat_input)}
    menus = {c.name for c in bot.tree.get_commands(type=discord.AppCommandType.message)}
    assert slash == {"ask", "section", "paragraph", "about", "reload"}
    assert menus == {"Find in statement"}


def test_every_command_and_option_is_described(bot):
    for command in bot.tree.walk_commands():
        assert isinstance(command, app_commands.Command)
        assert command.description and command.description != "…"
        assert len(command.description) <= 100
        for parameter in command.parameters:
            assert parameter.description and parameter.description != "…", (
                command.name,
                parameter.name,
            )
            assert len(parameter.description) <= 100


def test_autocomplete_is_attached_where_expected(bot):
    options = {
        (command.name, p.name): p.autocomplete
        for command in bot.tree.walk_commands()
        for p in command.parameters
    }
    assert options == {
        ("ask", "question"): False,
        ("ask", "private"): False,
        ("section", "query"): True,
        ("paragraph", "number"): False,
        ("paragraph", "document"): True,
    }


def test_the_sync_payload_serialises_and_reload_is_hidden_from_members(bot):
    payload = [command.to_dict(bot.tree) for command in bot.tree.get_commands()]
    text = json.dumps(payload)
    assert len(payload) == 6
    ask = next(c for c in payload if c["name"] == "ask")
    assert [o["name"] for o in ask["options"]] == ["question", "private"]
    assert ask["options"][0]["required"] is True and ask["options"][1]["required"] is False
    assert ask["default_member_permissions"] is None
    reload = next(c for c in payload if c["name"] == "reload")
    administrator = discord.Permissions(administrator=True).value
    assert int(reload["default_member_permissions"]) == administrator
    assert "Find in statement" in text


def test_bot_pings_nobody_and_needs_no_privileged_intent(bot):
    mentions = bot.allowed_mentions
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (
        False,
        False,
        False,
        False,
    )
    assert not bot.intents.message_content and not bot.intents.members and not bot.intents.presences
    assert isinstance(bot.tree, StatementTree)


def test_building_a_bot_leaves_discord_py_as_it_was(library):
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    settings = Settings(api_url="http://127.0.0.1:9/api/v10", gateway_url="ws://127.0.0.1:9/")
    create_bot(settings, library)
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


def test_running_a_bot_points_discord_py_at_the_configured_server(monkeypatch):
    # monkeypatch restores discord.py's class attributes after the test.
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)
    prepare_discord(Settings(api_url="http://127.0.0.1:9/api/v10", gateway_url="ws://x:9/"))
    assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
    assert yarl.URL("ws://x:9/") == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    assert not discord.VoiceClient.warn_nacl and not discord.VoiceClient.warn_dave
