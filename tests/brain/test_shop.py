"""A domain that is not Formula One: a shop's customers, products, orders and order items, with a generated
semantic model only. A new CSV works after import."""

from __future__ import annotations

import pytest
from tests.brain.followups import converse
from tests.brain.helpers import has_values

from datavox.brain.brain import Brain


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many customers are there?", [4]),
        ("How many orders did Alice Martin place?", [3]),
        ("Which customer placed the most orders?", ["Alice Martin"]),
        ("How many orders were placed in 2024?", [5]),
        ("What is the total quantity of Espresso Beans sold?", [7]),
        ("List the products in the Coffee category", ["Decaf Beans", "Espresso Beans"]),
        ("What is the average price of products?", [8.1875]),
        ("Who are the customers from Lyon?", ["Alice Martin", "Chloé Dubois"]),
        ("Which city has the most customers?", ["Lyon"]),
        ("How many cancelled orders are there?", [1]),
        ("How many orders did customers from Lyon place?", [4]),
        ("What are the names and cities of customers in France?", ["Alice Martin", "Lyon"]),
        ("List the products in alphabetical order", ["Decaf Beans", "Espresso Beans"]),
        ("How many orders per customer?", ["Alice Martin", 3]),
    ],
)
def test_shop_questions(shop_brain: Brain, question: str, expected: list[object]) -> None:
    has_values(shop_brain.ask(question), *expected)


def test_shop_follow_up(shop_brain: Brain) -> None:
    _, b = converse(shop_brain, "How many orders did Alice Martin place?", "And in 2024?")
    has_values(b, 2)


def test_alphabetical_order(shop_brain: Brain) -> None:
    rows = shop_brain.ask("List the products in reverse alphabetical order").rows
    assert [r[0] for r in rows] == ["Green Tea", "Filter Papers", "Espresso Beans", "Decaf Beans"]


def test_shop_unknown_word_is_not_guessed(shop_brain: Brain) -> None:
    answer = shop_brain.ask("What is the most expensive product?")
    assert answer.sql is None and "didn't understand" in answer.answer


def test_shop_generated_model(shop_brain: Brain) -> None:
    model = shop_brain.model
    assert model.tables["customers"].entity == ["name"] and model.tables["customers"].person
    rels = {(r.from_, r.to) for r in model.relationships}
    assert ("orders.customer_id", "customers.id") in rels
    assert ("order_items.product_id", "products.id") in rels
