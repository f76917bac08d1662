"""Sổ cấp số: official numbers per issuer and year, gap-free and unique under concurrency.

A number is taken inside the transaction that issues the document: the series row is locked (FOR UPDATE on
PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers), its counter read and advanced, and the
document written with the number before the commit. If the issue fails, the rollback returns the number
with everything else, so the series never has a gap; the unique (series, number) constraint on documents
is the last guard against a duplicate.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import NumberSeries


def _locked(issuer_key: str, year: int) -> NumberSeries | None:
    return db.session.scalar(sa.select(NumberSeries).filter_by(issuer_key=issuer_key, year=year)
                             .with_for_update().execution_options(populate_existing=True))


def take_number(issuer_key: str, issuer_name: str, year: int) -> tuple[NumberSeries, int]:
    """The next number of the issuer's series for the year (the series is created on first use)."""
    series = _locked(issuer_key, year)
    if series is None:
        try:
            with db.session.begin_nested():
                db.session.add(NumberSeries(issuer_key=issuer_key, issuer_name=issuer_name, year=year,
                                            next_number=1))
        except IntegrityError:  # another issue created it first: take its lock instead
            pass
        series = _locked(issuer_key, year)
    number = series.next_number
    series.next_number = number + 1
    db.session.flush()
    return series, number
