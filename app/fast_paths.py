"""How often each fast path did its work, per process.

A fast path bypasses or overrides a library for speed (see docs/DESIGN.md, "Fast paths and
their fences"); each can be turned off by a setting, and counts here each time it actually
served something: a page of test cases projected, a SQLite statement run inline, a parsed
query reused, a REST body rendered from stored JSON, a busy route called directly, a
statement run on the driver itself. The counts are process-wide and only ever grow, so a
reader compares them before and after what it does.
"""

from collections import Counter

GRAPHQL_PROJECTION = "graphql_projection"  # a TestCaseConnection completed by a plan
SQLITE_INLINE = "sqlite_inline"  # a statement run on the event loop's thread
QUERY_CACHE = "query_cache"  # a query text served parsed and validated from the cache
FAST_JSON = "fast_json"  # a REST body (or page of one) rendered from stored JSON text
DIRECT_ROUTE = "direct_route"  # a request answered without FastAPI's request handling
DIRECT_STATEMENT = "direct_statement"  # a statement run on the driver, not SQLAlchemy's execution

used: Counter[str] = Counter()
