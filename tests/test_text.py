from __future__ import annotations

import pytest

from bot.corpus import DataError
from bot.text import WORD, Analyzer, Glossary, find_words, lemma_key, parse_glossary


@pytest.fixture(scope="module")
def plain():
    return Analyzer()


@pytest.fixture(scope="module")
def analyzer(library):
    return library.index.analyzer


def terms(analyzer, text, query=False):
    return [t.term for t in analyzer.tokens(text, query=query)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IOM’s footprint", ["iom", "footprint"]),
        ("IOM's footprint", ["iom", "footprint"]),
        ("GFMD", ["gfmd"]),
        ("The Migrations of MIGRANTS", ["migrat", "migrant"]),
        ("state-led, well-balanced", ["state", "led", "well", "balanc"]),
        ("", []),
        ("the and of to it", []),
        ("émigré Zürich naïve", ["émigré", "zürich", "naïv"]),
        ("migration\u200bdata", ["migrat", "data"]),
        ("\u202egovernance\u202c 🙂 🇨🇦", ["govern"]),
        ("2018 goals", ["2018", "goal"]),
        ("a b c x y", []),
    ],
)
def test_tokens_without_glossary(plain, text, expected):
    assert terms(plain, text) == expected


def test_surface_words_are_case_folded(plain):
    assert [t.surface for t in plain.tokens("Canada’s GFMD Approach")] == [
        "canada",
        "gfmd",
        "approach",
    ]


def test_acronym_long_forms_become_the_acronym(analyzer):
    assert terms(analyzer, "the Global Forum on Migration and Development") == ["gfmd"]
    assert terms(analyzer, "International Organisation for Migration") == ["iom"]
    assert terms(analyzer, "the Global Migration Group") == ["gmg"]
    assert terms(analyzer, "Special Representative of the Secretary-General") == ["srsg"]
    assert terms(analyzer, "the Compact") == terms(analyzer, "the GCM") == ["gcm"]


def test_synonyms_share_one_term(analyzer):
    assert (
        terms(analyzer, "removal") == terms(analyzer, "deportations") == terms(analyzer, "return")
    )
    assert terms(analyzer, "undocumented") == terms(analyzer, "irregular")
    assert terms(analyzer, "aid") == terms(analyzer, "donors")
    assert terms(analyzer, "decision makers") == terms(analyzer, "decision-makers")


def test_glossary_does_not_merge_unrelated_words_of_the_statement(analyzer):
    # Each pair shares a Snowball stem with a glossary word; the glossary must not conflate them.
    assert terms(analyzer, "informal") != terms(analyzer, "shape")
    assert terms(analyzer, "governance") != terms(analyzer, "countries")
    assert terms(analyzer, "well-positioned") != terms(analyzer, "constructive")
    assert terms(analyzer, "into account") != terms(analyzer, "reporting")


def test_glossary_does_not_map_a_specific_thing_to_a_general_word_of_the_statement(analyzer):
    # "Existing instruments" says nothing of a treaty: asked about one, the statement is silent.
    assert terms(analyzer, "treaty") != terms(analyzer, "instruments")


def test_chat_words_and_the_speaker_are_dropped_from_questions_only(analyzer):
    question = "What does Canada think about how many ways to say it?"
    assert terms(analyzer, question, query=True) == []
    # By its other names in the metadata too.
    question = "What do the Canadians, and Ottawa, say in the text?"
    assert terms(analyzer, question, query=True) == []
    assert "think" in [t.surface for t in analyzer.tokens("we could think about it")]


def test_chat_typed_without_apostrophes_says_nothing_of_the_topic(analyzer, plain):
    question = "ok so im, pls, cant you say: what about integration?"
    assert terms(analyzer, question, query=True) == terms(analyzer, "integration")
    # Contractions are English, not glossary: read so without one too.
    assert terms(plain, "dont youre wasnt") == []


def test_an_empty_glossary_changes_nothing(plain):
    assert plain.glossary == Glossary()
    assert terms(plain, "Global Forum on Migration") == ["global", "forum", "migrat"]


def test_an_empty_glossary_file_is_an_empty_glossary():
    assert parse_glossary("", "glossary.toml") == Glossary()


@pytest.mark.parametrize(
    "content",
    [
        "not = [toml",
        "[synonyms]\ngroups = [[1, 2]]",
        "[acronyms]\nGFMD = 'not a list'",
        "[chat_words]\nwords = ['']",
    ],
)
def test_bad_glossary_is_a_data_error(content):
    with pytest.raises(DataError, match=r"^glossary\.toml"):
        parse_glossary(content, "glossary.toml")


@pytest.mark.parametrize(
    ("word", "statement_word"),
    [
        ("capital", "capitalized"),
        ("capitals", "capitalized"),
        ("information", "informal"),
        ("natural", "nature"),
        ("organising", "organization"),
        ("organized", "organization"),
        ("practice", "practical"),
        ("busy", "business"),
        ("initial", "initiatives"),
        ("positive", "positioned"),
        ("collective", "collection"),
        ("moderately", "moderators"),
    ],
)
def test_stem_collisions_are_matched_by_lemma_only(analyzer, word, statement_word):
    # Each pair shares a Snowball stem; the word must not find the unrelated statement word.
    assert terms(analyzer, word) != terms(analyzer, statement_word)


@pytest.mark.parametrize(
    ("word", "statement_word"),
    [
        ("capitalize", "capitalized"),
        ("leverage", "capitalized"),
        ("informally", "informal"),
        ("organisations", "organization"),
        ("businesses", "business"),
        ("initiative", "initiatives"),
        ("collected", "collection"),
        ("consultations", "consultation"),
    ],
)
def test_lemma_only_words_still_find_their_own_inflections_and_synonyms(
    analyzer, word, statement_word
):
    assert terms(analyzer, word) == terms(analyzer, statement_word)


@pytest.mark.parametrize(
    ("question_words", "statement_word"),
    [
        # Mappings removed because they overreach: each sends a word to an unrelated one.
        ("visa", "entry"),
        ("border", "entry"),
        ("budget", "investments"),
        ("official", "decision-makers"),
        ("expert", "expertise"),
        ("tool", "instruments"),
        ("study", "analyze"),
        ("contribution", "ideas"),
        ("delegation", "participants"),
        ("representative", "balanced"),
        ("voluntary", "informal"),
    ],
)
def test_overreaching_synonyms_are_not_in_the_glossary(analyzer, question_words, statement_word):
    assert terms(analyzer, question_words) != terms(analyzer, statement_word)


def test_the_refugee_compact_is_not_the_migration_compact(analyzer):
    assert terms(analyzer, "the Global Compact on Refugees") != terms(analyzer, "the Compact")
    assert terms(analyzer, "the Global Compact for Migration") == terms(analyzer, "the Compact")


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("capitalized", "capitaliz"),
        ("capitalizes", "capitaliz"),
        ("capitalizing", "capitaliz"),
        ("capital", "capital"),
        ("informally", "informal"),
        ("policies", "policy"),
        ("business", "business"),
        ("businesses", "business"),
        ("gas", "gas"),
    ],
)
def test_lemma_key_removes_inflections_only(word, key):
    assert lemma_key(word) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "How many people attended?",
        "IOM's role_in 2018-19: a\tb\nc\x0bd\x1fe",
        "snake_case __init__ x_1 _ __",
        "e.g. U.N. co-operation (GCM) & 50%",
        "Café São Paulo’s naïve ﬁnance",
        "İstanbul Straße ½ ² ٣",
    ],
)
def test_find_words_finds_what_the_word_pattern_finds(text):
    assert find_words(text) == WORD.findall(text)
    assert find_words(text.casefold()) == WORD.findall(text.casefold())


def test_find_words_on_every_ascii_character():
    text = "".join(map(chr, range(128))) * 2
    assert find_words(text) == WORD.findall(text)
