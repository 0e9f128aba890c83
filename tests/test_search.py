from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from bot.search import MAX_QUESTION_CHARS, QuestionTooLongError, clean_question


def test_gfmd_question_is_answered_from_paragraph_five(index):
    answer = index.search("What does Canada think of the GFMD?")
    assert answer.answered
    best = answer.best
    assert best.paragraph.number == 5
    assert best.matched == ("gfmd",)
    assert best.score > 0
    assert best.sentence in best.paragraph.sentences


def test_hits_are_ranked_best_first_and_each_matches_a_word(index):
    answer = index.search("migration governance data")
    scores = [h.score for h in answer.hits]
    assert scores == sorted(scores, reverse=True)
    assert len(answer.hits) == 3
    assert all(h.matched for h in answer.hits)


def test_no_content_word_in_the_statement_abstains_and_names_the_words(index):
    answer = index.search("Who won the hockey playoffs?")
    assert not answer.answered
    assert answer.verdict == "not_addressed"
    assert answer.hits == ()
    assert answer.missing == ("hockey", "playoffs")


def test_a_rare_missing_word_outweighs_a_common_found_one(index):
    answer = index.search("What does Canada say about climate migration?")
    assert not answer.answered
    assert answer.missing == ("climate",)
    assert answer.searched == ("migration",)
    # Still offered, as possibly related rather than as the answer.
    assert answer.best is not None


def test_question_of_only_stop_and_chat_words_searches_nothing(index):
    answer = index.search("what does it say about that?")
    assert (answer.searched, answer.missing, answer.hits, answer.answered) == ((), (), (), False)


def test_a_close_misspelling_is_corrected_and_reported(index):
    answer = index.search("goverance")
    assert answer.corrections == (("goverance", "governance"),)
    assert answer.searched == ("governance",)
    assert answer.answered
    assert answer.best.paragraph.number == 4


@pytest.mark.parametrize("word", ["paris", "hockey", "climate", "refugee"])
def test_unrelated_words_are_not_corrected_into_the_statement(index, word):
    assert index.search(word).corrections == ()


def test_sentence_that_refers_back_counts_its_subject(index):
    # "It can … measuring progress … reporting" is about IOM, named in an earlier sentence.
    answer = index.search("How should IOM help with monitoring implementation?")
    assert answer.best.paragraph.number == 6
    assert answer.best.sentence.startswith("It can, for example")


def test_acronym_and_long_form_find_the_same_paragraph(index):
    short = index.search("GMG")
    long = index.search("What is said about the Global Migration Group?")
    assert short.best.paragraph is long.best.paragraph
    assert long.best.paragraph.number == 6


def test_clean_question_removes_invisible_and_control_characters():
    assert clean_question("  who\u200b leads\x00 on\u202e data?\n\t") == "who leads on data?"
    assert clean_question("") == ""


def test_clean_question_bounds_the_length():
    assert len(clean_question("a" * MAX_QUESTION_CHARS)) == MAX_QUESTION_CHARS
    with pytest.raises(QuestionTooLongError) as error:
        clean_question("a" * (MAX_QUESTION_CHARS + 1))
    assert error.value.length == MAX_QUESTION_CHARS + 1


def test_a_typo_inside_a_glossary_phrase_is_corrected_before_the_phrase_is_read(index):
    answer = index.search("gfmd civil soceity")
    assert ("soceity", "society") in answer.corrections
    assert answer.searched == ("gfmd", "civil society")
    assert answer.best.paragraph.number == 5


def test_an_inflection_of_a_missing_word_is_not_a_typo(index):
    answer = index.search("How many member states attended?")
    assert answer.corrections == ()
    assert "attended" in answer.missing


def test_glossary_expansions_are_reported_but_not_plain_inflections(index):
    answer = index.search("What does Canada say about tackling unauthorized migration? aid donors")
    assert answer.expansions == (
        ("tackling", "address"),
        ("unauthorized", "irregular"),
        ("aid", "donor"),
    )
    assert index.search("the Global Migration Group").expansions == (
        ("global migration group", "GMG"),
    )


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("How many people work at IOM?", True),
        ("When did IOM start working with the SRSG?", True),
        ("Should IOM's know-how be used when the Compact is implemented?", False),
        ("Which body supports the SRSG?", False),
    ],
)
def test_a_figure_or_date_question_needs_a_paragraph_with_one(index, question, asks):
    # ¶6, the best match for each, gives no figure or date.
    answer = index.search(question)
    assert answer.best.paragraph.number == 6
    assert answer.figure_missing is asks
    assert answer.answered is not asks


def test_a_figure_question_is_answered_where_the_paragraph_has_one(index):
    answer = index.search("How many days of discussion were there?")
    assert answer.answered
    assert "two days" in answer.best.paragraph.text


# The question's only searched word ("call") is held by example questions of a paragraph whose
# text lacks it.
FOUND_THROUGH_EXAMPLES_ALONE = "printer on the 3rd floor is jammed, who do i call"


def test_a_passage_sharing_no_word_with_the_question_is_never_the_closest(index):
    unsure = copy.copy(index)
    # Every probability falls in the closest band.
    unsure.model = replace(index.model, answer_threshold=1.0, closest_threshold=0.0)
    answer = unsure.search(FOUND_THROUGH_EXAMPLES_ALONE)
    assert answer.best is not None and answer.best.matched == ()
    assert (answer.verdict, answer.shown) == ("not_addressed", None)
    sharing = unsure.search("interactive dialog")
    assert sharing.best.matched and sharing.verdict == "closest"
    assert sharing.shown is sharing.best
