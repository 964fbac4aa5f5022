"""Record numbers (kehu/core/numbering.py): declared once on the model, prefix + local date + the
day's sequence, unique under concurrency."""

import datetime
import re
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from kehu.core.models import Sequence, next_sequence
from kehu.core.numbering import Numbering, NumberingExhausted
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer
from kehu.sales.models import Opportunity

UTC = datetime.UTC


def test_the_existing_formats_are_declared():
    assert Customer.numbering == Numbering("KH") and Opportunity.numbering == Numbering("SJ")
    day = datetime.date(2026, 11, 22)
    assert Customer.numbering.format(day, 1) == "KH202611220001"
    assert Customer.numbering.sequence_key(Customer, day) == "customer:20261122"  # the keys in use
    assert Opportunity.numbering.sequence_key(Opportunity, day) == "opportunity:20261122"
    assert Numbering("HT", digits=5, date_format="%y%m").format(day, 42) == "HT261100042"


@pytest.mark.django_db
def test_records_get_consecutive_numbers_of_the_local_day(org):
    from kehu.sales.testing import make_opportunity

    today = timezone.localdate()
    made = [make_customer(org.manager) for _ in range(25)]
    assert [c.number for c in made] == [f"KH{today:%Y%m%d}{i:04d}" for i in range(1, 26)]
    assert len({c.number for c in Customer.objects.all()}) == 25
    opp = make_opportunity(org.manager, customer=made[0])
    assert re.fullmatch(rf"SJ{today:%Y%m%d}\d{{4}}", opp.number)
    number = made[0].number
    made[0].name = "改名有限公司"
    made[0].save()
    assert made[0].number == number  # an edit keeps it


@pytest.mark.django_db
def test_the_date_is_the_local_day(org, monkeypatch):
    late = datetime.datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # 07:30 on the 22nd in Shanghai
    monkeypatch.setattr(timezone, "now", lambda: late)
    with timezone.override("Asia/Shanghai"):
        assert make_customer(org.manager).number == "KH202611220001"
    with timezone.override("UTC"):
        assert make_customer(org.manager).number == "KH202611210001"


@pytest.mark.django_db
def test_a_full_day_goes_on_with_numbers_that_still_sort_in_order(org):
    """The 10,000th number of a day was DD2026112210000, which sorts before DD202611229999: the
    number-prefix search (a month's customers as an id range) then found a range that was not
    exact and fell back to a join (60-90 ms at 1M). The numbers past 9,998 now sort after it."""
    numbering = Numbering("DD", key="order")
    day = datetime.date(2026, 11, 22)
    Sequence.objects.create(key="order:20261122", value=9997)
    assert [numbering.next(Customer, day) for _ in range(3)] == [
        "DD202611229998", "DD202611229999000000", "DD202611229999000001"]
    assert numbering.next(Customer, datetime.date(2026, 11, 23)) == "DD202611230001"  # a new day starts at 1
    seqs = [1, 2, 999, 9998, 9999, 10000, 10009, 123456, 1009998]
    texts = [numbering.format(day, n) for n in seqs]
    assert sorted(texts) == texts and len(set(texts)) == len(texts)
    assert max(len(t) for t in texts) == Customer._meta.get_field("number").max_length
    with pytest.raises(NumberingExhausted):
        numbering.format(day, 1009999)
    five = Numbering("HT", digits=5, date_format="%y%m")
    assert five.format(day, 99998) == "HT261199998" and five.format(day, 99999) == "HT261199999000000"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL (SQLite has one writer)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_callers_never_share_a_number(org):
    threads, per_thread = 8, 25
    got: list[int] = []
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work(i):
        try:
            start.wait()
            values = [next_sequence("test:concurrent") for _ in range(per_thread)]
            made = [make_customer(org.manager, f"并发客户{i}-{n}") for n in range(3)]
            with lock:
                got.extend(values)
                numbers.extend(c.number for c in made)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    assert sorted(got) == list(range(1, threads * per_thread + 1))
    assert len(set(numbers)) == threads * 3
