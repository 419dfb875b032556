"""Data: real samples shipped with dclm, loaders for the upstream formats, and generators.

- :mod:`dclm.data.registry`: every data set's source, licence, card and how to fetch it.
- :mod:`dclm.data.stackexchange`, :mod:`dclm.data.upworthy`, :mod:`dclm.data.mind`: loaders.
- :mod:`dclm.data.synthetic`: generators that write files in exactly the upstream formats.
"""
