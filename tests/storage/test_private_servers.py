"""The test session's own Redis and PostgreSQL: reachable, fresh, and not the machine's servers."""

from __future__ import annotations

import asyncpg
import redis.asyncio as redis

from tests.servers import PostgresServer


async def test_private_redis_answers_on_its_own_port(redis_url: str) -> None:
    assert not redis_url.startswith("redis://127.0.0.1:6379/")
    client = redis.from_url(redis_url)
    try:
        assert await client.ping() is True
        await client.set("cadenza:probe", b"\x00\xff")
        assert await client.get("cadenza:probe") == b"\x00\xff"
    finally:
        await client.aclose()


async def test_private_postgres_is_a_fresh_cluster_of_our_own(postgres_service: PostgresServer) -> None:
    assert postgres_service.port != 5432
    conn = await asyncpg.connect(postgres_service.url)
    try:
        assert await conn.fetchval("SELECT current_user") == "cadenza"
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await conn.close()


async def test_each_test_can_have_its_own_postgres_database(postgres_service: PostgresServer) -> None:
    url = postgres_service.create_database("probe_own_database")
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT current_database()") == "probe_own_database"
    finally:
        await conn.close()
