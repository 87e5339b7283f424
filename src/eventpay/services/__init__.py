"""Use cases. Keyword-only functions over a unit of work and the provider ports.

Services load records, ask the domain, call providers and write back; only a unit of work
commits. They never import SQLAlchemy, FastAPI or a provider SDK.
"""
