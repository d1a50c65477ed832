"""``GET /metrics``: Prometheus' text format, mounted only when ``TESTRUNS_METRICS=1``.

No API key: like ``/readyz`` it is for the operator's scraper, and it holds no data, only
counts. Expose it on a network the scraper reaches, not to the public.
"""

from fastapi import APIRouter, Response

from app import metrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
