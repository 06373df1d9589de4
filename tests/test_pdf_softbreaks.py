"""Break opportunities in long tokens of the PDF's HTML (reporter/render/softbreaks.py)."""

from __future__ import annotations

from reporter.render.softbreaks import break_token, soft_breaks


def test_long_option_name_breaks_after_dots_and_between_camel_case_words() -> None:
    assert (break_token("VMkernel.Boot.isPerFileSchedModelActive")
            == "VMkernel.<wbr>Boot.<wbr>isPer<wbr>File<wbr>Sched<wbr>Model<wbr>Active")


def test_a_run_without_separators_breaks_every_twelve_characters() -> None:
    assert break_token("abcdefghijklmnopqrstuvwxyz") == "abcdefghijkl<wbr>mnopqrstuvwx<wbr>yz"


def test_entities_are_never_cut_and_no_break_at_the_ends() -> None:
    assert break_token("vc01/enterprise_plus&amp;x.") == "vc01/<wbr>enterprise_<wbr>plus&amp;x."
    assert break_token("&lt;&lt;&lt;&lt;&lt;&lt;&lt;&lt;&lt;&lt;&lt;&lt;&lt;&lt;") == (
        "&lt;" * 12 + "<wbr>" + "&lt;" * 2)


def test_only_text_outside_markup_changes() -> None:
    html = ('<style>.a-very-long-selector-name { color: red }</style><title>a.very.long.title.text</title>'
            '<p title="an.attribute.value.that.is.long">short words here, and sched.scsi0:1.throughputCap</p>')
    assert soft_breaks(html) == (
        '<style>.a-very-long-selector-name { color: red }</style><title>a.very.long.title.text</title>'
        '<p title="an.attribute.value.that.is.long">short words here, and '
        'sched.<wbr>scsi0:<wbr>1.<wbr>throughput<wbr>Cap</p>')


def test_short_tokens_and_plain_text_are_left_alone() -> None:
    text = "<td>esx01.corp.lan</td><td>2026-11-23 06:00 UTC</td><td>Headroom (GB)</td>"
    assert soft_breaks(text) == text
