"""The pure core: no clock, no environment, no I/O, no SDKs; `now` is always an argument.

Modules import the standard library and each other, nothing else of ours.
"""
