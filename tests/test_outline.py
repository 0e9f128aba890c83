"""The outline /section autocompletes over: entries, filtering, labels and keys within limits."""

from __future__ import annotations

from bot import embeds, render


def test_autocomplete_choices_within_limits(hostile_library, library):
    for shelf in (hostile_library, library):
        for typed in ["", "1", "¶2", "migration", "x" * 200, "@everyone", "🙂"]:
            entries = shelf.outline().matching(typed)
            assert len(entries) <= embeds.AUTOCOMPLETE_CHOICES
            for entry in entries:
                assert 0 < len(render.entry_label(entry, shelf)) <= embeds.CHOICE_CHARS
                assert 0 < len(entry.key) <= embeds.CHOICE_CHARS


def test_numbers_and_paragraph_marks_find_that_paragraph(library):
    outline = library.outline()
    for typed in ("5", "¶5", "para 5", "p5"):
        (entry,) = outline.matching(typed)
        assert entry.paragraph is library.paragraphs[4]
    assert outline.matching("¶9") == []


def test_words_must_begin_words_of_the_entry(library):
    outline = library.outline()
    assert [e.paragraph.number for e in outline.matching("gf")] == [5]
    assert [e.paragraph.number for e in outline.matching("global operat")] == [6]
    assert outline.matching("fmd") == []


def test_the_heading_comes_first_and_nothing_typed_lists_everything(library):
    entries = library.outline().matching("")
    assert entries[0].heading == "PANEL 4: Summary Panel" and entries[0].paragraph is None
    assert [e.paragraph.number for e in entries[1:]] == [1, 2, 3, 4, 5, 6]


def test_entries_are_found_again_by_their_keys(library):
    outline = library.outline()
    for entry in outline.entries:
        assert outline.entry(entry.key) is entry
    assert outline.entry_for(library.paragraphs[2]).key == library.paragraphs[2].ref.encode()
    assert outline.entry("nonsense") is None


def test_several_documents_are_named_in_labels(hostile_library):
    entries = hostile_library.outline().matching("1")
    labels = [render.entry_label(e, hostile_library) for e in entries]
    assert len(labels) == 2 and labels[0].startswith("second ¶1 — ")
    assert labels[1].startswith("T" * 50)
