"""Short film reviews built from templates, labelled positive (1) or negative (0), with an honest split.

Each review praises or criticises one or two *aspects* of a film ("plot", "acting", ...) with an
*adjective* whose polarity is known ("gripping" positive, "dull" negative). Five templates decide the label:

    plain      "the plot was very gripping"                     the adjective's polarity
    negated    "the plot was not gripping"                      the opposite
    distant    "i did not think the plot was gripping"          the opposite (the "not" is four words back)
    contrast   "the plot was dull but the acting was superb"    the polarity after "but" (they differ)
    agreeing   "the plot was dull and the acting was weak"      the shared polarity

A bag of words cannot get ``negated``, ``distant`` or ``contrast`` right: the same words appear with both
labels, only their order differs. The split (``split``) holds out a random share of the
*(aspect, adjective) pairings*: a review is in the test set if any of its pairings is held out, else in
the training set. So no test review occurs in training, and each contains at least one aspect described
by an adjective never used for that aspect in training; every word and every template is seen in
training, though (real reviews would be far harder).

    reviews = reviews.generate(n, rng)                  # list of Review(words, label, template, pairs)
    train, test, held = reviews.split(reviews, rng)     # lists, and the set of held-out pairings
    ids, labels = reviews.encode(train)                 # ids (T, N) int64, left-padded with 0; labels (N,)
"""

import collections

import numpy as np

ASPECTS = ("plot", "acting", "music", "ending", "script", "cast", "pacing", "dialogue")
POSITIVE = ("good", "great", "superb", "moving", "clever", "funny", "gripping", "charming")
NEGATIVE = ("bad", "dull", "weak", "boring", "awful", "clumsy", "tedious", "flat")
INTENSIFIERS = ("very", "really", "quite", "truly")
TEMPLATES = ("plain", "negated", "distant", "contrast", "agreeing")
PAD = "<pad>"
VOCAB = (PAD, "the", "was", "not", "but", "and", "i", "did", "think", *INTENSIFIERS, *ASPECTS, *POSITIVE, *NEGATIVE)
INDEX = {word: i for i, word in enumerate(VOCAB)}

Review = collections.namedtuple("Review", "words label template pairs")


def polarity(adjective):
    """1 for an adjective of ``POSITIVE``, 0 for one of ``NEGATIVE``."""
    if adjective not in POSITIVE + NEGATIVE:
        raise ValueError(f"adjective: expected one of POSITIVE or NEGATIVE, got {adjective!r}")
    return int(adjective in POSITIVE)


def _adjective(rng, label=None):
    pool = POSITIVE + NEGATIVE if label is None else (NEGATIVE, POSITIVE)[label]
    return str(rng.choice(pool))


def _clause(rng, aspect, adjective, negate=False):
    intensifier = [str(rng.choice(INTENSIFIERS))] if rng.random() < 0.4 else []
    return ["the", aspect, "was", *(["not"] if negate else []), *intensifier, adjective]


def _review(template, rng):
    """One ``Review`` of ``template``."""
    first, second = (str(a) for a in rng.choice(ASPECTS, size=2, replace=False))
    adjective = _adjective(rng)
    label = polarity(adjective)
    if template in ("plain", "negated"):
        negate = template == "negated"
        return Review(tuple(_clause(rng, first, adjective, negate)), label ^ negate, template, ((first, adjective),))
    if template == "distant":
        return Review(("i", "did", "not", "think", "the", first, "was", adjective), 1 - label, template,
                      ((first, adjective),))
    other = _adjective(rng, 1 - label if template == "contrast" else label)
    words = (*_clause(rng, first, other), "but" if template == "contrast" else "and", *_clause(rng, second, adjective))
    return Review(words, label, template, ((first, other), (second, adjective)))


def generate(n, rng, templates=TEMPLATES):
    """``n`` distinct reviews, each of a template drawn uniformly from ``templates``, in the order drawn."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: expected a positive integer number of reviews, got {n!r}")
    unknown = set(templates) - set(TEMPLATES)
    if not templates or unknown:
        raise ValueError(f"templates: expected a non-empty selection of {TEMPLATES}, got {tuple(templates)!r}")
    seen, out, misses = set(), [], 0
    while misses < 10_000:  # that many duplicates in a row: the templates are (nearly) exhausted
        review = _review(str(rng.choice(templates)), rng)
        misses += 1
        if review.words not in seen:
            seen.add(review.words)
            out.append(review)
            misses = 0
            if len(out) == n:
                return out
    raise ValueError(f"n: expected at most the number of distinct reviews the templates can make, got {n}")


def split(reviews, rng, held_out=0.25):
    """Hold out a random share ``held_out`` of all (aspect, adjective) pairings.

    Returns ``(train, test, held)``: the reviews none of whose pairings is held out, the reviews with at
    least one held-out pairing, and the ``set`` of held-out pairings.
    """
    if not 0 < held_out < 1:
        raise ValueError(f"held_out: expected a fraction strictly between 0 and 1, got {held_out!r}")
    pairings = [(a, w) for a in ASPECTS for w in POSITIVE + NEGATIVE]
    chosen = rng.choice(len(pairings), size=round(held_out * len(pairings)), replace=False)
    held = {pairings[i] for i in chosen}
    test = [r for r in reviews if any(p in held for p in r.pairs)]
    train = [r for r in reviews if not any(p in held for p in r.pairs)]
    return train, test, held


def encode(reviews, length=None):
    """Token ids ``(T, N)`` int64, each review right-aligned (left-padded with 0, the id of ``PAD``), and
    ``labels (N,)`` int64. ``T`` is ``length`` or the longest review; a longer review raises an error."""
    longest = max(len(r.words) for r in reviews)
    T = longest if length is None else length
    if T < longest:
        raise ValueError(f"length: expected at least the longest review, {longest} words, got {length}")
    ids = np.zeros((T, len(reviews)), dtype=np.int64)
    for n, review in enumerate(reviews):
        ids[T - len(review.words):, n] = [INDEX[w] for w in review.words]
    return ids, np.array([r.label for r in reviews], dtype=np.int64)


def bag_of_words(reviews):
    """``(N, len(VOCAB))`` word counts of each review (``PAD`` never counted): what an order-blind model sees."""
    counts = np.zeros((len(reviews), len(VOCAB)))
    for n, review in enumerate(reviews):
        np.add.at(counts[n], [INDEX[w] for w in review.words], 1.0)
    return counts
