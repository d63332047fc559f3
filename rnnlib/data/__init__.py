"""Tasks and data: synthetic long-lag tasks, the shipped text, reviews and series.

Modules: tasks, text, reviews, series.
"""
