"""kehu.core.memo: plan verdicts remembered for a while (a common term, a wide scope)."""

from kehu.core import memo


def test_a_memory_forgets_after_its_time_and_empties_when_full(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: now[0])
    memory = memo.TimedMemory(kept=10.0, limit=3)
    memory.remember("a")
    assert "a" in memory and "b" not in memory
    now[0] += 9.9
    assert "a" in memory
    now[0] += 0.1
    assert "a" not in memory  # kept for 10 s, not 10 s and more
    memory.remember("a")
    memory.remember("b")
    memory.remember("c")
    assert len(memory) == 3 and all(key in memory for key in "abc")
    memory.remember("d")  # full: emptied, then the new key kept
    assert len(memory) == 1 and "d" in memory and "a" not in memory
    memory.remember("e", 4.5)  # a value: given back while kept
    assert memory.get("e") == 4.5 and memory.get("f") is None
    now[0] += 10
    assert memory.get("e") is None
    memo.forget_all()
    assert len(memory) == 0 and "d" not in memory
