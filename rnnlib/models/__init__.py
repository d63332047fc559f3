"""Models built from the core: the character language model, the classifier, attention,
sequence metrics, beam search, dropout, the encoder-decoder, decoders that generate.

Modules: language_model, classifier, attention, beam, sequence_metrics, dropout, seq2seq, decoding.
"""
