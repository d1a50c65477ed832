"""testrun-gateway: self-hosted LLM evaluation test runs (Freeplay-compatible REST, GraphQL)."""
