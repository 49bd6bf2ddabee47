"""core.workflow: a transition table refuses what it does not list, checks roles and guards,
and says which actions a user may take now."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.workflow import Context, Refusal, Workflow, clean_reason


@dataclass
class Record:
    status: str
    owner: int = 1


@dataclass
class Person:
    id: int
    roles: tuple[str, ...]

    def has_any_role(self, roles: tuple[str, ...]) -> bool:
        return bool(set(roles) & set(self.roles))


def not_owner(record: Record, user: Person, context: Context) -> Refusal | None:
    return Refusal("不能审批自己的记录。", 403, "separation_of_duties") if user.id == record.owner else None


FLOW = Workflow("demo", states={"draft": "草稿", "submitted": "已提交", "done": "完成"},
                transitions={("draft", "submit"): "submitted", ("submitted", "approve"): "done",
                             ("submitted", "return"): "draft"},
                roles={"submit": ("clerk",), "approve": ("boss",), "return": ("boss",)},
                labels={"approve": "审批"}, guards={"approve": [not_owner]},
                refusals={("*", "return"): "只能退回已提交的记录。"})


class Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def test_the_table_gives_the_next_state_and_refuses_the_rest():
    boss, clerk = Person(2, ("boss",)), Person(1, ("clerk",))
    assert FLOW.require(Record("draft"), clerk, "submit", error=Refused) == "submitted"
    with pytest.raises(Refused) as wrong_state:
        FLOW.require(Record("draft"), boss, "approve", error=Refused)
    assert wrong_state.value.refusal.status == 409 and "草稿" in str(wrong_state.value) and "审批" in str(wrong_state.value)
    with pytest.raises(Refused) as custom:
        FLOW.require(Record("done"), boss, "return", error=Refused)
    assert str(custom.value) == "只能退回已提交的记录。"
    with pytest.raises(Refused) as role:
        FLOW.require(Record("submitted"), clerk, "approve", error=Refused)
    assert role.value.refusal.status == 403
    with pytest.raises(Refused) as guard:
        FLOW.require(Record("submitted", owner=2), boss, "approve", error=Refused)
    assert guard.value.refusal.code == "separation_of_duties"


def test_allowed_lists_exactly_what_table_roles_and_guards_permit():
    boss = Person(2, ("boss",))
    assert FLOW.allowed(Record("submitted"), boss) == ["approve", "return"]
    assert FLOW.allowed(Record("submitted", owner=2), boss) == ["return"]
    assert FLOW.allowed(Record("draft"), boss) == []
    assert FLOW.allowed(Record("draft"), Person(1, ("clerk",))) == ["submit"]
    assert FLOW.edges == {("draft", "submitted"), ("submitted", "done"), ("submitted", "draft"),
                          ("draft", "draft"), ("submitted", "submitted"), ("done", "done")}


def test_a_table_with_undeclared_states_or_roleless_actions_is_refused():
    with pytest.raises(ValueError, match="states not declared"):
        Workflow("bad", states={"a": "A"}, transitions={("a", "go"): "b"}, roles={"go": ("x",)})
    with pytest.raises(ValueError, match="without roles"):
        Workflow("bad", states={"a": "A"}, transitions={("a", "go"): "a"}, roles={})


@pytest.mark.parametrize("text", ["", "   ", "\u200b", " \u200b\u200c\u200d\ufeff\u2060 ", "\t\n", None, 5])
def test_a_reason_of_nothing_visible_counts_as_missing(text):
    assert clean_reason(text) == ""


def test_a_reason_is_kept_as_typed_and_bounded():
    assert clean_reason("  第 3 项与现场不符 ") == "第 3 项与现场不符"
    assert len(clean_reason("理" * 5000)) == 1000


def test_production_tables_cover_every_declared_action_with_roles():
    from assessment.workflow import ASSESSMENT
    from rating.workflow import ACTION, CERTIFICATE, GRADE, INSPECTION

    for flow in (ASSESSMENT, INSPECTION, ACTION, GRADE, CERTIFICATE):
        assert flow.actions and all(flow.roles[a] for a in flow.actions), flow.name
    assert ASSESSMENT.next_state("signed", "return") == "draft"
    assert INSPECTION.next_state("submitted", "return") == "in_progress"
    assert INSPECTION.next_state("approved", "return") is None
