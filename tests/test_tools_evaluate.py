"""`make eval` measures the answer users get: the pipeline of /ask, question cleaning included."""

from __future__ import annotations

import pytest

from bot.app import create_bot
from bot.config import Settings
from tests.discord_fakes import make_interaction, sent
from tools.evaluate import Question, bot_outcome, by_kind, measure

# Typed or pasted the way people do: an invisible character inside a word, a tab, a bell.
QUESTIONS = [
    "What does Canada think of the GF\u200bMD?",
    "who should\tlead on migration data?\x07",
    "What does Canada say about climate migration?",
    "G\u200bM\u200bG",
]


@pytest.mark.parametrize("question", QUESTIONS)
async def test_eval_and_ask_give_the_same_answer(library, question):
    outcome = bot_outcome(library)(question)
    bot = create_bot(Settings(), library)
    interaction = make_interaction()
    await bot.statements.ask.callback(bot.statements, interaction, question=question)
    embed = sent(interaction)["embed"]
    if outcome.answered:
        assert embed.title.startswith(f"¶{outcome.ranking[0]} ")
        assert (
            f"**{library.paragraphs[outcome.ranking[0] - 1].sentences[outcome.sentence - 1]}**"[:30]
            in embed.description
        )
    else:
        assert embed.title == "Not addressed in the statement"
    await bot.close()


def test_the_invisible_character_is_what_cleaning_is_for(library):
    assert bot_outcome(library)(QUESTIONS[0]).ranking[0] == 5
    uncleaned = library.index.search(QUESTIONS[0])
    assert uncleaned.best is None or uncleaned.best.paragraph.number != 5


def test_answer_accuracy_counts_right_paragraphs_and_right_refusals(library):
    questions = [
        Question("a", "What does Canada think of the GFMD?", 5, None, "keyword"),
        Question("b", "What does Canada think of the GFMD?", 4, None, "keyword"),
        Question("c", "best hockey team?", None, None, "out_of_scope"),
        Question("d", "best hockey team?", 2, None, "paraphrase"),
    ]
    system = bot_outcome(library)
    metrics = measure(questions, [system(q.question) for q in questions])
    assert metrics.accuracy == 0.5
    assert metrics.wrongful_abstention == pytest.approx(1 / 3)
    assert by_kind(questions, system)["out_of_scope"].abstention_recall == 1.0
