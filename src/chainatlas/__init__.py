"""chainatlas — industrial-chain atlas, enterprise mapping and regional diagnosis."""

__version__ = "0.1.0"
