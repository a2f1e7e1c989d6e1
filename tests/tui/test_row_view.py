"""RowView, the line-API table under the queue: only rows on screen are rendered, the cursor
moves by keys and clicks, the header stays put, and a new order never renders every row."""

from __future__ import annotations

from pathlib import Path

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.strip import Strip

import nextmv_tui.tui
from nextmv_tui.tui.widgets.row_view import RowView


class Numbers(RowView):
    def __init__(self) -> None:
        super().__init__(id="numbers")
        self.rendered: list[str] = []

    def render_row(self, key: str, width: int) -> Strip:
        self.rendered.append(key)
        return Strip([Segment(key)])

    def render_header(self, width: int) -> Strip:
        return Strip([Segment("KEY")])


class Harness(App[None]):
    CSS_PATH = str(Path(nextmv_tui.tui.__file__).with_name("app.tcss"))

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str | None]] = []

    def compose(self) -> ComposeResult:
        yield Numbers()

    def on_row_view_highlighted(self, event: RowView.Highlighted) -> None:
        self.events.append(("highlighted", event.key))

    def on_row_view_selected(self, event: RowView.Selected) -> None:
        self.events.append(("selected", event.key))

    def on_row_view_header_clicked(self, event: RowView.HeaderClicked) -> None:
        self.events.append(("header", str(event.x)))


def keys(count: int) -> list[str]:
    return [f"k{i:06d}" for i in range(count)]


async def test_a_huge_order_renders_only_the_rows_on_screen():
    app = Harness()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(Numbers)
        view.set_order(keys(50_000))
        view.focus()
        await pilot.pause()
        assert view.row_count == 50_000
        assert 0 < len(set(view.rendered)) <= 12, "a screenful, not 50,000 rows"
        lines = [strip.text for strip in (view.render_line(y) for y in range(3))]
        assert lines[0].startswith("KEY") and lines[1].startswith("k000000")
        view.rendered.clear()
        view.set_order(list(reversed(keys(50_000))))
        await pilot.pause()
        assert len(set(view.rendered)) <= 12
        assert view.index_of("k000000") == 49_999


async def test_keys_move_the_cursor_and_scroll_it_into_view():
    app = Harness()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(Numbers)
        view.set_order(keys(100))
        view.focus()
        view.move_cursor(0)
        await pilot.pause()
        await pilot.press("down", "down")
        assert view.cursor_row == 2 and view.cursor_key() == "k000002"
        await pilot.press("pagedown")
        assert view.cursor_row == 2 + view.visible_rows
        assert view.first_visible <= view.cursor_row < view.first_visible + view.visible_rows
        await pilot.press("end")
        assert view.cursor_row == 99 and view.first_visible == 100 - view.visible_rows
        await pilot.press("home")
        assert view.cursor_row == 0 and view.first_visible == 0
        await pilot.press("enter")
        await pilot.pause()
        assert ("selected", "k000000") in app.events
        moves = [key for kind, key in app.events if kind == "highlighted"]
        assert moves[:3] == ["k000000", "k000001", "k000002"], "one event per move"


async def test_a_shorter_order_clamps_the_cursor():
    app = Harness()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(Numbers)
        view.set_order(keys(30))
        view.move_cursor(25)
        view.set_order(keys(5))
        await pilot.pause()
        assert view.cursor_row == 4 and view.cursor_key() == "k000004"
        view.set_order([])
        assert view.cursor_key() is None and view.row_count == 0


async def test_the_cursor_row_alone_has_the_cursor_style():
    app = Harness()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(Numbers)
        view.set_order(keys(20))
        view.focus()
        view.move_cursor(3)
        await pilot.pause()
        backgrounds = [next(iter(view.render_line(y))).style.bgcolor for y in range(1, 9)]
        cursor = backgrounds[3]
        assert cursor is not None and backgrounds.count(cursor) == 1


async def test_clicks_move_the_cursor_select_and_hit_the_header():
    app = Harness()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(Numbers)
        view.set_order(keys(20))
        view.move_cursor(0)
        await pilot.pause()
        await pilot.click(Numbers, offset=(2, 3))
        assert view.cursor_key() == "k000002"
        await pilot.click(Numbers, offset=(2, 3))
        await pilot.click(Numbers, offset=(5, 0))
        await pilot.pause()
        assert ("selected", "k000002") in app.events
        assert ("header", "5") in app.events


async def test_forget_redraws_only_the_named_rows():
    app = Harness()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(Numbers)
        view.set_order(keys(20))
        await pilot.pause()
        view.rendered.clear()
        view.forget({"k000001"})
        await pilot.pause()
        assert view.rendered == ["k000001"]
