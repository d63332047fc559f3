"""The lessons' training runs in torch: chapter 3's decay runs, chapter 6's lab, chapter 7's
practice, time per step.

Modules: lab, practice, decay_runs, timing.
"""
