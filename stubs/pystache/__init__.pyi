# Type stubs for the parts of pystache 0.6.8 that the project uses; pystache ships no types
# and PyPI has no stub package for it.
