"""Two (eight) answers to one survey at once, on real concurrent connections: exactly one is
accepted, the others find it answered; the subject hears of one answer (kehu/core/testing/
concurrency.py: on SQLite the committed data is copied to a file the threads share)."""

import threading

import pytest
from django.db import connections

from kehu.core.testing.concurrency import THREADS, run_threads
from kehu.core.testing.factories import make_user
from kehu.surveys import services, testing
from kehu.surveys.models import Survey
from kehu.surveys.testing import make_survey


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_answers_accept_exactly_one(shared_database):
    survey = make_survey(make_user("concurrent.manager"))
    thread_database = shared_database()
    results = {}
    lock = threading.Lock()

    def work(i):
        thread_database()
        rating = i % 5 + 1
        result = services.answer_survey(Survey.objects.get(pk=survey.pk), rating, f"answer {i}")
        with lock:
            results[i] = (result, rating)

    run_threads(work)
    state = {}

    def check():
        thread_database()
        try:
            state["row"] = Survey.objects.values("status", "rating", "comment", "answered_at").get(pk=survey.pk)
        finally:
            connections.close_all()

    t = threading.Thread(target=check)
    t.start()
    t.join()
    won = [i for i, (result, _rating) in results.items() if result == services.ANSWERED]
    assert len(results) == THREADS and len(won) == 1, results
    assert sorted(r for r, _ in results.values()) == [services.ALREADY] * (THREADS - 1) + [services.ANSWERED]
    winner = won[0]
    assert state["row"]["status"] == "answered" and state["row"]["rating"] == results[winner][1]
    assert state["row"]["comment"] == f"answer {winner}"
    assert len(testing.ANSWERS) == 1 and testing.ANSWERS[0][1:3] == (results[winner][1], f"answer {winner}")
