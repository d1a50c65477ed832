from collections.abc import Callable

from pystache.context import ContextStack

def context_get(stack: ContextStack, name: str) -> object: ...

class RenderEngine:
    # A method in pystache; an attribute here because callers may replace it per engine.
    fetch_string: Callable[[ContextStack, str], str]
