import json

import pytest

from stance.labels.format import LabelFileError, LabelRecord, read_label_file, write_label_file


def write_lines(path, objs):
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n")
    return path


GOOD = {
    "text": "Critics say the so-called reform failed.",
    "targets": [{"start": 16, "end": 32, "stance": "negative"}],
    "devices": [{"start": 0, "end": 11, "label": "unsourced_claim", "text": "Critics say"}],
    "source": "test",
    "doc_id": "a1",
    "outlet": "Ledger",
}


def test_round_trip(tmp_path):
    path = write_lines(tmp_path / "l.jsonl", [GOOD])
    [record] = read_label_file(path, known_devices=["unsourced_claim"])
    assert record.targets[0].stance == "negative"
    assert record.meta == {"outlet": "Ledger"}
    assert record.annotated_devices(["unsourced_claim", "scare_quotes"]) == ("unsourced_claim", "scare_quotes")
    out = tmp_path / "o.jsonl"
    write_label_file([record], out)
    [again] = read_label_file(out)
    assert again == record


def test_no_devices_key_means_not_annotated():
    record = LabelRecord.from_dict({"text": "Putin spoke.", "targets": [{"start": 0, "end": 5, "stance": "neutral"}]})
    assert record.annotated_devices(["loaded_language"]) == ()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"devices": [{"start": 0, "end": 7, "label": "made_up"}]}, "unknown device label 'made_up'"),
        ({"devices": [{"start": 0, "end": 99, "label": "unsourced_claim"}]}, "out of range"),
        ({"devices": [{"start": 0, "end": 7, "label": "unsourced_claim", "text": "Critic"}]}, "does not match"),
        ({"targets": [{"start": 0, "end": 7, "stance": "angry"}]}, "unknown stance 'angry'"),
        ({"targets": [{"start": "0", "end": 7}]}, "must be integers"),
        ({"text": ""}, "'text' is missing or empty"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, change, message):
    path = write_lines(tmp_path / "bad.jsonl", [GOOD, {**GOOD, **change}])
    with pytest.raises(LabelFileError) as err:
        list(read_label_file(path, known_devices=["unsourced_claim"]))
    assert f"{path}:2:" in str(err.value)
    assert message in str(err.value)


def test_bad_json_names_line(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [GOOD, "{not json"])
    with pytest.raises(LabelFileError, match=r"bad.jsonl:2:"):
        list(read_label_file(path))


@pytest.mark.parametrize(
    "change",
    [
        {"devices": [{"start": 0, "end": 7, "label": "made_up"}]},
        {"devices": [{"start": 0, "end": 99, "label": "unsourced_claim"}]},
        {"devices": [{"start": 0, "end": 7, "label": "unsourced_claim", "text": "Critic"}]},
        {"devices": [{"start": 0, "end": 7}]},
        {"devices": [{"start": 0, "end": 7, "label": "unsourced_claim"}], "device_labels": []},
        {"targets": [{"start": 0, "end": 7, "stance": "angry"}]},
        {"targets": [{"start": "0", "end": 7}]},
        {"targets": [{"start": 0, "end": 7}]},
        {"targets": ["Critics"]},
    ],
)
def test_validate_and_reading_apply_one_set_of_span_rules(tmp_path, change):
    """`labels validate` and reading a label file once wrote the same rules twice, message for message;
    now one function checks a span: the error reading raises is the first problem validate reports."""
    from stance.labels.check import validate_label_file

    path = write_lines(tmp_path / "bad.jsonl", [{**GOOD, **change}])
    with pytest.raises(LabelFileError) as err:
        list(read_label_file(path, known_devices=["unsourced_claim"], require_stance=True))
    problems = validate_label_file(path, known_devices=["unsourced_claim"], require_stance=True)
    assert problems, "validate passed a line that reading refuses"
    assert problems[0].message.split(" (a new device?")[0] in str(err.value)
