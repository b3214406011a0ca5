"""The console in headless Chromium: what a person sees, kept live without a reload."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.console.conftest import ARTIFACTS, EXAMPLE, KUMO, SHOWN, ConsoleRun, run, wait_until

ROW = "#app-hello-hello"


def test_overview_shows_running_count_and_url(console: ConsoleRun, page: Page) -> None:
    page.goto(console.url)
    # The token moved into an HttpOnly cookie and out of the address bar.
    assert "token=" not in page.url
    row = page.locator(ROW)
    expect(row.locator("[data-field=count]")).to_have_text("2/2", timeout=SHOWN)
    expect(row.locator("[data-field=url]")).to_have_text("http://hello.sandbox.test")
    expect(row.locator("[data-field=health]")).to_have_text("healthy")
    # The DNS controller published the name, and the console read that from its /status.json.
    expect(row.locator(".dns-ok")).to_have_text("ok", timeout=SHOWN)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-overview.png"), full_page=True)

    page.get_by_role("link", name="hello", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("hello")
    expect(page.locator("#live-summary [data-field=count]")).to_have_text("2/2")
    expect(page.locator("#live-endpoints")).to_contain_text("elb.amazonaws.com")
    expect(page.locator("#dns-hello\\.sandbox\\.test")).to_contain_text("in sync", timeout=SHOWN)
    # Sparklines appear once the server holds two metrics samples of a Pod.
    expect(page.locator("#live-pods svg.spark").first).to_be_visible(timeout=SHOWN)
    page.screenshot(path=str(ARTIFACTS / "console-app.png"), full_page=True)

    # Keyboard: the last-lines link of a Pod shows its log.
    link = page.get_by_role("link", name=re.compile(r"^last lines of web-")).first
    link.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#logs pre.log")).to_contain_text("container web started")


def test_scale_shows_without_reload(console: ConsoleRun, page: Page) -> None:
    page.goto(console.url)
    count = page.locator(f"{ROW} [data-field=count]")
    expect(count).to_have_text("2/2", timeout=SHOWN)
    page.evaluate("window.__notReloaded = true")
    console.kubectl("-n", "hello", "scale", "deployment/web", "--replicas=3")
    expect(count).to_have_text("3/3", timeout=SHOWN)
    assert page.evaluate("window.__notReloaded") is True


def test_failing_rollout_is_red_with_reason(console: ConsoleRun, page: Page) -> None:
    page.goto(console.url)
    row = page.locator(ROW)
    expect(row.locator("[data-field=health]")).to_have_text("healthy", timeout=SHOWN)
    console.kubectl("-n", "hello", "set", "image", "deployment/web", "web=nginx:doesnotexist")
    try:
        badge = row.locator("[data-field=health]")
        expect(badge).to_have_text("failing", timeout=SHOWN)
        expect(badge).to_have_css("color", "rgb(207, 34, 46)")
        expect(row.locator("[data-field=failing]")).to_contain_text("ImagePullBackOff")
        page.locator(f"{ROW} a").first.click()
        expect(page.locator("#live-workloads tr.failing .reason")).to_contain_text("ImagePullBackOff")
    finally:
        console.kubectl("-n", "hello", "rollout", "undo", "deployment/web")
    wait_until(lambda: console.api("/api/apps/hello/hello")["health"] == "healthy", "the rollback")


def test_history_diff_between_revisions(console: ConsoleRun, page: Page, tmp_path: Path) -> None:
    spec = tmp_path / "kumo.yaml"
    spec.write_text(EXAMPLE.read_text().replace("nginx:1.27", "nginx:1.28"))
    run(KUMO, "up", str(spec), "--kubeconfig", console.kubeconfig, "--dns-timeout", "0")
    page.goto(console.url)
    page.locator(f"{ROW} a").first.click()
    page.get_by_label("From revision").select_option("1")
    page.get_by_label("to revision").select_option("2")
    page.get_by_role("button", name="Show the diff").click()
    expect(page.locator("pre.diff .del")).to_contain_text(["nginx:1.27"])
    expect(page.locator("pre.diff .add")).to_contain_text(["nginx:1.28"])


def test_nodes_and_dns_pages(console: ConsoleRun, page: Page) -> None:
    page.goto(console.url)
    page.get_by_role("link", name="Nodes", exact=True).click()
    node = page.locator("#node-kumo-node-0")
    expect(node).to_contain_text("Ready")
    # CPU used (from metrics.k8s.io) / allocatable / capacity
    expect(node).to_contain_text(re.compile(r"\d+m / \d+m / \d+m"), timeout=SHOWN)
    page.get_by_role("link", name="DNS", exact=True).click()
    expect(page.locator("#live-dns")).to_contain_text("owner kumo-sandbox, leader, healthy")
    expect(page.locator("#dns-hello\\.sandbox\\.test")).to_contain_text("in sync")
