from pystache.common import PystacheError

class ContextStack: ...

class KeyNotFoundError(PystacheError):
    key: object
    details: str
    def __init__(self, key: object, details: str) -> None: ...
