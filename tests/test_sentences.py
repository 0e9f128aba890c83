from __future__ import annotations

import pytest

from bot import cues
from bot.corpus import build_document
from bot.sentences import KIND_BITS, REFERS_BACK, analyse
from bot.text import Analyzer, Glossary

TEXT = (
    "Heading\n\n"
    "The Global Forum on Migration and Development met in 2018. It brought 150 states together. "
    "Canada's civil society spoke in Geneva.\n\n"
    "Data matters. Dr. Koser said so. These figures help; states should share them."
)


@pytest.fixture
def analyzer() -> Analyzer:
    return Analyzer(
        Glossary(
            acronyms={"GFMD": ("Global Forum on Migration and Development",)},
            synonyms=(("civil society", "ngos"),),
        )
    )


@pytest.fixture
def paragraphs():
    return build_document("s.txt", TEXT, {}).paragraphs


def test_paragraph_terms_are_the_analyzers_terms_of_the_whole_text(analyzer, paragraphs):
    analysed = analyse(paragraphs, analyzer)
    assert analysed.terms.lists() == [analyzer.terms(p.text) for p in paragraphs]
    assert "gfmd" in analysed.terms.lists()[0]


def test_the_shipped_statement_is_analysed_as_its_paragraphs(library):
    analyzer = library.index.analyzer
    analysed = analyse(library.paragraphs, analyzer)
    assert analysed.terms.lists() == [analyzer.terms(p.text) for p in library.paragraphs]
    assert analysed.plain_words == {
        w for p in library.paragraphs for w in analyzer.plain_words(p.text)
    }


def test_each_sentence_keeps_its_own_terms_and_kinds(analyzer, paragraphs):
    analysed = analyse(paragraphs, analyzer)
    ids = analysed.terms.vocabulary
    for number, paragraph in enumerate(paragraphs):
        view = analysed.sentences.paragraph(number)
        assert len(view.sentences) == len(paragraph.sentences)
        for own, held, sentence in zip(view.sentences, view.held, paragraph.sentences, strict=True):
            assert own == {ids[t] for t in analyzer.terms(sentence)}
            assert held == cues.held_types(sentence)
        assert view.terms == frozenset().union(*view.sentences)


def test_a_sentence_that_refers_back_borrows_the_first_and_previous_sentences(analyzer, paragraphs):
    view = analyse(paragraphs, analyzer).sentences.paragraph(0)
    # "It brought…" refers back; the first sentence never does; "Canada's…" does not.
    assert view.antecedents[0] is None
    assert view.antecedents[1] == view.sentences[0]
    assert view.antecedents[2] is None
    second = analyse(paragraphs, analyzer).sentences.paragraph(1)
    # "These figures…" borrows from the first sentence and the one before it.
    assert second.antecedents[2] == second.sentences[0] | second.sentences[1]


def test_kinds_are_read_per_sentence(analyzer, paragraphs):
    flags = analyse(paragraphs, analyzer).sentences.flags.tolist()
    first, second, third = flags[:3]
    assert first & KIND_BITS["date"] and not first & REFERS_BACK
    assert second & KIND_BITS["figure"] and second & REFERS_BACK
    assert third & KIND_BITS["place"]


def test_held_near_prefers_the_sentences_holding_the_terms(analyzer, paragraphs):
    analysed = analyse(paragraphs, analyzer)
    view = analysed.sentences.paragraph(0)
    states = analysed.terms.vocabulary[analyzer.term("states")]
    assert "figure" in view.held_near([states])
    (civil_society,) = analyzer.terms("civil society")
    assert "figure" not in view.held_near([analysed.terms.vocabulary[civil_society]])
    # No sentence holds the term: what the whole paragraph holds.
    assert view.held_near([-1]) == frozenset().union(*view.held)
