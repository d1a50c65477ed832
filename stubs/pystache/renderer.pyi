from collections.abc import Callable, Mapping, Sequence

from pystache.renderengine import RenderEngine

class Renderer:
    def __init__(
        self,
        file_encoding: str | None = None,
        string_encoding: str | None = None,
        decode_errors: str | None = None,
        search_dirs: str | Sequence[str] | None = None,
        file_extension: str | None = None,
        escape: Callable[[str], str] | None = None,
        partials: Mapping[str, str] | None = None,
        missing_tags: str | None = None,
    ) -> None: ...
    def render(self, template: str, *context: object, **kwargs: object) -> str: ...
    def _make_render_engine(self) -> RenderEngine: ...
