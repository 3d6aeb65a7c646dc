"""Plain-text files are split at their headings like Markdown and Word files
(issue 16: one format must not become a few huge passages)."""

from knowledge import parsing as documents


def sections(text: str) -> list[tuple[str, str]]:
    return [(s.heading, s.text) for s in documents.read_document(name="a.txt", data=text.encode())]


def test_a_short_line_standing_alone_is_a_heading():
    text = ("TRAVEL POLICY\n\nPer diem abroad\n\nYou receive 65 euros per day.\n\n"
            "3. Hotels\n\nStays are capped at 180 euros.\nA second line.\n")
    assert sections(text) == [("Per diem abroad", "You receive 65 euros per day."),
                              ("3. Hotels", "Stays are capped at 180 euros.\nA second line.")]


def test_sentences_lists_and_a_closing_line_are_text():
    text = ("Read this first.\n\n- a list item\n\nShort but ends a sentence.\n\n"
            "Kind regards")
    assert sections(text) == [("", "Read this first.\n\n- a list item\n\n"
                                   "Short but ends a sentence.\n\nKind regards")]


def test_a_line_of_more_than_ten_words_is_not_a_heading():
    long_line = "This line has many more than ten words in it without any full stop"
    assert sections(f"{long_line}\n\nBody.") == [("", f"{long_line}\n\nBody.")]
