"""Scoring's copy of the directory: units and officials at their newest version."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from services.scoring.documents import OfficialRecord, UnitRecord
from services.scoring.domain import subtree_of


class DirectoryRecords:
    """Reads and idempotent writes of the directory copy (part of the scoring store)."""

    def upsert_directory_record(self, kind: str, record: dict) -> bool:
        """Keep the newest version of a unit or official; older or equal ones change nothing."""
        coll = (UnitRecord if kind == "unit" else OfficialRecord)._get_collection()
        fields = {k: v for k, v in record.items() if k not in ("code", "updated_at")}
        try:
            result = coll.update_one(
                {"_id": record["code"], "version": {"$lt": record["version"]}},
                {"$set": fields}, upsert=True,
            )
        except DuplicateKeyError:
            return False
        return bool(result.modified_count or result.upserted_id)

    def official(self, code: str) -> dict | None:
        return OfficialRecord._get_collection().find_one({"_id": code})

    def unit(self, code: str) -> dict | None:
        return UnitRecord._get_collection().find_one({"_id": code})

    def officials_of(self, unit: str) -> list[dict]:
        return list(OfficialRecord._get_collection().find({"unit": unit}).sort("_id", 1))

    def children_of(self, unit: str) -> list[str]:
        return [d["_id"] for d in UnitRecord._get_collection().find(
            {"parent": unit}, {"_id": 1}).sort("_id", 1)]

    def ancestors(self, unit: str) -> list[str]:
        """The unit and the units above it."""
        out, current, seen = [], unit, set()
        coll = UnitRecord._get_collection()
        while current and current not in seen:
            seen.add(current)
            out.append(current)
            doc = coll.find_one({"_id": current}, {"parent": 1})
            current = (doc or {}).get("parent")
        return out

    def parents(self) -> dict[str, str | None]:
        """Every unit of the directory copy with its parent (None at a root)."""
        return {d["_id"]: d.get("parent")
                for d in UnitRecord._get_collection().find({}, {"parent": 1})}

    def subtree(self, unit: str) -> list[str]:
        """The unit and all units below it."""
        return subtree_of(unit, self.parents())
