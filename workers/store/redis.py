"""RedisStore: the fleet's job state store.

Keys (prefix ``vodfleet:``): ``job:<id>`` the record (JSON), ``jobs`` a sorted set of ids by creation
time, ``lease:<id>`` the owner (``SET NX PX``; renewed and released by compare-and-set Lua), and
``leases`` a sorted set of lease deadlines (ms) so the watchdog can find leases that lapsed.
Records change under ``WATCH``/``MULTI`` (optimistic; retried on a concurrent write).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import redis
from redis.exceptions import RedisError, WatchError

from workers.errors import JobNotFound, StoreUnavailable
from workers.jobs.state import JobRecord, JobState
from workers.store.base import Fence, lease_lost

_P = "vodfleet:"
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[2]), ARGV[3])
  return 1
end
return 0
"""
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[2]), ARGV[3])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
end
return 0
"""
_EXPIRED = """
local t = redis.call('TIME')
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', t[1] * 1000 + math.floor(t[2] / 1000))
"""
_RECLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
return redis.call('ZREM', KEYS[2], ARGV[1])
"""


def _ms(ttl: float) -> int:
    return max(1, round(ttl * 1000))


class RedisStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10,
                                           health_check_interval=30)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)
        self._expired = self._redis.register_script(_EXPIRED)
        self._reclaim = self._redis.register_script(_RECLAIM)

    def _error(self, exc: RedisError) -> StoreUnavailable:
        return StoreUnavailable(f"job store {self.url}: {exc}",
                                hint="check that Redis is reachable (VODFLEET_STORE_URL)")

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        try:
            if self._redis.set(_P + "job:" + record.job_id, record.model_dump_json(), nx=True):
                self._redis.zadd(_P + "jobs", {record.job_id: record.created})
                return record, True
        except RedisError as exc:
            raise self._error(exc) from exc
        existing = self.get(record.job_id)
        assert existing is not None
        return existing, False

    def get(self, job_id: str) -> JobRecord | None:
        try:
            text = cast("str | None", self._redis.get(_P + "job:" + job_id))
        except RedisError as exc:
            raise self._error(exc) from exc
        return JobRecord.model_validate_json(text) if text else None

    def update(self, job_id: str, change: Callable[[JobRecord], JobRecord], *, fence: Fence | None = None) -> JobRecord:
        key = _P + "job:" + job_id
        lease = None if fence is None else _P + "lease:" + fence.lease_id
        try:
            with self._redis.pipeline() as pipe:
                while True:
                    try:
                        # the lease key is watched with the record: a take-over between check and write aborts it
                        pipe.watch(key, *([lease] if lease else []))  # type: ignore[no-untyped-call]
                        text = cast("str | None", pipe.get(key))
                        if not text:
                            raise JobNotFound(f"no job {job_id}", hint="list jobs with `vodfleet jobs`")
                        if fence is not None and lease is not None:  # PX expiry: a lapsed lease has no key
                            holder = cast("str | None", pipe.get(lease))
                            if holder != fence.owner:
                                raise lease_lost(job_id, fence, holder)
                        record = change(JobRecord.model_validate_json(text))
                        pipe.multi()
                        pipe.set(key, record.model_dump_json())
                        pipe.execute()
                    except WatchError:
                        continue
                    else:
                        return record
        except RedisError as exc:
            raise self._error(exc) from exc

    def jobs(self, *, state: JobState | None = None, limit: int = 100) -> list[JobRecord]:
        records: list[JobRecord] = []
        try:
            ids = cast("list[str]", self._redis.zrevrange(_P + "jobs", 0, -1))
            for start in range(0, len(ids), 200):
                chunk = ids[start:start + 200]
                texts = cast("list[str | None]", self._redis.mget([_P + "job:" + i for i in chunk]))
                for text in texts:
                    if text:
                        record = JobRecord.model_validate_json(text)
                        if state is None or record.state is state:
                            records.append(record)
                if len(records) >= limit:
                    break
        except RedisError as exc:
            raise self._error(exc) from exc
        return records[:limit]

    def _lease(self, script: Callable[..., object], job_id: str, *args: object) -> int:
        try:
            return int(cast("int", script(keys=[_P + "lease:" + job_id, _P + "leases"], args=list(args))))
        except RedisError as exc:
            raise self._error(exc) from exc

    def acquire(self, job_id: str, owner: str, ttl: float) -> bool:
        return self._lease(self._acquire, job_id, owner, _ms(ttl), job_id) == 1

    def renew(self, job_id: str, owner: str, ttl: float) -> bool:
        return self._lease(self._renew, job_id, owner, _ms(ttl), job_id) == 1

    def release(self, job_id: str, owner: str) -> None:
        self._lease(self._release, job_id, owner, job_id)

    def expired(self) -> list[str]:
        try:
            return list(cast("list[str]", self._expired(keys=[_P + "leases"])))
        except RedisError as exc:
            raise self._error(exc) from exc

    def leases(self) -> dict[str, str]:
        """Every id in ``leases`` whose ``lease:<id>`` key still exists (its PX expiry is the truth; a lapsed
        lease stays in the sorted set until a watchdog reclaims it)."""
        try:
            ids = cast("list[str]", self._redis.zrange(_P + "leases", 0, -1))
            owners = cast("list[str | None]", self._redis.mget([_P + "lease:" + i for i in ids])) if ids else []
        except RedisError as exc:
            raise self._error(exc) from exc
        return {i: owner for i, owner in zip(ids, owners, strict=True) if owner is not None}

    def reclaim(self, job_id: str) -> bool:
        return self._lease(self._reclaim, job_id, job_id) == 1

    def close(self) -> None:
        self._redis.close()
