"""Templates that end: a time limit, size limits on what a template builds, no folding at
compile time, unknown filters and tests refused at save, and `eval` on a hostile prompt."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from promptyard import prompts
from promptyard.models import SimulatorHandle
from promptyard.prompts import (
    TemplateError,
    TemplateLimitError,
    TemplateTimeoutError,
    parse_prompt,
    render_limits,
)
from tests.cli import run_cli

# Each of these never finished before (or took a core for minutes).
HOSTILE_LOOPS = {
    "two nested range(100000) loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ),
    "twelve nested loops": "{% for a in range(10) %}" * 12 + "x" + "{% endfor %}" * 12,
    "loops over a list variable": (
        "{% set xs = range(100000)|list %}"
        "{% for i in xs %}{% for j in xs %}{% endfor %}{% endfor %}"
    ),
    "a macro that calls itself twice": (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    ),
}


@pytest.mark.parametrize("body", HOSTILE_LOOPS.values(), ids=HOSTILE_LOOPS.keys())
def test_rendering_stops_at_the_time_limit(body: str) -> None:
    template = parse_prompt(f"user:\n{body}\n", "hostile")
    with render_limits(timeout_s=0.2), pytest.raises(TemplateTimeoutError) as info:
        template.render()
    assert "time limit" in str(info.value) and str(info.value).startswith("hostile")


def test_time_limit_is_configurable_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTYARD_RENDER_TIMEOUT", "0.1")
    template = parse_prompt(HOSTILE_LOOPS["twelve nested loops"], "hostile")
    with pytest.raises(TemplateTimeoutError, match=r"longer than 0\.1 s"):
        template.render()
    assert prompts.default_limits().timeout_s == 0.1


# Each builds a value far past 2,000,000 characters (or items) on the way to a small
# output: the limit applies to every intermediate value, not only to what is printed.
GROWING = {
    "~ doubling": "{% set ns = namespace(s='ab') %}"
    "{% for i in range(28) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "+ doubling": "{% set ns = namespace(s='ab') %}"
    "{% for i in range(28) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
    "list + doubling": "{% set ns = namespace(l=[1]) %}"
    "{% for i in range(28) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}",
    "list extend": "{% set l = [1] %}{% for i in range(28) %}{{ l.extend(l) }}{% endfor %}",
    "* repetition": "{{ ('x' * 1000000 * 3)|length }}",
    "% width": "{{ ('%999999999d' % 1)|length }}",
    "% star width": "{{ ('%*d' % (999999999, 1))|length }}",
    "format filter": "{{ ('%999999999d'|format(1))|length }}",
    "str.format width": "{{ '{:>999999999}'.format(1)|length }}",
    "indent": "{{ ('a\\n' * 1000)|indent(100000)|length }}",
    "center": "{{ 'a'|center(999999999)|length }}",
    "str.ljust": "{{ 'a'.ljust(999999999)|length }}",
    "replace": "{{ ('a' * 1000)|replace('a', 'b' * 10000)|length }}",
    "join": "{{ (['x' * 1000000] * 100)|join|length }}",
    "batch fill": "{{ range(3)|batch(999999999, 'x')|list|length }}",
    "printing a list": "{{ ['x' * 1000000] * 100 }}",
    "block set": "{% set s %}{% for i in range(100000) %}"
    + "y" * 100
    + "{% endfor %}{% endset %}{{ s|length }}",
    "macro output": "{% macro m() %}{% for i in range(100000) %}"
    + "y" * 100
    + "{% endfor %}{% endmacro %}{{ m()|length }}",
    "** of a large base": "{{ ((9 ** 999) ** 999)|string|length }}",
    "str.translate": "{{ ('a' * 1000000).translate({97: 'xyz'})|length }}",
    "bytes repetition": "{{ ('x'.encode() * 999999999)|length }}",
    "bytes % width": "{{ ('%999999999d'.encode() % 1)|length }}",
    "int.to_bytes": "{{ (1).to_bytes(999999999, 'big')|length }}",
    "str.expandtabs": "{{ ('\t' * 1000).expandtabs(10000)|length }}",
}


@pytest.mark.parametrize("body", GROWING.values(), ids=GROWING.keys())
def test_every_intermediate_value_is_size_limited(body: str) -> None:
    with pytest.raises(TemplateLimitError, match="limit|too large") as info:
        parse_prompt(f"user:\n{body}\n", "big").render()
    assert not isinstance(info.value, TemplateTimeoutError)
    assert info.value.line == 2  # the file line of the template that builds it


def test_output_built_from_small_pieces_is_limited() -> None:
    body = "{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{{ s }}{% endfor %}"
    with pytest.raises(TemplateLimitError, match="output"):
        parse_prompt(body, "big").render()


@pytest.mark.parametrize(
    "body",
    ["{{ ((9**999)**999)**999 }}", "{{ '%999999999d' % 1 }}", "{{ 'x'|indent(999999999) }}"],
)
def test_constants_are_not_folded_at_compile_time(body: str) -> None:
    """Jinja's optimizer used to evaluate these when compiling: a hang, or a raw traceback."""
    template = parse_prompt(body, "folded")
    assert template.variables == []
    with pytest.raises(TemplateLimitError) as info:
        template.render()
    assert info.value.line == 1


def test_a_huge_number_literal_is_a_syntax_error_with_its_line() -> None:
    with pytest.raises(TemplateError, match="4,300 digits") as info:
        parse_prompt("user:\nhi\n{{ 1" + "0" * 5000 + " }}\n", "x")
    assert info.value.line == 3


def test_ordinary_templates_render_as_before() -> None:
    body = (
        "{{ 'a' ~ 'b' }} {{ '%05d' % 3 }} {{ '{:>4}'.format(7) }} {{ 2 ** 10 }}"
        " {{ [1, 2] + [3] }} {{ 'ab' * 2 }} {{ ['x', 'y']|join(',') }}"
        " {% for i in range(3) %}{{ i }}{% endfor %} {{ 'l1\\nl2'|indent(2) }}"
        " {{ 'a-b'|replace('-', '+') }} {{ 'c'|center(3) }}"
        " {% set l = [] %}{{ l.append(1) or l }} {{ 'a\tb'.expandtabs(4) }}"
        " {{ 'ab'.translate({97: 'A'}) }} {{ 'x'.encode() * 2 }}"
    )
    [message] = parse_prompt(body, "ok").render()
    assert message["content"] == (
        "ab 00003    7 1024 [1, 2, 3] abab x,y 012 l1\n  l2 a+b  c  [1] a   b Ab b'xx'"
    )


def test_loops_macros_and_filters_render_as_jinjas_own_sandbox_does() -> None:
    """Jinja's plain SandboxedEnvironment is the oracle: the guards change no output."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    body = (
        "{% for x in xs %}{{ loop.index }}/{{ loop.length }}{{ '!' if loop.last }}"
        "{{ loop.cycle('a', 'b') }}{% if loop.changed(x) %}c{% endif %} {% endfor %}"
        "{% for x in [] %}no{% else %}empty{% endfor %} "
        "{% for n in tree recursive %}[{{ n.name }}{% if n.kids %}{{ loop(n.kids) }}"
        "{% endif %}]{% endfor %} "
        "{% for k, v in d|dictsort %}{{ k }}={{ v }};{% endfor %} "
        "{% for x in xs if x > 1 %}{{ x }}{% endfor %} "
        "{% for i in range(3) %}{% for j in range(2) %}{{ loop.depth }}{{ i }}{{ j }}"
        "{% endfor %}{% endfor %} "
        "{% macro m(a) %}<{{ a }}{{ caller() if caller }}>{% endmacro %}"
        "{% call m(1) %}body{% endcall %} "
        "{% set ns = namespace(t=0) %}{% for i in range(5) %}{% set ns.t = ns.t + i %}"
        "{% endfor %}{{ ns.t }} {{ xs|map('string')|join('-') }} {{ xs|select('odd')|list }}"
        " {{ 7 // 2 }} {{ 7 / 2 }} {{ -3 % 5 }} {{ 'x' if 1 is divisibleby(1) }}"
        " {{ {'a': [1, 'b']} }} {{ 'a' ~ 1 ~ none }} {{ '%s and %r' % ('x', 'y') }}"
    )
    values = {
        "xs": [1, 2, 2, 3],
        "tree": [{"name": "a", "kids": [{"name": "b", "kids": []}]}],
        "d": {"b": 2, "a": 1},
    }
    plain = SandboxedEnvironment(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    expected = plain.from_string(body).render(values).strip("\n")
    assert parse_prompt(body, "x").render(values)[0]["content"] == expected
    assert "1/4ac 2/4bc 3/4a 4/4!bc empty [a[b]]" in expected


def test_a_value_just_under_the_limit_is_fine() -> None:
    [message] = parse_prompt("{{ 'x' * 1999999 }}", "ok").render()
    assert len(message["content"]) == 1999999


@pytest.mark.parametrize(
    ("body", "kind", "name", "line", "column", "hint"),
    [
        ("user:\nHi\n{{ name | uper }}\n", "filter", "uper", 6, 11, "upper"),
        ("user:\n{% if x is nothing %}y{% endif %}\n", "test", "nothing", 5, 12, None),
        ("user:\n{% if false %}{{ x|nosuch }}{% endif %}\n", "filter", "nosuch", 5, 20, None),
    ],
)
def test_unknown_filters_and_tests_are_refused_at_save(
    workspace: Any, body: str, kind: str, name: str, line: int, column: int, hint: str | None
) -> None:
    text = f"---\nname: typo\n---\n{body}"
    before = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=workspace.root, capture_output=True, text=True
    ).stdout
    with pytest.raises(TemplateError) as info:
        prompts.save_prompt("typo", text, "add", workspace=workspace)
    assert (info.value.line, info.value.column) == (line, column)
    assert f"unknown {kind} {name!r}" in str(info.value)
    assert f"prompts/typo.prompty line {line}, column {column}" in str(info.value)
    if hint:
        assert f"did you mean {hint!r}" in str(info.value)
    after = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=workspace.root, capture_output=True, text=True
    ).stdout
    assert before == after and not (workspace.prompts_dir / "typo.prompty").exists()
    # the editor's preview shows the same error before any save
    assert prompts.preview_prompt(text, "typo", {"x": 1}).error.column == column  # type: ignore[union-attr]


def test_unknown_filter_at_render_names_the_line_not_a_traceback() -> None:
    with pytest.raises(TemplateError, match="No filter named 'uper'") as info:
        parse_prompt("user:\nHi\n{{ x|uper }}\n", "x").render(x=1)
    assert info.value.line == 3


@pytest.mark.timeout(120)
def test_eval_on_a_hostile_prompt_ends_with_exit_2(workspace: Any, sim: SimulatorHandle) -> None:
    path = workspace.prompts_dir / "summarize.prompty"
    text = path.read_text()
    path.write_text(text + HOSTILE_LOOPS["two nested range(100000) loops"] + "\n")
    r = run_cli("eval", "summarize", home=workspace.root)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "time limit" in r.stderr and "summarize" in r.stderr
    assert "Traceback" not in r.stderr
    assert sim.calls == 0


def test_cli_save_refuses_an_unknown_filter_and_render_names_its_line(
    workspace: Any, tmp_path: Any
) -> None:
    draft = tmp_path / "typo.prompty"
    draft.write_text("---\nname: typo\n---\nuser:\n{{ text | uper }}\n")
    r = run_cli("prompt", "save", "typo", "-f", str(draft), "-m", "add", home=workspace.root)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "prompts/typo.prompty line 5, column 11: unknown filter 'uper'" in r.stderr
    assert not (workspace.prompts_dir / "typo.prompty").exists()

    # a file written past the save check fails at render with its line, not a traceback
    (workspace.prompts_dir / "typo.prompty").write_text(draft.read_text())
    r = run_cli("prompt", "render", "typo", "--var", "text=x", home=workspace.root)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "line 5" in r.stderr and "No filter named 'uper'" in r.stderr


# Texts without a tag skip Jinja; each must come out as Jinja renders it.
PLAIN = {
    "lines": "You are a precise editor.\nKeep names exactly as written.\n",
    "windows newlines": "first line\r\nsecond line\r\n\r\n",
    "old mac newlines": "one\rtwo\r",
    "leading and trailing blank lines": "\n\n  indented text  \n\n\n",
    "percent and hash signs": "100% sure # not a comment %} #}",
    "unicode": "Résumé — 要約してください ✓\n",
}


@pytest.mark.parametrize("text", PLAIN.values(), ids=PLAIN.keys())
def test_a_message_without_tags_renders_as_jinja_renders_it(text: str) -> None:
    plain = parse_prompt(f"user:\n{text}", "plain").render()
    through_jinja = parse_prompt("user:\n{{ '' }}" + text, "plain").render()
    assert plain == through_jinja


def test_a_message_without_tags_still_has_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTYARD_RENDER_MAX_CHARS", "1000")
    with pytest.raises(TemplateLimitError, match="too large") as info:
        parse_prompt("user:\n" + "x" * 1001, "big").render()
    assert str(info.value).startswith("big")
