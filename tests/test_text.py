"""rnnlib.data.text: the shipped text is found from any working directory; encoding, one-hot, streams."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnlib.data import text


def test_shipped_text_is_found_relative_to_the_module(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the project root: the path must not depend on the cwd
    body = text.load()
    assert text.DATA_DIR.is_dir() and (text.DATA_DIR / "sonnets.txt").is_file()
    assert 8000 < len(body) < 12000
    assert body.startswith("XII\n\nWhen I do count the clock that tells the time,\n")
    assert "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n" in body
    assert body.rstrip().endswith("As any she belied with false compare.")
    assert not any(line.startswith("#") for line in body.splitlines())
    assert body.isascii()
    raw = (text.DATA_DIR / "sonnets.txt").read_text(encoding="utf-8")
    assert raw.startswith("# ") and "public domain" in raw.splitlines()[0]


def test_every_sonnet_has_fourteen_lines():
    blocks = [b for b in text.load().strip().split("\n\n")]
    titles, poems = blocks[0::2], blocks[1::2]
    assert len(titles) == len(poems) == 16
    assert all(len(p.splitlines()) == 14 for p in poems)


def test_vocabulary_round_trip_and_order():
    body = text.load()
    vocab = text.Vocabulary(body)
    assert vocab.chars == sorted(set(body)) and len(vocab) == len(set(body))
    ids = vocab.encode(body)
    assert ids.dtype == np.int64 and ids.shape == (len(body),)
    assert vocab.decode(ids) == body
    assert vocab.decode(ids[:10].reshape(2, 5)) == body[:10]
    assert [vocab.chars[i] for i in vocab.encode("the")] == ["t", "h", "e"]


def test_one_hot_matches_torch(rng):
    ids = rng.integers(7, size=(4, 3))
    ours = text.one_hot(ids, 7)
    assert ours.shape == (4, 3, 7) and ours.dtype == np.float64
    assert np.array_equal(ours, F.one_hot(torch.from_numpy(ids), 7).numpy())


def test_streams_are_contiguous_pieces_side_by_side():
    ids = np.arange(23)
    s = text.streams(ids, 4)
    assert s.shape == (5, 4)
    assert np.array_equal(s[:, 0], np.arange(5)) and np.array_equal(s[:, 3], np.arange(15, 20))
    assert np.array_equal(s[1:, :], s[:-1, :] + 1)  # each column walks forward one symbol per row


def test_unigram_entropy_matches_torch_and_is_below_log_V():
    ids = text.Vocabulary(text.load()).encode(text.load())
    V = int(ids.max()) + 1
    counts = torch.bincount(torch.from_numpy(ids), minlength=V).double()
    ref = torch.distributions.Categorical(probs=counts / counts.sum()).entropy().item()
    assert abs(text.unigram_entropy(ids, V) - ref) < 1e-12
    assert text.unigram_entropy(ids, V) < math.log(V)
    assert abs(text.unigram_entropy(np.arange(8), 8) - math.log(8)) < 1e-12  # uniform: exactly ln V


def test_argument_errors_name_the_argument():
    vocab = text.Vocabulary("abc")
    with pytest.raises(ValueError, match=r"text: expected only characters of the vocabulary, got \['z'\]"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match=r"ids: expected integers in 0\.\.2"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match=r"text: expected a non-empty string"):
        text.Vocabulary("")
    with pytest.raises(ValueError, match=r"name: expected one of the shipped texts \('sonnets',\), got 'hamlet'"):
        text.load("hamlet")
    with pytest.raises(TypeError, match=r"ids: expected an integer array, got dtype float64"):
        text.one_hot(np.zeros(3), 4)
    with pytest.raises(ValueError, match=r"ids: expected values in 0\.\.3 \(V=4\), got values from 0 to 4"):
        text.one_hot(np.array([0, 4]), 4)
    with pytest.raises(ValueError, match=r"N: expected an integer from 1 to len\(ids\)=3, got 5"):
        text.streams(np.arange(3), 5)
    with pytest.raises(ValueError, match=r"ids: expected a 1-D array of symbols, got shape \(2, 2\)"):
        text.streams(np.zeros((2, 2), dtype=int), 1)
