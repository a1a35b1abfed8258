from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from newsqa import DocumentError, chunk_document, document_from_text, load_document, load_documents
from newsqa.documents import as_document, count_inputs, iter_inputs, split_sentences
from newsqa.documents.chunking import pack, sentence_costs
from newsqa.documents.lexical import content_tokens, name_stems, names_in, stems
from newsqa.types import Document
from tests.conftest import SEED


def test_seed_date_prefix_becomes_the_date(seed: Document) -> None:
    assert seed.date == dt.date(2024, 11, 8)
    assert seed.id == SEED.stem
    assert seed.text.startswith("Russian President Vladimir Putin")
    assert "date 2024" not in seed.text


def test_seed_sentences_slice_back_and_keep_abbreviations(seed: Document) -> None:
    assert len(seed.sentences) == 15
    for s in seed.sentences:
        assert seed.text[s.start : s.end] == s.text
    aid = [s for s in seed.sentences if "64.1 billion" in s.text]
    assert len(aid) == 1
    assert aid[0].text.endswith("according to U.S. Department of State data.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith went to Washington. He left.", ["Mr. Smith went to Washington.", "He left."]),
        ("He said “yes.” Then he left!", ["He said “yes.”", "Then he left!"]),
        ("Title line\n\nBody starts here. Ends.", ["Title line", "Body starts here.", "Ends."]),
        (
            "Costs rose 3.5 percent. Why? Nobody knows.",
            ["Costs rose 3.5 percent.", "Why?", "Nobody knows."],
        ),
        ("John F. Kennedy spoke. Crowds cheered.", ["John F. Kennedy spoke.", "Crowds cheered."]),
        ("It was 5 ft. tall. He grew.", ["It was 5 ft. tall.", "He grew."]),  # lowercase next
        ("He cited e.g. France. It agreed.", ["He cited e.g. France.", "It agreed."]),
        ("Troops left the USA. Others stayed.", ["Troops left the USA.", "Others stayed."]),
        ("It ended. (", ["It ended. ("]),  # nothing follows the opening bracket
        ("It ended in 2024. Then it rained.", ["It ended in 2024.", "Then it rained."]),
        ("He wore No. 5 on his shirt.", ["He wore No. 5 on his shirt."]),
        ("He said no. Moscow agreed.", ["He said no.", "Moscow agreed."]),
    ],
)
def test_split_sentences_examples(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected


@pytest.mark.parametrize("text", ["", "   \n\t  ", "\n\n"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(DocumentError) as info:
        document_from_text(text, id="x")
    assert (str(info.value), info.value.reason, info.value.source) == (
        "x: document is empty",
        "empty",
        "x",
    )


def test_date_only_text_is_empty() -> None:
    with pytest.raises(DocumentError) as info:
        document_from_text("date 2024-01-01 ", id="x")
    assert (str(info.value), info.value.source) == ("x: document is empty", "x")


@pytest.mark.parametrize(
    ("text", "binary"),
    [
        ("\x01\x02\x03\x04" * 50, True),
        ("Kyiv\x00 said no.", True),  # one NUL is enough
        ("a" * 92 + "\x01" * 8, False),  # up to 8 control characters pass...
        ("a" * 91 + "\x01" * 9, True),
        ("a" * 990 + "\x01" * 10, False),  # ...or one in a hundred
        ("a" * 989 + "\x01" * 11, True),
    ],
)
def test_control_characters_make_text_binary(text: str, binary: bool) -> None:
    if not binary:
        assert document_from_text(text, source="s.txt").text == text
        return
    with pytest.raises(DocumentError) as info:
        document_from_text(text, source="s.txt")
    assert (str(info.value), info.value.reason, info.value.source) == (
        "s.txt: looks like binary data, not text",
        "binary",
        "s.txt",
    )


@pytest.mark.parametrize(
    ("name", "content", "message", "reason"),
    [
        ("nope.txt", None, "no such file", "not_found"),
        (
            "folder.txt",
            "",  # makes a folder
            "a folder, and this takes one document "
            "(for many: `newsqa batch`, `newsqa ask`, newsqa.load_documents)",
            "not_one",
        ),
        ("huge.txt", b"x" * 1001, "file is 1,001 bytes, over the 1,000-byte limit", "too_large"),
        (
            "blob.txt",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10,
            "looks like binary data, not text",
            "binary",
        ),
        (
            "latin1.txt",
            "Café crème in Kyiv.".encode("latin-1"),
            "not valid UTF-8 (byte 3); re-encode the file as UTF-8",
            "encoding",
        ),
    ],
)
def test_unusable_files_are_refused_with_their_reason(
    tmp_path: Path, name: str, content: bytes | str | None, message: str, reason: str
) -> None:
    path = tmp_path / name
    if content == "":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DocumentError) as info:
        load_document(path, max_bytes=1000)
    assert (str(info.value), info.value.reason, info.value.source) == (
        f"{path}: {message}",
        reason,
        str(path),
    )


def test_a_file_of_exactly_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "full.txt"
    path.write_bytes(b"Word. " * 166 + b"Word")  # 1,000 bytes
    doc = load_document(path, max_bytes=1000)
    assert (doc.id, doc.source, doc.text[-10:]) == ("full", str(path), "Word. Word")
    with pytest.raises(DocumentError, match="over the 999-byte limit"):
        load_documents([path], max_bytes=999)


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffKyiv said no. Moscow said yes.".encode())
    doc = load_document(path)
    assert doc.text.startswith("Kyiv")


def test_jsonl_records_and_folders(tmp_path: Path) -> None:
    records = [
        {"id": "a", "text": "First story. It is short.", "date": "2024-01-02", "title": "A"},
        {"id": 7, "text": "Second story.", "source": "wire"},
    ]
    (tmp_path / "news.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    (tmp_path / "c.txt").write_text("date 2023-05-06\nThird story.")
    (tmp_path / "z.txt").write_text("Last story.")  # after the records
    docs = load_documents([tmp_path])
    assert [d.id for d in docs] == ["c", "a", "7", "z"]
    assert docs[0].date == dt.date(2023, 5, 6)
    assert docs[1].title == "A" and docs[1].date == dt.date(2024, 1, 2)
    assert docs[2].source == "wire" and docs[2].date is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"text": "no id"}', "needs 'id' and 'text'"),
        ('{"id": 1, "text": 5}', "must be a string"),
        ('{"id": 1, "text": "  "}', "empty"),
    ],
)
def test_bad_jsonl_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "text": "Fine."}\n' + line + "\n")
    with pytest.raises(DocumentError, match=message) as info:
        load_documents([path])
    assert str(info.value).startswith(f"{path}:2")


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("Not an input.")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(DocumentError) as info:
        load_documents([tmp_path])
    assert (str(info.value), info.value.reason, info.value.source) == (
        f"{tmp_path}: no .txt, .md or .jsonl files",
        "not_found",
        str(tmp_path),
    )


@pytest.mark.parametrize(
    ("line", "message", "reason"),
    [
        (
            b'{"id": 1, "text": "' + b"x" * 41 + b'"}\n',
            "record is over the 60-byte limit",
            "too_large",
        ),
        (b'{"id": 1, "text": "Caf\xe9."}\n', "not valid UTF-8 (byte 22)", "encoding"),
        (
            b"{not json\n",
            "not valid JSON (Expecting property name enclosed in double quotes)",
            "format",
        ),
        (b'["id", "text"]\n', "a record needs 'id' and 'text'", "format"),
        (b'{"id": 1, "text": "Fine.", "source": 5}\n', "'source' must be a string", "format"),
    ],
)
def test_unusable_jsonl_records_are_reported_by_line(
    tmp_path: Path, line: bytes, message: str, reason: str
) -> None:
    path = tmp_path / "news.jsonl"
    exactly_60 = b'{"id": 1, "text": "' + b"x" * 38 + b'"}\n'
    path.write_bytes(exactly_60 + line)
    first, second = iter_inputs(path, max_bytes=60)
    assert isinstance(first, Document)
    assert isinstance(second, DocumentError)
    where = f"{path}:2"
    assert (str(second), second.reason, second.source) == (f"{where}: {message}", reason, where)


def test_chunks_hold_whole_sentences_within_budget(seed: Document) -> None:
    chunks = chunk_document(seed, max_tokens=150, overlap_tokens=40)
    assert len(chunks) > 2
    for chunk in chunks:
        assert chunk.tokens <= 150
        first, last = seed.sentence(chunk.sentence_ids[0]), seed.sentence(chunk.sentence_ids[-1])
        assert (chunk.start, chunk.end) == (first.start, last.end)
    covered = {i for c in chunks for i in c.sentence_ids}
    assert covered == {s.id for s in seed.sentences}
    # overlap: consecutive chunks share trailing sentences
    assert set(chunks[0].sentence_ids) & set(chunks[1].sentence_ids)


def test_chunk_arguments_are_checked(seed: Document) -> None:
    with pytest.raises(ValueError):
        chunk_document(seed, max_tokens=0)
    with pytest.raises(ValueError):
        chunk_document(seed, max_tokens=10, overlap_tokens=10)


def test_oversized_sentence_gets_its_own_chunk() -> None:
    doc = document_from_text("Short one. " + "word " * 150 + "ends here. Tail.")
    chunks = chunk_document(doc, max_tokens=50)
    big = [c for c in chunks if c.tokens > 50]
    assert len(big) == 1 and len(big[0].sentence_ids) == 1


@pytest.mark.parametrize(
    ("costs", "max_tokens", "overlap_tokens", "expected"),
    [
        ([], 5, 0, []),
        ([1], 1, 0, [(0, 1)]),
        ([2, 1], 3, 0, [(0, 2)]),  # exactly the budget
        ([2, 2], 3, 0, [(0, 1), (1, 2)]),
        ([5, 1], 3, 0, [(0, 1), (1, 2)]),  # an item over budget alone
        ([1, 1, 1], 2, None, [(0, 2), (2, 3)]),  # no overlap by default
        ([1, 1, 1], 2, 1, [(0, 2), (1, 3)]),
        ([1, 1, 1, 1], 3, 2, [(0, 3), (1, 4)]),  # advances past the previous start
        ([1, 1, 1, 1, 1], 4, 2, [(0, 4), (2, 5)]),
        ([3, 2, 1, 5], 6, 3, [(0, 3), (1, 3), (2, 4)]),
    ],
)
def test_pack_groups_items_within_the_budget(
    costs: list[int], max_tokens: int, overlap_tokens: int | None, expected: list[tuple[int, int]]
) -> None:
    if overlap_tokens is None:
        ranges = pack(costs, max_tokens)
    else:
        ranges = pack(costs, max_tokens, overlap_tokens)
    assert [(r.start, r.stop) for r in ranges] == expected


@pytest.mark.parametrize(
    ("max_tokens", "overlap_tokens", "message"),
    [
        (0, 0, "max_tokens must be at least 1"),
        (3, 3, "overlap_tokens must be >= 0 and below max_tokens"),
        (3, -1, "overlap_tokens must be >= 0 and below max_tokens"),
    ],
)
def test_pack_refuses_bad_budgets(max_tokens: int, overlap_tokens: int, message: str) -> None:
    with pytest.raises(ValueError) as info:
        pack([1], max_tokens, overlap_tokens)
    assert str(info.value) == message


def test_a_sentence_costs_its_tokens_and_one_separator() -> None:
    doc = document_from_text("Hello world. The vote passed.")
    assert sentence_costs(doc) == [4, 5]


def test_chunks_default_to_1500_tokens() -> None:
    thirteen = "One two three four five six seven eight nine ten eleven twelve thirteen."
    doc = document_from_text(" ".join([thirteen] * 99 + [thirteen[:-1] + " fourteen."]))
    assert sum(sentence_costs(doc)) == 1501
    chunks = chunk_document(doc)
    assert [(c.sentence_ids[0], c.sentence_ids[-1], c.tokens) for c in chunks] == [
        (1, 99, 1485),
        (100, 100, 16),
    ]


def _stdin(data: bytes, max_bytes: int = 1000) -> list[Document | DocumentError]:
    return list(iter_inputs("-", stdin=io.BytesIO(data), max_bytes=max_bytes))


def test_standard_input_is_one_text_document() -> None:
    [doc] = _stdin("\ufeffKyiv said no.\n".encode(), max_bytes=17)  # exactly the limit
    assert isinstance(doc, Document)
    assert (doc.id, doc.source, doc.text) == ("stdin", "-", "Kyiv said no.")


def test_jsonl_on_standard_input_yields_records_and_errors_by_line() -> None:
    data = b' {"id": "a", "text": "One."}\n\n{"id": "b"}\n{"id": 3, "text": "Two."}\n'
    items = _stdin(data)
    assert [(i.id, i.source) if isinstance(i, Document) else str(i) for i in items] == [
        ("a", "-:1"),
        "-:3: a record needs 'id' and 'text'",
        ("3", "-:4"),
    ]


def test_standard_input_and_files_are_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("From a file.")
    items = list(iter_inputs(["-", path], stdin=io.BytesIO(b"From stdin.")))
    documents = [(i.id, i.source) for i in items if isinstance(i, Document)]
    assert documents == [("stdin", "-"), ("a", str(path))]


def test_a_missing_input_path_stops_the_walk(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    with pytest.raises(DocumentError) as info:
        list(iter_inputs([missing]))
    assert (str(info.value), info.value.reason, info.value.source) == (
        f"{missing}: no such file",
        "not_found",
        str(missing),
    )


@pytest.mark.parametrize(
    ("data", "message", "reason"),
    [
        (b"x" * 1235, "-: standard input is over the 1,234-byte limit", "too_large"),
        (b"Caf\xe9 au lait.", "-: not valid UTF-8 (byte 3)", "encoding"),
    ],
)
def test_unusable_standard_input_is_refused(data: bytes, message: str, reason: str) -> None:
    with pytest.raises(DocumentError) as info:
        _stdin(data, max_bytes=1234)
    assert (str(info.value), info.value.reason, info.value.source) == (message, reason, "-")


def test_inputs_are_counted_without_parsing(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("One.")
    (folder / "b.md").write_text("Two.")
    (folder / "c.JSONL").write_text('{"id": 1, "text": "x"}\n\n{"bad"\n')
    (folder / "d.csv").write_text("ignored")
    single = folder / "a.txt"
    assert count_inputs(folder) == 4
    assert count_inputs(str(single)) == 1
    assert count_inputs([folder, single]) == 5
    empty = tmp_path / "empty"
    empty.mkdir()
    unknowns: list[list[str | Path]] = [
        ["-"],
        [single, "-"],
        [tmp_path / "missing"],
        [single, empty],
    ]
    for unknown in unknowns:
        assert count_inputs(unknown) is None


def test_stems_are_the_first_five_letters_of_content_words() -> None:
    assert stems("The talks were rejected; Kyiv rejects them.") == {
        "talks",
        "rejec",
        "kyiv",
        "them",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A $8.5 billion grant", {"8.5", "billi", "grant"}),  # a number stays whole
        ("1,200 troops", {"1,200", "troop"}),
        ("The U.S. and the US", {"us"}),  # a dotted abbreviation is the word
        ("U.S.-supplied missiles", {"us", "suppl", "missi"}),
        ("At 9 a.m. in the U.K.", {"9", "am", "uk"}),
        ("It ends here.", {"ends", "here"}),  # a full stop is no abbreviation
        ("They chose plan A.", {"chose", "plan"}),  # one letter before a full stop: a word
    ],
)
def test_stems_read_numbers_and_abbreviations_as_content_tokens_do(
    text: str, expected: set[str]
) -> None:
    assert stems(text) == expected
    assert stems(text) == {t[:5] for t in content_tokens(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,200,000 troops", ["1,200,000", "troops"]),  # every separator kept inside
        # dotted initials are content even where, undotted, they spell a stopword:
        # "I.T." is never the pronoun "it"
        ("The I.T. team", ["it", "team"]),
    ],
)
def test_content_tokens_keep_numbers_and_dotted_initials_whole(
    text: str, expected: list[str]
) -> None:
    assert content_tokens(text) == expected


def test_name_stems_are_the_capitalised_words_but_function_words() -> None:
    assert name_stems("Over 64.1 billion went to Dmitry Ivanov in the U.S.") == {
        "dmitr",
        "ivano",
        "us",
    }
    assert name_stems("Where did Putin speak?", first=False) == {"putin"}
    assert name_stems("Putin spoke", first=False) == set()  # the first word left out
    assert name_stems("Putin spoke") == {"putin"}


def test_a_dotted_name_in_a_value_is_found_undotted() -> None:
    assert names_in("the U.S. State Department", stems("the US state department said"))
    assert names_in("US officials", stems("officials of the U.S. said"))
    assert not names_in("the U.K. government", stems("the US government said"))
    # "I.T." is a name to find, not the pronoun "it"
    assert not names_in("the I.T. team", stems("the sales team said"))
    assert names_in("the I.T. team", stems("the I.T. team said"))


def test_as_document_takes_a_document_a_path_or_text(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("Kyiv said no.")
    doc = as_document(path)
    assert (doc.id, doc.text) == ("story", "Kyiv said no.")
    assert as_document(str(path)).id == "story"  # one line naming a file
    assert as_document(doc) is doc
    with pytest.raises(TypeError) as info:
        as_document(42)  # type: ignore[arg-type]
    assert str(info.value) == "expected a Document, a path or text, not int"
    text = as_document(f"{path}\nis not a file name")
    assert (text.id, text.text) == ("text", f"{path}\nis not a file name")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Dmitry Peskov", True),
        ("Dmitry Ivanov", False),  # an invented name
        ("Over 64.1 billion", True),  # a capitalised function word is no name
        ("an envoy spoke", True),  # lowercase words are not names
    ],
)
def test_names_are_the_capitalised_content_words(value: str, expected: bool) -> None:
    assert names_in(value, stems("Dmitry Peskov sent an envoy.")) is expected


def test_a_long_run_of_words_is_cut_into_pieces_of_192_tokens() -> None:
    # cut 8 tokens before the limit, so that a piece tokenized alone stays within it
    text = "Short one.\n\n" + "word " * 1000 + "end"
    pieces = split_sentences(text)
    assert [len(s.text.split()) for s in pieces] == [2, 192, 192, 192, 192, 192, 41]
    assert all(text[s.start : s.end] == s.text for s in pieces)


@pytest.mark.parametrize(("words", "pieces"), [(200, 1), (201, 2)])
def test_a_sentence_of_exactly_the_token_limit_stays_whole(words: int, pieces: int) -> None:
    assert len(split_sentences(" ".join(["word"] * words))) == pieces  # one token each


def test_special_token_text_is_cut_like_any_other() -> None:
    text = "<|endoftext|> " + "word " * 60  # over 200 bytes: tokenized
    assert [s.text for s in split_sentences(text)] == [text.strip()]


def test_a_document_is_called_doc_by_default() -> None:
    assert document_from_text("Kyiv said no.").id == "doc"
