"""The PDF's HTML made cheaper to lay out (reporter/render/print_text.py): break marks in long
tokens, no <bdi> around plain ASCII."""

from __future__ import annotations

from reporter.render.print_text import break_token as _break_token
from reporter.render.print_text import drop_cell_labels, for_print, unwrap_plain_bdi
from reporter.render.print_text import soft_breaks as _soft_breaks


# The mark is U+200B; written "|" here, so the expected values read.
def break_token(token: str) -> str:
    assert "|" not in token
    return _break_token(token).replace("\u200b", "|")


def soft_breaks(html: str) -> str:
    assert "|" not in html
    return _soft_breaks(html).replace("\u200b", "|")


def test_long_option_name_breaks_after_dots_and_between_camel_case_words() -> None:
    assert (break_token("VMkernel.Boot.isPerFileSchedModelActive")
            == "VMkernel.|Boot.|isPer|File|Sched|Model|Active")


def test_a_run_without_separators_breaks_every_sixteen_characters() -> None:
    assert break_token("abcdefghijklmnopqrstuvwxyz0123456789") == "abcdefghijklmnop|qrstuvwxyz012345|6789"
    assert break_token("expiry_warn_days") == "expiry_warn_days"  # snake_case stays one word


def test_entities_are_never_cut_and_no_break_at_the_ends() -> None:
    assert break_token("vc01/enterprise_plus&amp;x.") == "vc01/|enterprise_plus&amp;|x."
    assert break_token("&lt;" * 18) == "&lt;" * 16 + "|" + "&lt;" * 2


def test_only_text_outside_markup_changes() -> None:
    html = ('<style>.a-very-long-selector-name { color: red }</style><title>a.very.long.title.text</title>'
            '<p title="an.attribute.value.that.is.long">short words here, and sched.scsi0:1.throughputCap</p>')
    assert soft_breaks(html) == (
        '<style>.a-very-long-selector-name { color: red }</style><title>a.very.long.title.text</title>'
        '<p title="an.attribute.value.that.is.long">short words here, and '
        'sched.|scsi0:|1.|throughput|Cap</p>')


def test_short_tokens_words_of_prose_and_column_titles_are_left_alone() -> None:
    text = ("<td>esx01.corp.lan</td><td>2026-11-23 06:00 UTC</td><td>Headroom (GB)</td>"
            "<p>Misconfiguration, responsibilities.</p><th class='num'>virtualExecUsage</th>")
    assert soft_breaks(text) == text
    assert soft_breaks("<th>x</th><td>virtualExecUsage</td>") == "<th>x</th><td>virtual|Exec|Usage</td>"


def test_a_run_of_letters_longer_than_a_word_of_prose_is_a_name_and_breaks() -> None:
    # "vm" and 118 letters: no word of prose is that long; the paragraph and the table cell must
    # be able to wrap it. A 24-letter run is still read as a word.
    name = "vm" + "q" * 118
    assert soft_breaks(f"<p>For example, {name}, {name}…</p><td>{name}</td>") == (
        "<p>For example, " + "|".join([name[i:i + 16] for i in range(0, 120, 16)]) + ", "
        + "|".join([name[i:i + 16] for i in range(0, 112, 16)]) + "|" + name[112:] + "…</p>"
        "<td>" + "|".join([name[i:i + 16] for i in range(0, 120, 16)]) + "</td>")
    word = "(" + "internationalization" + "abcd" + "),"
    assert soft_breaks(f"<p>{word}</p>") == f"<p>{word}</p>"
    assert soft_breaks("<p>" + "a" * 25 + "</p>") == "<p>" + "a" * 16 + "|" + "a" * 9 + "</p>"


def test_plain_ascii_names_lose_their_isolation_others_keep_it() -> None:
    html = ("<td><bdi>esx01.corp.lan</bdi></td><td><bdi>&lt;b&gt;x &amp; y</bdi></td>"
            "<td><bdi>\u05d0\u05d1 vm</bdi></td><td><bdi>a\u202eb</bdi></td>"
            '<td><bdi title="long name">long…</bdi></td><td><bdi>a<b>b</b></bdi></td>')
    assert unwrap_plain_bdi(html) == (
        "<td>esx01.corp.lan</td><td>&lt;b&gt;x &amp; y</td>"
        "<td><bdi>\u05d0\u05d1 vm</bdi></td><td><bdi>a\u202eb</bdi></td>"
        '<td><bdi title="long name">long…</bdi></td><td><bdi>a<b>b</b></bdi></td>')


def test_for_print_does_both() -> None:
    assert for_print("<td><bdi>VMkernel.Boot.isPerFileSchedModelActive</bdi></td>") == (
        "<td>VMkernel.\u200bBoot.\u200bisPer\u200bFile\u200bSched\u200bModel\u200bActive</td>")


def test_cell_labels_for_the_narrow_screen_are_dropped_text_and_other_attributes_kept() -> None:
    html = ('<tr><td class="num" data-label="Share of pool (%)">0.07</td>'
            '<td data-label="VM">data-label=&#34;x&#34;</td><th data-label="kept">t</th></tr>')
    assert drop_cell_labels(html) == (
        '<tr><td class="num">0.07</td><td>data-label=&#34;x&#34;</td><th data-label="kept">t</th></tr>')
    assert for_print('<td data-label="Host">esx01</td>') == "<td>esx01</td>"
