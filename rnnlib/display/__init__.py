"""What the reader sees: plots, widgets and their build-time frames, progress bars, glued numbers.

Modules: plots, widgets, progress, glued.
"""
