"""rnnlib.data.reviews: labels against a reading of each sentence, templates, the held-out split's
guarantees, encoding and word counts, argument errors."""

import collections

import numpy as np
import pytest

from rnnlib.data import reviews


def read_label(words):
    """The label a reader gives: the clause after "but" wins, "not" flips, otherwise the adjective."""
    adjectives = [w for w in words if w in reviews.POSITIVE + reviews.NEGATIVE]
    if "but" in words:
        return int(adjectives[-1] in reviews.POSITIVE)
    if "and" in words:
        assert len({a in reviews.POSITIVE for a in adjectives}) == 1  # agreeing clauses
        return int(adjectives[0] in reviews.POSITIVE)
    return int(adjectives[0] in reviews.POSITIVE) ^ ("not" in words)


@pytest.fixture(scope="module")
def many():
    return reviews.generate(3000, np.random.default_rng(11))


def test_labels_follow_the_reading_of_the_sentence(many):
    for review in many:
        assert review.label == read_label(review.words), review


def test_templates_are_what_they_say(many):
    for r in many:
        text = " ".join(r.words)
        if r.template == "distant":
            assert text.startswith("i did not think the ")
        elif r.template == "negated":
            assert r.words[3] == "not" and "but" not in r.words and "and" not in r.words
        elif r.template == "contrast":
            first, second = (reviews.polarity(a) for a in r.words if a in reviews.POSITIVE + reviews.NEGATIVE)
            assert "but" in r.words and first != second
        elif r.template == "agreeing":
            assert "and" in r.words
        else:
            assert "not" not in r.words and len(r.words) in (4, 5)
    counts = collections.Counter(r.template for r in many)
    assert set(counts) == set(reviews.TEMPLATES)
    assert counts["contrast"] > 400 and counts["agreeing"] > 400  # uniform draws, deduplicated


def test_generate_makes_distinct_reviews_and_is_seeded(many):
    assert len({r.words for r in many}) == len(many) == 3000
    again = reviews.generate(3000, np.random.default_rng(11))
    assert again == many
    assert reviews.generate(50, np.random.default_rng(12), templates=("plain",))[0].template == "plain"


def test_pairs_are_the_aspect_adjective_pairings_of_the_sentence(many):
    for r in many:
        aspects = [w for w in r.words if w in reviews.ASPECTS]
        adjectives = [w for w in r.words if w in reviews.POSITIVE + reviews.NEGATIVE]
        assert r.pairs == tuple(zip(aspects, adjectives))


def test_split_holds_out_pairings_without_overlap(many):
    train, test, held = reviews.split(many, np.random.default_rng(13), held_out=0.25)
    assert len(held) == 32 and len(train) + len(test) == len(many)
    assert not {r.words for r in train} & {r.words for r in test}
    assert all(any(p in held for p in r.pairs) for r in test)
    assert not any(p in held for r in train for p in r.pairs)
    # every word and every template still occurs in training
    assert {w for r in train for w in r.words} == set(reviews.VOCAB) - {reviews.PAD}
    assert {r.template for r in train} == set(reviews.TEMPLATES)


def test_encode_pads_on_the_left_and_round_trips(many):
    ids, labels = reviews.encode(many[:5], length=12)
    assert ids.shape == (12, 5) and ids.dtype == labels.dtype == np.int64
    for n, r in enumerate(many[:5]):
        words = [reviews.VOCAB[i] for i in ids[:, n]]
        assert words[-len(r.words):] == list(r.words)
        assert set(words[:-len(r.words)]) <= {reviews.PAD}
        assert labels[n] == r.label
    assert reviews.encode(many[:5])[0].shape[0] == max(len(r.words) for r in many[:5])


def test_bag_of_words_counts_each_word(many):
    counts = reviews.bag_of_words(many[:20])
    for n, r in enumerate(many[:20]):
        expected = collections.Counter(r.words)
        assert {reviews.VOCAB[i]: c for i, c in enumerate(counts[n]) if c} == expected


def test_a_bag_of_words_cannot_tell_a_negated_review_from_its_reverse():
    plain = reviews.Review(("the", "plot", "was", "not", "dull"), 1, "negated", (("plot", "dull"),))
    swapped = reviews.Review(("the", "plot", "was", "dull", "not"), 0, "negated", (("plot", "dull"),))
    np.testing.assert_array_equal(reviews.bag_of_words([plain]), reviews.bag_of_words([swapped]))


@pytest.mark.parametrize(("call", "match"), [
    (lambda: reviews.generate(0, np.random.default_rng(0)), r"n: expected a positive integer number of reviews, got 0"),
    (lambda: reviews.generate(5, np.random.default_rng(0), templates=("sarcastic",)),
     r"templates: expected a non-empty"),
    (lambda: reviews.generate(1000, np.random.default_rng(0), templates=("plain",)), r"n: expected at most the number"),
    (lambda: reviews.split([], np.random.default_rng(0), held_out=1.0), r"held_out: expected a fraction strictly"),
    (lambda: reviews.encode(reviews.generate(30, np.random.default_rng(0)), length=3), r"length: expected at least"),
    (lambda: reviews.polarity("okay"), r"adjective: expected one of POSITIVE or NEGATIVE, got 'okay'"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
