"""Yiyang's pure scoring engine: definitions as data, answers in, explained results out.

Imports nothing of Flask, the database or the rest of the project; no file I/O, no clock.
"""

from .definitions import NA, Definition, Item, Level, Option, Policy, Section, Text
from .engine import (
    TOTAL_METHODS,
    Result,
    get_plan,
    load_definition_text,
    parse_definition,
    relevant_items,
    score,
    validate_answers,
)
from .errors import MESSAGES, AnswerError, DefinitionError, ScoringError
from .expressions import Expression, parse_expression
from .rules import RULES, known_rule_types, register

__all__ = [
    "MESSAGES",
    "NA",
    "RULES",
    "TOTAL_METHODS",
    "AnswerError",
    "Definition",
    "DefinitionError",
    "Expression",
    "Item",
    "Level",
    "Option",
    "Policy",
    "Result",
    "ScoringError",
    "Section",
    "Text",
    "get_plan",
    "known_rule_types",
    "load_definition_text",
    "parse_definition",
    "parse_expression",
    "register",
    "relevant_items",
    "score",
    "validate_answers",
]
