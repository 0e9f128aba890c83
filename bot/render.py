"""The bot's wording, shared by Discord and the terminal, and the plain-text rendering."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.corpus import Document, Paragraph
from bot.outline import Entry
from bot.search import MAX_QUESTION_CHARS, Answer, Hit

if TYPE_CHECKING:
    from bot.library import Library

EXAMPLE_QUESTIONS = (
    "Who should lead on migration data?",
    "What does Canada think of the GFMD?",
    "What should national migration governance include?",
    "How could the remaining consultations be organised?",
)
SNIPPET_CHARS = 160
# Discord's limit on an autocomplete choice's name.
ENTRY_LABEL_CHARS = 100
# A document's name in a reference is cut so that the ¶ number always shows.
DOCUMENT_NAME_CHARS = 60
ELLIPSIS = "…"

NO_QUESTION = "Ask a question about the statement, for example: " + " / ".join(
    EXAMPLE_QUESTIONS[:2]
)
COOLDOWN = "You're asking faster than I can keep up with: try again in {seconds:.0f} s."
FAILURE = "Something went wrong on my side and it has been logged. Please try again."
BUTTON_OWNER_ONLY = "These buttons belong to whoever asked. Use /ask to get your own answer."
STALE = "This message refers to an older version of the statement. Please ask again."
VOTE_RECORDED = "Thanks, your vote is recorded."
VOTE_CHANGED = "Thanks, your vote is changed."
VOTE_UNKNOWN = "That answer is no longer kept, so the vote was not recorded."
VOTE_NOT_RECORDED = "Sorry, your vote could not be recorded right now; please try again later."
FEEDBACK_OFF = "Votes are not being recorded at the moment."
PICK_PROMPT = "Which paragraph answers it? (Only you see this.)"
PICKED = "Thanks: noted that {reference} answers it."
PICKED_NONE = "Thanks: noted that the statement does not say."
RESTARTING = "I'm restarting; please ask again in a minute."
INVALID_BUTTON = "This button is not valid. Use /ask to get a fresh answer."


def question_too_long(length: int) -> str:
    return (
        f"Questions can be up to {MAX_QUESTION_CHARS} characters (yours has {length}). "
        "Try asking with just the key words."
    )


def paragraph_out_of_range(number: int, document: Document) -> str:
    count = len(document.paragraphs)
    return f"{document.short_title} has paragraphs ¶1-¶{count}; there is no ¶{number}."


def shorten(text: str, limit: int) -> str:
    """Cut text to at most limit characters at a word boundary, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    if " " in cut[len(cut) // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + ELLIPSIS


def reference(paragraph: Paragraph, library: Library) -> str:
    """ "¶5", or "Canada, GCM Panel 4 ¶5" when several documents are loaded."""
    if library.multi_document:
        return f"{shorten(paragraph.document.short_title, DOCUMENT_NAME_CHARS)} {paragraph.label}"
    return paragraph.label


def entry_label(entry: Entry, library: Library) -> str:
    """How an outline entry is offered: "¶5 — There has been…" or "§ PANEL 4 (section)"."""
    prefix = f"{entry.document.short_title} " if library.multi_document else ""
    if entry.paragraph is None:
        return shorten(f"{prefix}§ {entry.heading} (section)", ENTRY_LABEL_CHARS)
    return shorten(f"{prefix}{entry.paragraph.label} — {entry.paragraph.text}", ENTRY_LABEL_CHARS)


def source(paragraph: Paragraph) -> str:
    """Where a paragraph comes from: its section and its document."""
    return " · ".join(part for part in (paragraph.section, paragraph.document.title) if part)


def snippet(paragraph: Paragraph) -> str:
    return shorten(paragraph.text, SNIPPET_CHARS)


def search_note(answer: Answer) -> str:
    """What was searched, what was corrected or expanded, what was not found, in one line."""
    typed = {fixed: typo for typo, fixed in answer.corrections}
    expanded = dict(answer.expansions)

    def described(word: str) -> str:
        notes = [f"you typed “{typed[w]}”" for w in word.split() if w in typed]
        if word in expanded:
            notes.append(f"as {expanded[word]}")
        return f"{word} ({'; '.join(notes)})" if notes else word

    parts = []
    if answer.searched:
        parts.append("Searched for: " + ", ".join(described(w) for w in answer.searched))
    if answer.missing:
        parts.append(f"Not in the statement: {', '.join(answer.missing)}")
    return " · ".join(parts)


def not_addressed(answer: Answer) -> str:
    if answer.figure_missing:
        return "The statement gives no figure or date for that."
    if answer.missing:
        return f"The statement does not address {_listing(answer.missing)}."
    return "The statement does not address that."


# The middle verdict: the best paragraph is offered, but not as the answer.
CLOSEST_TITLE = "The statement may not answer this exactly"


def closest_passage(hit: Hit, library: Library) -> str:
    """ "The statement may not answer this exactly; the closest passage is ¶N." """
    return f"{CLOSEST_TITLE}; the closest passage is {reference(hit.paragraph, library)}."


def _listing(words: tuple[str, ...]) -> str:
    quoted = [f"“{w}”" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def other_hits(answer: Answer, shown: Hit) -> list[Hit]:
    return [h for h in answer.hits if h is not shown]


def paragraph_lines(paragraphs: Iterable[Paragraph]) -> list[str]:
    """One line per paragraph: its reference and first words."""
    return [f"{p.label} {shorten(p.text, 70)}" for p in paragraphs]


def table_of_contents(library: Library) -> list[tuple[Document, list[str]]]:
    """For each document, its headings and one line per paragraph with its first words."""
    return [
        (document, [*document.sections, *paragraph_lines(document.paragraphs)])
        for document in library.documents
    ]


# Plain text for the terminal and `python -m bot ask`.


def answer_text(answer: Answer, library: Library) -> str:
    lines: list[str] = []
    best = answer.best
    if answer.asked_nothing:
        return NO_QUESTION
    if answer.answered and best is not None:
        others = [h.paragraph for h in other_hits(answer, best)]
        lines.append(match_text(best.paragraph, best.sentence_index, others, library))
    elif answer.verdict == "closest" and best is not None:
        lines.append(closest_passage(best, library))
        lines += paragraph_text(best.paragraph, library)
    else:
        lines.append(not_addressed(answer))
        if related := answer.shown:
            lines.append(
                f"Possibly related: {reference(related.paragraph, library)} "
                f"{snippet(related.paragraph)}"
            )
    if note := search_note(answer):
        lines.append(f"({note})")
    return "\n".join(lines)


def paragraph_text(
    paragraph: Paragraph, library: Library, emphasis: int | None = None
) -> list[str]:
    lines = [f"{reference(paragraph, library)} · {source(paragraph)}", f"  {paragraph.text}"]
    if emphasis is not None:
        lines.append(f"  Answer: “{paragraph.sentences[emphasis]}”")
    return lines


def match_text(
    paragraph: Paragraph, sentence: int, others: list[Paragraph], library: Library
) -> str:
    """A match in full with its answer sentence; the other matches by their first words."""
    lines = paragraph_text(paragraph, library, emphasis=sentence)
    if others:
        lines.append("Also relevant:")
        lines += [f"  {reference(p, library)} {snippet(p)}" for p in others]
    return "\n".join(lines)


def section_text(document: Document, heading: str) -> str:
    """A section: its heading, and each of its paragraphs with its first words."""
    lines = paragraph_lines(p for p in document.paragraphs if p.section == heading)
    return "\n".join([heading or document.title, *(f"  {line}" for line in lines)])


ABOUT = (
    "I answer questions about this statement by quoting the paragraph that answers them, "
    "with its reference (¶N) so you can cite the exact words."
)
HOW_TO_ASK = (
    "Use /ask, mention me with your question, or DM me. /paragraph and /section show one part "
    "in full; /section with no query lists them all. Right-click a message > Apps > Find in "
    "statement searches for what it says."
)


def recording_notice(days: int) -> str:
    return (
        f"Questions asked here are recorded, with the answers and votes, for {days} days, to "
        "improve the answers; who asked is not recorded."
    )


def about_text(library: Library) -> str:
    documents = [
        f"{d.title}: {', '.join(d.sections)} ({len(d.paragraphs)} paragraphs)"
        for d in library.documents
    ]
    examples = [f"• {question}" for question in EXAMPLE_QUESTIONS]
    return "\n".join([ABOUT, "", *documents, "", HOW_TO_ASK, "Try:", *examples])


def contents_text(library: Library) -> str:
    lines = []
    for document, entries in table_of_contents(library):
        lines.append(document.title)
        lines += [f"  {entry}" for entry in entries]
    return "\n".join(lines)


def answer_json(answer: Answer, library: Library) -> dict[str, object]:
    """The answer as data, best hit first, for `python -m bot ask --json`."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "verdict": answer.verdict,
        "confidence": round(answer.confidence, 3),
        "searched": list(answer.searched),
        "corrections": [{"typed": typed, "searched": fixed} for typed, fixed in answer.corrections],
        "expansions": [{"word": word, "searched_as": name} for word, name in answer.expansions],
        "missing_terms": list(answer.missing),
        "results": [
            {
                "document": hit.paragraph.document.name,
                "document_id": hit.paragraph.document.id,
                "section": hit.paragraph.section,
                "paragraph": hit.paragraph.number,
                "ref": hit.paragraph.ref.encode(),
                "reference": reference(hit.paragraph, library),
                "score": round(hit.score, 6),
                "text": hit.paragraph.text,
                "sentence": hit.sentence,
            }
            for hit in answer.hits
        ],
    }
