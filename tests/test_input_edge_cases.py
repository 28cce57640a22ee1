"""Input that real collections hold and that once lost articles or stopped a run: byte-order marks,
Windows encodings, same-named files in subfolders, upper-case suffixes, hidden files, linked folders,
cut emoji, long titles."""

from __future__ import annotations

import json
import os

import pytest

from stance.io.readers import check_paths, iter_inputs
from stance.io.records import Article, InputError, InputPathError


def read(paths, **kw):
    return list(iter_inputs([str(p) for p in paths], **kw))


def test_a_byte_order_mark_is_no_error_in_csv_jsonl_or_json(tmp_path):
    """Excel's "CSV UTF-8" writes one: every CSV row was "missing 'id'", the first JSONL line malformed JSON."""
    (tmp_path / "a.csv").write_bytes("\ufeffid,text\nc1,Canada spoke.\n".encode())
    (tmp_path / "b.jsonl").write_bytes(("\ufeff" + json.dumps({"id": "j1", "text": "Mexico spoke."}) + "\n").encode())
    (tmp_path / "c.json").write_bytes(("\ufeff" + json.dumps([{"id": "k1", "text": "Chile spoke."}])).encode())
    (tmp_path / "d.txt").write_bytes("\ufeffPeru spoke today.\n".encode())
    items = read([tmp_path / n for n in ("a.csv", "b.jsonl", "c.json", "d.txt")])
    assert [type(i) for i in items] == [Article] * 4
    assert [i.id for i in items] == ["c1", "j1", "k1", "d"] and items[3].text.startswith("Peru")
    check_paths([str(tmp_path / "a.csv")], id_column="id", id_from="field")  # the header's first column is 'id'


def test_a_csv_in_another_encoding_is_read_with_encoding_and_a_bad_row_is_an_error_not_the_end(tmp_path):
    src = tmp_path / "w.csv"
    src.write_bytes("id,text\na,Montréal spoke.\nb,Québec replied.\n".encode("cp1252"))
    items = read([src])  # as UTF-8: each row with é is an error record naming its row, and the run goes on
    assert [(type(i), i.line) for i in items] == [(InputError, 2), (InputError, 3)]
    assert "try --encoding utf-8,cp1252" in items[0].reason
    assert [i.text for i in read([src], encoding="cp1252")] == ["Montréal spoke.", "Québec replied."]
    mixed = tmp_path / "m.csv"
    mixed.write_bytes(b"id,text\na,Fine.\nb,Caf\xe9 closed.\nc,Also fine.\n")
    assert [type(i).__name__ for i in read([mixed])] == ["Article", "InputError", "Article"]


def test_an_encoding_list_reads_each_file_in_the_first_encoding_that_fits(tmp_path):
    """A new user's trial: a folder of UTF-8 files and a cp1252 archive; the hint's --encoding cp1252 read the
    UTF-8 files without an error as "Macronâ€™s"."""
    (tmp_path / "u.txt").write_bytes("Macron’s plan in París was hailed.".encode())
    (tmp_path / "w.txt").write_bytes("Macron’s plan in París was hailed.".encode("cp1252"))
    (tmp_path / "w.csv").write_bytes("id,text\nc1,Québec’s plan.\n".encode("cp1252"))
    (tmp_path / "u.csv").write_bytes("id,text\nc2,Québec’s plan.\n".encode())
    got = read([tmp_path, tmp_path / "w.csv", tmp_path / "u.csv"], encoding="utf-8,cp1252")
    assert [(i.id, i.text) for i in got] == [
        ("u", "Macron’s plan in París was hailed."),
        ("w", "Macron’s plan in París was hailed."),
        ("c1", "Québec’s plan."),
        ("c2", "Québec’s plan."),
    ]
    garbled = read([tmp_path / "u.txt"], encoding="cp1252")  # why one encoding for a mixed folder is not enough
    assert garbled[0].text.startswith("Macronâ€™s")
    with pytest.raises(ValueError, match="unknown text encoding 'utf-9'"):
        read([tmp_path], encoding="utf-8,utf-9")
    assert [i.id for i in read([tmp_path / "u.txt"], encoding=" utf-8 , cp1252 ,")] == ["u"]  # spaces, a trailing comma


def test_an_encoding_list_reads_a_file_that_mixes_encodings_stretch_by_stretch(tmp_path):
    """A review of the list: a CSV of UTF-8 rows with one cp1252 row was read wholly as cp1252 ("Macronâ€™s")."""
    src = tmp_path / "m.csv"
    src.write_bytes("id,text\na,Macron’s plan.\n".encode() + b"b,Caf\xe9 closed.\n" + "c,Zürich’s vote.\n".encode())
    assert [i.text for i in read([src], encoding="utf-8,cp1252")] == ["Macron’s plan.", "Café closed.", "Zürich’s vote."]
    plain = read([src])  # UTF-8 alone: the one row is an error naming the list
    assert [type(i).__name__ for i in plain] == ["Article", "InputError", "Article"]
    assert "try --encoding utf-8,cp1252" in plain[1].reason
    txt = tmp_path / "m.txt"
    txt.write_bytes("Macron’s plan in ".encode() + b"Par\xeds was hailed.")
    assert read([txt], encoding="utf-8,cp1252")[0].text == "Macron’s plan in París was hailed."
    undefined = tmp_path / "u.csv"  # 0x81 is in neither: an error that names both, with no hint to use them
    undefined.write_bytes(b"id,text\nd,Bad \x81 byte.\n")
    [bad] = read([undefined], encoding="utf-8,cp1252")
    assert "not UTF-8 or cp1252" in bad.reason and "try" not in bad.reason
    # a review: a cp1252 "É”" is a valid two-byte UTF-8 character by accident; a cp1252 header crashed the run
    cafe = tmp_path / "c.txt"
    cafe.write_bytes("The sign read “CAFÉ” for years, locals said.".encode("cp1252"))
    assert read([cafe], encoding="utf-8,cp1252")[0].text == "The sign read “CAFÉ” for years, locals said."
    header = tmp_path / "h.csv"
    header.write_bytes("id,text,rédacteur\na,Montréal spoke today.,Hélène\n".encode("cp1252"))
    [row] = read([header], encoding="utf-8,cp1252")
    assert row.meta == {"rédacteur": "Hélène"}
    [broken] = read([header])
    assert isinstance(broken, InputError) and "header" in broken.reason


def test_a_broken_csv_row_is_an_error_record_never_a_guess(tmp_path):
    """An unquoted comma moved the text's tail into the outlet and dropped a field; a quote never closed read
    the rest of the file as one article's text: rows lost without an error record."""
    src = tmp_path / "a.csv"
    src.write_text(
        "id,text,outlet\n1,Canada spoke.,Herald\n2,Russia said, no,Herald\n3,Chile spoke.\n"
        '4,"Peru"x,Herald\n5,"Mexico spoke\nat length.",Herald\n6,Cuba spoke.,Herald\n'
    )
    items = read([src])
    assert [(type(i).__name__, i.line) for i in items] == [
        ("Article", 2), ("InputError", 3), ("InputError", 4), ("InputError", 5), ("Article", 6), ("Article", 8),
    ]  # fmt: skip
    assert "4 fields where the header has 3" in items[1].reason and "2 fields" in items[2].reason
    assert items[4].text == "Mexico spoke\nat length." and items[5].id == "6", "lines are the file's, rows go on"
    unclosed = tmp_path / "u.csv"
    unclosed.write_text('id,outlet,text\n10,Herald,"Russia left\n11,Herald,Kyiv spoke.\n12,Herald,Moscow spoke.\n')
    [error] = read([unclosed])
    assert isinstance(error, InputError) and error.line == 2 and "never closed" in error.reason and "to 4" in error.reason


def test_a_table_without_an_id_column_is_refused_before_the_run_not_row_by_row(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("headline,text\nA,Canada spoke.\n")
    with pytest.raises(InputPathError, match=r"no column 'id'.*--id-from line"):
        check_paths([str(src)], id_from="field")
    assert [i.id for i in read([src], id_from="line")] == ["t.csv:2"]


def test_same_named_files_in_two_subfolders_get_ids_of_their_own(tmp_path):
    """Before, both gave 'x.jsonl:1', and every article of the second file was a 'duplicate id' error."""
    for outlet in ("a", "b"):
        (tmp_path / "news" / outlet).mkdir(parents=True)
        (tmp_path / "news" / outlet / "x.jsonl").write_text(json.dumps({"text": f"{outlet} spoke."}) + "\n")
    assert [i.id for i in read([tmp_path / "news"])] == ["a/x.jsonl:1", "b/x.jsonl:1"]
    assert [i.id for i in read([tmp_path / "news" / "a" / "x.jsonl"])] == ["x.jsonl:1"]  # a file given itself: its name


def test_upper_case_suffixes_behave_as_lower_case(tmp_path):
    (tmp_path / "herald").mkdir()
    (tmp_path / "herald" / "0001.TXT").write_text("Canada spoke today.\n")
    [article] = read([tmp_path], outlet_from="parent")
    assert article.meta["outlet"] == "herald"
    (tmp_path / "up.CSV").write_text("id,text\n,Canada spoke.\n")  # a row with an empty id: an error, not 'up.CSV:2'
    [row] = read([tmp_path / "up.CSV"])
    assert isinstance(row, InputError) and "missing 'id'" in row.reason


def test_hidden_files_are_not_read_and_linked_folders_are_followed_once(tmp_path):
    news = tmp_path / "news"
    (news / ".ipynb_checkpoints").mkdir(parents=True)
    (news / "a.txt").write_text("Canada spoke today.\n")
    (news / "._a.txt").write_bytes(b"\x00\x05\x16\x07 mac resource fork")
    (news / ".ipynb_checkpoints" / "x-checkpoint.jsonl").write_text(json.dumps({"text": "a stale copy"}) + "\n")
    archive = tmp_path / "archive" / "ledger"
    archive.mkdir(parents=True)
    (archive / "b.txt").write_text("Mexico spoke today.\n")
    os.symlink(archive, news / "ledger")
    os.symlink(news, news / "ledger" / "loop")  # a link back up the tree does not make the scan go round
    items = read([news])
    assert [(type(i).__name__, i.id) for i in items] == [("Article", "a"), ("Article", "ledger/b")]


def test_half_a_character_and_an_overlong_title_are_error_records(tmp_path):
    """A cut emoji ("\\ud83d" alone) and a title pushing the article past --max-chars stopped the whole run."""
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "e", "text": "Fans \ud83d cheered."})
        + "\n"
        + json.dumps({"id": "t", "title": "Canada " * 20, "text": "Mexico spoke."})
        + "\n"
        + json.dumps({"id": "ok", "title": "A title", "text": "Mexico spoke."})
        + "\n"
    )
    items = read([src], max_chars=100)
    assert isinstance(items[0], InputError) and "half a character (U+D83D) at 5" in items[0].reason
    assert isinstance(items[1], InputError) and "title and text have 152 characters, over the limit of 100" in items[1].reason
    assert isinstance(items[2], Article)


def test_a_utf16_jsonl_file_is_read_not_reported_line_by_line(tmp_path):
    """PowerShell's `>` writes UTF-16 with a byte-order mark: 2 articles gave 3 errors ("invalid UTF-8")."""
    rows = [{"id": "a", "text": "Mexico spoke. \U0001f642"}, {"id": "b", "text": "Peru spoke."}]
    (tmp_path / "w.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows), encoding="utf-16")
    items = read([tmp_path / "w.jsonl"])
    assert [(type(i).__name__, i.id, i.line) for i in items] == [("Article", "a", 1), ("Article", "b", 2)]
    assert items[0].text == rows[0]["text"]


def test_a_title_that_is_no_string_is_an_error_record_not_dropped_silently(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"id": "n", "title": 7, "text": "Mexico spoke."}, {"id": "s", "title": "  Mexico speaks ", "text": "Mexico spoke."}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    error, article = read([src])
    assert isinstance(error, InputError) and "'title' is not a string (got int)" in error.reason
    assert isinstance(article, Article) and article.title == "Mexico speaks"  # stripped: the title row's offsets are into it


def test_the_actor_finder_reads_an_article_longer_than_spacys_default_limit():
    from stance.pipeline.actors import ActorFinder

    text = "Canada spoke. " + "word " * 210_000  # 1,050,014 characters: spaCy's make_doc raises E088 past 1,000,000
    [mention] = ActorFinder(use_ner=False).find(text)
    assert mention.actor == "Canada"


def test_the_python_api_reads_a_dict_as_stance_score_and_the_service_do():
    """Before, an id of None became the article 'None' and a title kept its spaces (other offsets than the service's)."""
    from stance.pipeline.scorer import to_article

    article = to_article({"id": None, "title": "  Moscow replies ", "text": "Moscow said no.", "outlet": "Wire"}, 3)
    assert (article.id, article.title, article.meta) == ("3", "Moscow replies", {"outlet": "Wire"})
    with pytest.raises(ValueError, match=r"article 1: text contains half a character"):
        to_article("Fans \ud83d cheered.", 1)
