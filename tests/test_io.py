import pytest

from algharb.io import atomic_path, atomic_write, read_jsonl, read_lines, write_jsonl, write_lines


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("partial")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_directory_replaces_whole(tmp_path):
    target = tmp_path / "model"
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "a").write_text("1")
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b"]


def test_jsonl_round_trip_and_bad_line(tmp_path):
    path = tmp_path / "x.jsonl"
    assert write_jsonl(path, [{"a": "日本"}, {"b": 2}]) == 2
    assert read_jsonl(path) == [{"a": "日本"}, {"b": 2}]
    path.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(ValueError, match=r"x\.jsonl:2"):
        read_jsonl(path)


def test_lines_refuse_embedded_newlines(tmp_path):
    write_lines(tmp_path / "l.txt", ["a", "b"])
    assert read_lines(tmp_path / "l.txt") == ["a", "b"]
    with pytest.raises(ValueError, match="line 2"):
        write_lines(tmp_path / "m.txt", ["a", "b\nc"])


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\n\xff\xfe broken\n")
    with pytest.raises(ValueError, match=r"bad\.txt:2: not valid UTF-8"):
        read_lines(path)
