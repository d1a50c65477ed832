"""The REST API's OpenAPI document (served at ``/openapi.json``, shown by ``/docs`` and
``/redoc``): the REST models' examples as written, and the Problem schema."""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from app.api.rest import catalog_shapes, models


def install(app: FastAPI) -> None:
    """FastAPI drops every null from the OpenAPI document, examples included, and the
    contract's null keys (``"trace_test_cases": null``...) matter: put the REST models'
    examples back as they are written. Also adds the Problem schema error answers refer to."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate().setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = models.PROBLEM_SCHEMA
            shapes = {**vars(models), **vars(catalog_shapes)}.values()
            for model in shapes:
                if isinstance(model, type) and issubclass(model, BaseModel):
                    extra = model.model_config.get("json_schema_extra")
                    if (
                        isinstance(extra, dict)
                        and "examples" in extra
                        and model.__name__ in schemas
                    ):
                        schemas[model.__name__]["examples"] = extra["examples"]
        return generate()

    # FastAPI's documented way to customise the document: replace the app's openapi method.
    app.openapi = openapi  # type: ignore[method-assign]
