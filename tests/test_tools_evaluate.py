"""`make eval` measures the answer users get: the pipeline of /ask, question cleaning included."""

from __future__ import annotations

import pytest

from bot import render
from bot.app import create_bot
from bot.config import Settings
from tests.discord_fakes import make_interaction, sent
from tools.evaluate import Outcome, Question, Scored, bot_system, errors, metrics

# Typed or pasted the way people do: an invisible character inside a word, a tab, a bell.
QUESTIONS = [
    "What does Canada think of the GF\u200bMD?",
    "who should\tlead on migration data?\x07",
    "What does Canada say about climate migration?",
    "G\u200bM\u200bG",
]


@pytest.mark.parametrize("question", QUESTIONS)
async def test_eval_and_ask_give_the_same_answer(library, question):
    outcome = bot_system(library)(question)
    bot = create_bot(Settings(), library)
    interaction = make_interaction()
    await bot.statements.ask.callback(bot.statements, interaction, question=question)
    embed = sent(interaction)["embed"]
    if outcome.verdict == "not_addressed":
        assert embed.title == "Not addressed in the statement"
    else:
        best = library.paragraphs[outcome.ranking[0] - 1]
        if outcome.verdict == "closest":
            assert embed.title.startswith("The statement may not answer this exactly")
        else:
            assert embed.title.startswith(f"¶{best.number} ")
            sentence = best.sentences[outcome.sentence - 1]
            assert f"**{sentence[:30]}" in embed.description
        assert render.shorten(best.text, 40)[:-1] in embed.description.replace("**", "")
    await bot.close()


def test_the_invisible_character_is_what_cleaning_is_for(library):
    assert bot_system(library)(QUESTIONS[0]).ranking[0] == 5
    uncleaned = library.index.search(QUESTIONS[0])
    assert uncleaned.best is None or uncleaned.best.paragraph.number != 5


def test_answer_accuracy_counts_right_paragraphs_and_right_refusals():
    answered_5 = Outcome((5, 4), "answered", 1)
    closest_5 = Outcome((5, 4), "closest", 1)
    declined = Outcome((), "not_addressed", None)
    pairs = [
        (Question("a", "q", 5, 1, "keyword"), answered_5),  # right
        (Question("b", "q", 4, None, "keyword"), answered_5),  # wrong paragraph
        (Question("c", "q", 5, None, "paraphrase"), closest_5),  # right ¶, but not answered
        (Question("d", "q", None, None, "out_of_scope"), declined),  # right refusal
        (Question("e", "q", None, None, "out_of_scope"), closest_5),  # closest is not answering
    ]
    figures = metrics(pairs)
    assert figures["accuracy"] == pytest.approx(3 / 5)
    assert figures["top1"] == pytest.approx(2 / 3)
    assert figures["wrongful"] == pytest.approx(1 / 3)
    assert figures["declined"] == 1.0
    assert figures["sentence"] == 1.0


def test_errors_name_each_wrong_question_once_with_the_repeats_it_was_wrong_in():
    inside = Question("a", "Who leads?", 5, None, "paraphrase")
    outside = Question("b", "Who won?", None, None, "out_of_scope")
    right, wrong = Outcome((5,), "answered", 1), Outcome((4,), "answered", 1)
    declined = Outcome((), "not_addressed", None)
    scored = [
        Scored(inside, "dev", right, declined),
        Scored(outside, "dev", right, declined),
        Scored(inside, "dev", wrong, declined),
        Scored(outside, "dev", right, declined),
    ]
    lines = errors(scored, repeats=2).splitlines()[1:]
    assert len(lines) == 2
    # In the order first found wrong.
    assert lines[0].startswith("  b ") and lines[0].endswith("Who won?  [2/2]")
    assert lines[1].startswith("  a ") and lines[1].endswith("Who leads?  [1/2]")
    assert errors(scored[:2]).splitlines()[1].endswith("Who won?")
